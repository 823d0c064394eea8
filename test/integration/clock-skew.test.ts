/**
 * Clock skew: a backend that can measure its clock offset makes the engine compute leases on the
 * store's clock and report a skew beyond the tolerance.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { ClockSkewEvent } from '../../src/events.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore } from '../../src/stores/memory/index.js';
import { T0 } from '../helpers/setup.js';

class SkewedJobStore extends MemoryJobStore {
  constructor(readonly offsetMs: number) {
    super();
  }
  async measureClockOffset(): Promise<number> {
    return this.offsetMs;
  }
}

describe('clock skew', () => {
  it('leases use the store clock, and a skew beyond tolerance is emitted and shown in health()', async () => {
    const clock = new ManualClock(T0);
    const jobStore = new SkewedJobStore(5000);
    const scheduler = new Scheduler({ clock, jobStore, leaseMs: 30_000, clockSkewToleranceMs: 1000 });
    const skews: ClockSkewEvent[] = [];
    scheduler.on('clock:skew', (event) => skews.push(event));
    let release: () => void = () => undefined;
    scheduler.register('h', () => new Promise<void>((resolve) => (release = resolve)));
    await scheduler.start();
    expect(skews).toEqual([{ offsetMs: 5000, toleranceMs: 1000 }]);
    await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { manual: true } });
    const job = await scheduler.runTrigger('t');
    expect(job.lease?.expiresAt.getTime()).toBe(T0 + 5000 + 30_000);
    const health = await scheduler.health();
    expect(health.clockOffsetMs).toBe(5000);
    expect(health.clockSkewed).toBe(true);
    release();
    await scheduler.stop();
  });

  it('a small offset is used but not reported', async () => {
    const clock = new ManualClock(T0);
    const scheduler = new Scheduler({ clock, jobStore: new SkewedJobStore(-300), clockSkewToleranceMs: 1000 });
    let skewed = false;
    scheduler.on('clock:skew', () => (skewed = true));
    await scheduler.start();
    const health = await scheduler.health();
    expect(health.clockOffsetMs).toBe(-300);
    expect(health.clockSkewed).toBe(false);
    expect(skewed).toBe(false);
    await scheduler.stop();
  });
});
