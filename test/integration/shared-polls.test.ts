/**
 * The poll's cluster-wide questions (pending jobs due, jobs waiting for a permit, overdue slots)
 * are shared out among the live members: four instances ask them about as often as one does, and
 * pending work is still found. Memory backend, manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import { makeJob } from '../../src/testing/fixtures.js';
import { T0 } from '../helpers/setup.js';

/** A memory job store that counts the poll's per-handler questions. */
class CountingPollsJobStore extends MemoryJobStore {
  nextPendingAtCalls = 0;
  gatedCalls = 0;

  override async nextPendingAt(handlers: string[]): Promise<Date | null> {
    this.nextPendingAtCalls += 1;
    return super.nextPendingAt(handlers);
  }

  override async gatedTriggerIds(now: Date, handlers: string[], limit: number): Promise<string[]> {
    this.gatedCalls += 1;
    return super.gatedTriggerIds(now, handlers, limit);
  }
}

let running: Scheduler[] = [];
afterEach(async () => {
  for (const scheduler of running) await scheduler.stop({ graceful: false });
  running = [];
});

async function cluster(size: number, handlersOf: (i: number) => string[] = () => ['h']) {
  const clock = new ManualClock(T0);
  const triggerStore = new MemoryTriggerStore();
  const jobStore = new CountingPollsJobStore();
  const lockManager = new MemoryLockManager();
  const ran: Array<{ instance: string; job: string }> = [];
  for (let i = 0; i < size; i++) {
    const instanceId = `i${i}`;
    const scheduler = new Scheduler({ clock, triggerStore, jobStore, lockManager, instanceId, pollIntervalMs: 1000, lookaheadMs: 5000 });
    for (const name of handlersOf(i)) scheduler.register(name, (ctx) => void ran.push({ instance: instanceId, job: ctx.job.id }));
    running.push(scheduler);
    await scheduler.start();
  }
  return { clock, jobStore, ran };
}

describe('shared poll questions', () => {
  it('four instances ask for pending jobs about as often as one does', async () => {
    const one = await cluster(1);
    await one.clock.advance(1000);
    one.jobStore.nextPendingAtCalls = 0;
    one.jobStore.gatedCalls = 0;
    await one.clock.advance(20_000);
    const alone = one.jobStore.nextPendingAtCalls;
    expect(alone).toBeGreaterThanOrEqual(19);

    const four = await cluster(4);
    // The members know each other after a poll or two.
    await four.clock.advance(2000);
    four.jobStore.nextPendingAtCalls = 0;
    four.jobStore.gatedCalls = 0;
    await four.clock.advance(20_000);
    // Without sharing: 4 × 20 = 80 of each.
    expect(four.jobStore.nextPendingAtCalls).toBeLessThanOrEqual(alone + 4);
    expect(four.jobStore.gatedCalls).toBeLessThanOrEqual(alone + 4);
  });

  it('a pending job written by another process is still run within a few polls, once', async () => {
    const { clock, jobStore, ran } = await cluster(4);
    await clock.advance(2000);
    await jobStore.insert(makeJob({ id: 'p1', key: 'k-p1', runAt: new Date(T0 + 2000), scheduledFor: new Date(T0 + 2000) }));
    await clock.advance(2000);
    expect(ran.map((r) => r.job)).toEqual(['p1']);
    expect((await jobStore.get('p1'))?.status).toBe('succeeded');
  });

  it('an instance alone with its handler asks about its pending jobs at every poll', async () => {
    // i0 has 'h' and 'solo'; the others only 'h': no one else can answer for 'solo'.
    const { clock, jobStore, ran } = await cluster(4, (i) => (i === 0 ? ['h', 'solo'] : ['h']));
    await clock.advance(2000);
    await jobStore.insert(makeJob({ id: 's1', key: 'k-s1', handler: 'solo', runAt: new Date(T0 + 2000), scheduledFor: new Date(T0 + 2000) }));
    await clock.advance(1000);
    expect(ran).toEqual([{ instance: 'i0', job: 's1' }]);
  });
});
