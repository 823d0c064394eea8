/**
 * Under rendezvous ownership each instance's poll asks the store for its own ownership buckets
 * only: three instances read each due trigger about once between them, not three times, and
 * every slot still fires exactly once. Memory backend, manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import type { Trigger } from '../../src/types.js';
import { T0 } from '../helpers/setup.js';

/** A memory trigger store that counts the triggers its due queries answer, with and without buckets. */
class CountingDueTriggerStore extends MemoryTriggerStore {
  answered = { owned: 0, all: 0 };

  override async findDue(
    until: Date,
    limit: number,
    handlers: string[],
    after?: Date,
    held?: (id: string, version: number) => boolean,
    buckets?: readonly number[],
  ): Promise<Trigger[]> {
    const due = await super.findDue(until, limit, handlers, after, held, buckets);
    if (buckets === undefined) this.answered.all += due.length;
    else this.answered.owned += due.length;
    return due;
  }
}

let running: Scheduler[] = [];
afterEach(async () => {
  for (const scheduler of running) await scheduler.stop({ graceful: false });
  running = [];
});

describe('polls read their own share', () => {
  it('three instances read each due trigger about once between them, and fire each slot once', async () => {
    const clock = new ManualClock(T0);
    const triggerStore = new CountingDueTriggerStore();
    const jobStore = new MemoryJobStore();
    const lockManager = new MemoryLockManager();
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const scheduler = new Scheduler({ clock, triggerStore, jobStore, lockManager, instanceId: `i${i}`, pollIntervalMs: 1000, lookaheadMs: 5000 });
      scheduler.register('h', (ctx) => void runs.push(ctx.job.key));
      running.push(scheduler);
      await scheduler.start();
    }
    // Two polls each: every instance has seen the other two.
    await clock.advance(2000);
    for (let i = 0; i < 60; i++) await running[i % 3]!.addTrigger({ id: `t${i}`, handler: 'h', schedule: { every: 10_000 } });
    triggerStore.answered = { owned: 0, all: 0 };
    await clock.advance(60_000);
    // 60 triggers × 6 or 7 slots in the minute, each once; each entered the look-ahead window of
    // one instance's poll (plus the full reads after a change), not of three.
    const slots = runs.length;
    expect(slots).toBeGreaterThanOrEqual(60 * 6);
    expect(new Set(runs).size).toBe(slots);
    // (Slots queued by the instance that added the trigger are not read back at all.) Read by
    // all three, it would be about three per slot.
    expect(triggerStore.answered.owned).toBeGreaterThan(slots / 2);
    expect(triggerStore.answered.owned).toBeLessThan(slots * 1.3);
    // The takeover query (overdue slots, whoever owns them) still reads everything; here none are.
    expect(triggerStore.answered.all).toBe(0);
  });
});
