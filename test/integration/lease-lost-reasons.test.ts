/**
 * `lease:lost` says why with one of `LEASE_LOST_REASONS`. `expired` and `renewal-overdue` are
 * driven in instance-lease.test.ts and lease-renewal.test.ts; here: an end write refused by its
 * fencing token reports `fenced`, the metrics tell `fenced` from the others by the value, and
 * docs/events.md names every value.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { LEASE_LOST_REASONS, type LeaseLostEvent } from '../../src/events.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore } from '../../src/stores/memory/index.js';
import type { InstrumentKey, MetricsSink } from '../../src/telemetry/instruments.js';
import { recordEvents } from '../../src/telemetry/recorder.js';
import { eventually } from '../helpers/time.js';

const T0 = Date.UTC(2026, 6, 1, 8, 0, 0);

describe('lease:lost reasons', () => {
  it('an end write refused by the fencing token reports "fenced", and the result is not recorded', async () => {
    const clock = new ManualClock(T0);
    const jobStore = new MemoryJobStore();
    const scheduler = new Scheduler({ jobStore, clock });
    const lost: LeaseLostEvent[] = [];
    scheduler.on('lease:lost', (event) => lost.push(event));
    scheduler.register('taken', async (ctx) => {
      // Another holder takes the job over while this attempt runs: its end write must be refused.
      const token = ctx.job.lease?.token ?? 0;
      await jobStore.update(ctx.job.id, { status: ['running'] }, { lease: { owner: 'other', token: token + 1, expiresAt: new Date(T0 + 60_000) } });
      return 'mine';
    });
    try {
      await scheduler.start();
      await scheduler.addTrigger({ id: 't', handler: 'taken', schedule: { manual: true } });
      const job = await scheduler.runTrigger('t');
      await eventually(() => lost.length > 0, 5000, 'lease:lost', [clock]);
      expect(lost).toEqual([{ jobId: job.id, token: expect.any(Number) as number, reason: 'fenced' }]);
      const stored = await jobStore.get(job.id);
      expect(stored?.status).toBe('running');
      expect(stored?.result).toBeNull();
      expect(stored?.lease?.owner).toBe('other');
    } finally {
      await scheduler.stop({ graceful: false });
    }
  });

  it('the metrics count "fenced" as a refused write and the other reasons as lost leases', () => {
    const counted: InstrumentKey[] = [];
    const sink: MetricsSink = { add: (key) => counted.push(key), record: () => undefined };
    const listeners = recordEvents([sink]);
    for (const reason of LEASE_LOST_REASONS) listeners['lease:lost']?.({ jobId: 'j', token: 1, reason });
    expect(counted).toEqual(LEASE_LOST_REASONS.map((reason) => (reason === 'fenced' ? 'fencedRefused' : 'leasesLost')));
  });

  it('docs/events.md names every reason', () => {
    const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
    const row = doc.split('\n').find((line) => line.startsWith('| `lease:lost`')) ?? '';
    for (const reason of LEASE_LOST_REASONS) expect(row, reason).toContain(`\`${reason}\``);
  });
});
