/**
 * What a late slot fires, by the trigger's misfire policy, and where the trigger goes next.
 */
import { nextSlotAfter } from '../schedule/index.js';
import type { Trigger } from '../types.js';

/** The slot to run a job for (`null`: none, the slots were skipped) and the trigger's next slot. */
export interface MisfirePlan {
  fireFor: Date | null;
  next: Date | null;
}

/**
 * Decide what a (possibly late) slot fires. The next slot is always derived from slots, never
 * from `now`, so every instance computes the same keys.
 *
 * @param graceMs how late a slot may be and still fire as itself (`misfireGraceMs`)
 * @param maxRuns most missed slots `run-all` replays (`maxMisfireRuns`)
 */
export function misfirePlan(trigger: Trigger, slot: Date, now: Date, graceMs: number, maxRuns: number): MisfirePlan {
  const bounds = { startAt: trigger.startAt, endAt: trigger.endAt };
  const following = nextSlotAfter(trigger.schedule, bounds, slot);
  const lateBy = now.getTime() - slot.getTime();
  if (lateBy <= graceMs) return { fireFor: slot, next: following };
  // Walk the missed slots up to now (bounded), remembering the last missed one.
  const missed: Date[] = [slot];
  let cursor = following;
  while (cursor && cursor.getTime() <= now.getTime()) {
    missed.push(cursor);
    if (missed.length > maxRuns + 1) missed.shift();
    cursor = nextSlotAfter(trigger.schedule, bounds, cursor);
  }
  switch (trigger.misfire) {
    case 'skip':
      return { fireFor: null, next: cursor };
    case 'run-once':
      return { fireFor: missed[missed.length - 1]!, next: cursor };
    case 'run-all': {
      // Keep the newest `maxRuns` missed slots: fire the oldest of them now, the rest follow.
      const keep = missed.slice(-maxRuns);
      return { fireFor: keep[0]!, next: keep[1] ?? cursor };
    }
  }
}
