/**
 * Fire-time previews with their local wall-clock time and DST marks.
 *
 * Marks follow the schedule layer's DST rule (src/schedule/cron.ts):
 * - `repeated-hour`: the fire time's local time occurs twice that day (it lies within one offset
 *   change's width before or after a backward change). Fixed-time cron entries fire there once, at
 *   the first pass; wildcard entries on both.
 * - `skipped-hour`: a fixed-time cron entry fires at a forward change because one of its local
 *   times falls in the skipped interval (cronie's "fires once right after the jump").
 * Interval and one-shot schedules have no zone: they are shown in UTC, where nothing is marked.
 */
import { DateTime } from 'luxon';
import type { NormalizedSchedule, Trigger } from '../types.js';
import { DEFAULT_PREVIEW_HORIZON_MS, compileCron, nextCronSlot, previewSlots } from '../schedule/index.js';
import { lastTransition, nextTransition, type ZoneTransition } from '../schedule/transitions.js';
import type { DstMark, FirePreview } from './types.js';

const DAY_MS = 86_400_000;

/** The zone a schedule's times are shown in: the cron zone, else UTC. */
export function zoneOf(schedule: NormalizedSchedule): string {
  return schedule.kind === 'cron' ? schedule.timezone : 'UTC';
}

/** `YYYY-MM-DD HH:mm` of `at` in `zone`. */
export function localTime(at: number, zone: string): string {
  return DateTime.fromMillis(at, { zone }).toFormat('yyyy-MM-dd HH:mm');
}

function isBackward(t: ZoneTransition): boolean {
  return t.after < t.before;
}

/** Whether a cron expression matches a local time in `[fromLocal, toLocal)` (naive-local ms). */
function matchesLocally(expression: string, fromLocal: number, toLocal: number): boolean {
  // In UTC a cron is evaluated on plain wall-clock fields, which is what "naive local" means.
  const next = nextCronSlot(compileCron(expression, 'UTC'), new Date(fromLocal - 1), toLocal);
  return next !== null && next.getTime() < toLocal;
}

/** The DST mark of a fire time `at` of `schedule`. */
export function dstMark(schedule: NormalizedSchedule, at: number): DstMark | null {
  const zone = zoneOf(schedule);
  if (zone === 'UTC') return null;
  const before = lastTransition(zone, at, at - DAY_MS);
  if (before !== null) {
    if (isBackward(before) && at < before.at + (before.before - before.after)) return 'repeated-hour';
    if (
      !isBackward(before) &&
      at === before.at &&
      schedule.kind === 'cron' &&
      compileCron(schedule.cron, zone).fixedTime &&
      matchesLocally(schedule.cron, before.at + before.before, before.at + before.after)
    ) {
      return 'skipped-hour';
    }
  }
  const after = nextTransition(zone, at, at + DAY_MS);
  if (after !== null && isBackward(after) && at >= after.at - (after.before - after.after)) return 'repeated-hour';
  return null;
}

/** Previews of `slots` of `schedule`. */
export function previews(schedule: NormalizedSchedule, slots: readonly Date[]): FirePreview[] {
  const zone = zoneOf(schedule);
  return slots.map((slot) => {
    const at = slot.getTime();
    return { at: slot.toISOString(), local: localTime(at, zone), timezone: zone, dst: dstMark(schedule, at) };
  });
}

/**
 * The next `count` fire times of a stored trigger from `now`, within its bounds and the preview
 * horizon (5 years for cron). Paused triggers show where they would fire once resumed; completed
 * ones and manual, event and dependent ones have none. With `strict`, a preview the horizon cut
 * short throws `PreviewBudgetError` (a 422); without, it holds what the horizon does.
 */
export function triggerPreview(trigger: Trigger, now: Date, count: number, strict = false): FirePreview[] {
  if (trigger.status === 'completed' || count === 0) return [];
  const bounds = { startAt: trigger.startAt, endAt: trigger.endAt };
  // A one-shot whose instant passed is simply due (it fires on the next poll): still its fire time.
  const slots = previewSlots(trigger.schedule, bounds, now, count, DEFAULT_PREVIEW_HORIZON_MS, strict);
  return previews(trigger.schedule, slots);
}
