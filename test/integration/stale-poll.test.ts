/**
 * A poll answer read before a claim but delivered after it must neither queue the claimed slot
 * again nor displace the successor the claim queued (which would then fire late).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import type { Trigger } from '../../src/types.js';
import { CountingTriggerStore } from '../helpers/counting-store.js';
import { T0 } from '../helpers/setup.js';

class SlowPollStore extends CountingTriggerStore {
  hold = false;
  readonly #held: Array<() => void> = [];

  override async findDue(until: Date, limit: number, handlers: string[], after?: Date): Promise<Trigger[]> {
    const answer = await super.findDue(until, limit, handlers, after);
    if (!this.hold) return answer;
    return new Promise((resolve) => this.#held.push(() => resolve(answer)));
  }

  release(): void {
    for (const resolve of this.#held.splice(0)) resolve();
  }
}

describe('stale poll answers', () => {
  it('do not re-queue a claimed slot or displace its successor', async () => {
    const clock = new ManualClock(T0);
    const triggerStore = new SlowPollStore();
    const scheduler = new Scheduler({ clock, triggerStore, pollIntervalMs: 1000, lookaheadMs: 3000 });
    const starts: number[] = [];
    scheduler.register('h', () => void starts.push(clock.now()));
    await scheduler.start();
    await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 3500) } });
    // Polls at T0 (full), +1000 and +2000 (new part of the window only), +3000 (full again).
    await clock.advance(2500);
    // The full poll at T0+3000 reads the trigger (slot T0+3500, version 1) and answers only later.
    triggerStore.hold = true;
    await clock.advance(500);
    // The slot fires meanwhile; its claim queues the successor T0+4500 (version 2).
    await clock.advance(600);
    expect(starts).toEqual([T0 + 3500]);
    triggerStore.hold = false;
    triggerStore.release();
    await clock.settle();
    await clock.advance(1900);
    // The successor fired on time, and no claim was wasted on the stale slot.
    expect(starts).toEqual([T0 + 3500, T0 + 4500, T0 + 5500]);
    expect(triggerStore.claims).toBe(3);
    await scheduler.stop();
  });
});
