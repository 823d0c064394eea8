/**
 * The cluster-wide chores (lease recovery, unfired dependents, purge) run once per third of a
 * lease in the whole cluster, not once per instance: the instance that did them keeps the
 * `maintenance` lock until the period is over. Three instances on shared memory stores and a
 * manual clock, counting the chores' store queries.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import type { Job } from '../../src/types.js';

const T0 = Date.UTC(2026, 6, 1, 8, 0, 0);

/** A job store that counts the recovery queries and can fail them. */
class CountingJobStore extends MemoryJobStore {
  recoveryScans = 0;
  failing = false;
  /** Clock time each recovery query takes (a store that scans a big collection for it). */
  scanMs = 0;
  clock: ManualClock | null = null;
  override async findExpiredLeases(now: Date, limit: number): Promise<Job[]> {
    this.recoveryScans += 1;
    if (this.scanMs > 0) await new Promise<void>((resolve) => this.clock!.setTimer(resolve, this.scanMs));
    if (this.failing) throw new Error('store down');
    return super.findExpiredLeases(now, limit);
  }
}

async function cluster(size: number): Promise<{ clock: ManualClock; jobStore: CountingJobStore; lockManager: MemoryLockManager; stop: () => Promise<void> }> {
  const clock = new ManualClock(T0);
  const jobStore = new CountingJobStore();
  jobStore.clock = clock;
  const triggerStore = new MemoryTriggerStore();
  const lockManager = new MemoryLockManager();
  const schedulers = Array.from({ length: size }, (_, i) => new Scheduler({ jobStore, triggerStore, lockManager, clock, instanceId: `i${i}`, leaseMs: 3000, pollIntervalMs: 200 }));
  for (const s of schedulers) s.on('error', () => undefined);
  for (const s of schedulers) await s.start();
  return { clock, jobStore, lockManager, stop: async () => void (await Promise.all(schedulers.map((s) => s.stop()))) };
}

describe('maintenance period', () => {
  it('three instances do the chores once per third of a lease between them, not once each', async () => {
    const { clock, jobStore, lockManager, stop } = await cluster(3);
    const before = jobStore.recoveryScans;
    await clock.advance(10_000);
    const scans = jobStore.recoveryScans - before;
    // 10 s / 1 s period: about ten runs; once per instance would be about thirty.
    expect(scans).toBeGreaterThanOrEqual(9);
    expect(scans).toBeLessThanOrEqual(12);
    // The lock is held (by whoever ran last) until its period ends, then free.
    const holder = await lockManager.holders('maintenance', new Date(clock.now()));
    expect(holder).toHaveLength(1);
    await stop();
  });

  it('a slow pass spaces the next ones out: the chores take at most a tenth of the time, passes at most a lease apart', async () => {
    const { clock, jobStore, stop } = await cluster(3);
    await clock.advance(2000);
    // 400 ms per pass: a tenth of the time means 4 s apart, capped at the lease (3 s).
    jobStore.scanMs = 400;
    await clock.advance(3500);
    const before = jobStore.recoveryScans;
    await clock.advance(30_000);
    const passes = jobStore.recoveryScans - before;
    expect(passes).toBeGreaterThanOrEqual(9);
    expect(passes).toBeLessThanOrEqual(11);
    // Quick again: back to a third of the lease once a quick pass was measured.
    jobStore.scanMs = 0;
    await clock.advance(4000);
    const quick = jobStore.recoveryScans;
    await clock.advance(10_000);
    expect(jobStore.recoveryScans - quick).toBeGreaterThanOrEqual(9);
    await stop();
  });

  it('after a failed run the lock is released at once, so another instance tries again within a poll or two', async () => {
    const { clock, jobStore, stop } = await cluster(3);
    await clock.advance(1500);
    jobStore.failing = true;
    const before = jobStore.recoveryScans;
    await clock.advance(1000);
    // Each failed run hands the lock back: the other instances try within the same period.
    expect(jobStore.recoveryScans - before).toBeGreaterThanOrEqual(3);
    jobStore.failing = false;
    await stop();
  });
});
