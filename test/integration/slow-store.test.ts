/**
 * A store that answers one instance slowly (issue 17): every call of that instance takes 2 s of
 * clock time, at most 8 on their way at once (a driver's connection pool), while it holds ~75
 * jobs of 12 s that ignore their signal. Its jobs keep their leases: one instance-lease renewal
 * per interval, not one per job (with a renewal per job, 86 renewals queue behind each other and
 * leases run out 6 s in), and the ends that settle while a batch of ends is being written wait
 * for it (one call each would queue 71 writes ahead of the renewal, and the jobs would be taken
 * over and run again). It takes less new work while slow (`overload:started`,
 * `health().overload`) and work up to `concurrency` again once the store is quick
 * (`overload:ended`); no job is lost, none runs twice. Memory backend, manual clock.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import { T0 } from '../helpers/setup.js';
import { StoreTap } from '../helpers/store-tap.js';

/** The first wave, due at `SLOT` while the store is quick for everyone; the second while it is slow for one. */
const FIRST = 150;
const SECOND = 100;
const SLOT = T0 + 3000;
const JOBS = FIRST + SECOND;

describe('a store that answers one instance slowly', () => {
  it('no live job loses its lease, no job runs twice, the slow instance takes less work while slow and all again once quick', async () => {
    const clock = new ManualClock(T0);
    const triggerStore = new MemoryTriggerStore();
    const jobStore = new MemoryJobStore();
    const lockManager = new MemoryLockManager();
    const tap = new StoreTap(clock);
    const common = { clock, leaseMs: 5000, pollIntervalMs: 500, lookaheadMs: 2000, concurrency: 100 };
    const fast = new Scheduler({ ...common, triggerStore, jobStore, lockManager, instanceId: 'fast' });
    const slow = new Scheduler({
      ...common,
      triggerStore: tap.wrap(triggerStore, 'triggerStore'),
      jobStore: tap.wrap(jobStore, 'jobStore'),
      lockManager: tap.wrap(lockManager, 'lockManager'),
      instanceId: 'slow',
    });
    const runs = new Map<string, number>();
    const ranOn = new Map<string, number>();
    let lost = 0;
    const overload: string[] = [];
    for (const s of [fast, slow]) {
      // Each job writes its row, then works 12 s, ignoring its signal.
      s.register('work', (ctx) => {
        runs.set(ctx.job.triggerId, (runs.get(ctx.job.triggerId) ?? 0) + 1);
        ranOn.set(s.instanceId, (ranOn.get(s.instanceId) ?? 0) + 1);
        return new Promise<void>((resolve) => clock.setTimer(resolve, 12_000));
      });
      s.register('quick', () => undefined);
      s.on('lease:lost', () => (lost += 1));
      s.on('error', () => undefined);
    }
    slow.on('overload:started', (event) => overload.push(`started: ${event.reason}`));
    slow.on('overload:ended', () => overload.push('ended'));
    await fast.start();
    await slow.start();
    for (let i = 0; i < FIRST; i++) await fast.addTrigger({ id: `t${i}`, handler: 'work', schedule: { at: new Date(SLOT) } });
    for (let i = 0; i < SECOND; i++) await fast.addTrigger({ id: `s${i}`, handler: 'work', schedule: { at: new Date(SLOT + 6000) } });
    await clock.advance(SLOT - T0 + 500);
    const heldBySlow = (await jobStore.list({ status: 'running', limit: 1000 })).items.filter((job) => job.lease?.owner === 'slow').length;
    expect(heldBySlow).toBeGreaterThan(30);
    // The store turns slow for one instance while it holds its jobs.
    tap.delayMs = 2000;
    tap.poolSize = 8;
    await clock.advance(7500);
    // health() pings the stores and reads the cluster's figures: 2 s of clock time per call on the
    // slow instance, some of them one after another, so the clock moves on until it answers.
    let health: Awaited<ReturnType<Scheduler['health']>> | undefined;
    void slow.health().then((answer) => (health = answer));
    for (let step = 0; health === undefined && step < 40; step++) await clock.advance(500);
    if (health === undefined) throw new Error('health() of the slow instance did not answer within 20 s of clock time');
    expect(health.overload?.limit).toBeLessThan(100);
    expect(health.overload?.reason).toMatch(/store round trips of \d+ ms, above the 500 ms target/);
    expect(overload[0]).toMatch(/^started: /);
    await clock.advance(30_000);
    // Every job ran once and succeeded; no lease was lost anywhere.
    const jobs = (await jobStore.list({ limit: 1000 })).items;
    expect(jobs).toHaveLength(JOBS);
    expect(jobs.filter((job) => job.status === 'succeeded')).toHaveLength(JOBS);
    expect(jobs.filter((job) => job.stalls > 0)).toEqual([]);
    expect(runs.size).toBe(JOBS);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(lost).toBe(0);
    // The slow instance took some of the work, the fast one most of it.
    expect(ranOn.get('slow') ?? 0).toBeGreaterThan(0);
    expect(ranOn.get('fast') ?? 0).toBeGreaterThan(ranOn.get('slow') ?? 0);
    // Quick again: the limit grows back to `concurrency` and the overload ends.
    tap.delayMs = 0;
    for (let i = 0; i < 20; i++) await slow.addTrigger({ id: `u${i}`, handler: 'quick', schedule: { every: 1000 } });
    await clock.advance(20_000);
    expect(overload.at(-1)).toBe('ended');
    expect((await slow.health()).overload).toBeNull();
    await fast.stop({ graceful: false });
    await slow.stop({ graceful: false });
  }, 60_000);
});
