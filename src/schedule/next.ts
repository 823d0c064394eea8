/**
 * Slot arithmetic shared by every scheduler instance.
 *
 * A slot after the first is always derived from the previous slot, never from the current time, so
 * that all instances compute the same slot keys (triggerId, scheduledFor) however late they run.
 */
import { InvalidTriggerConfigError, PreviewBudgetError } from '../errors.js';
import type { DateInput, NormalizedSchedule, Schedule } from '../types.js';
import { compileCron, nextCronSlot, type CompiledCron } from './cron.js';
import { describe } from './describe.js';
import { parseDuration } from './duration.js';
import { normalizeScheduleWith, parseDate } from './normalize.js';

/** Trigger-level limits on slots: none before `startAt`, none after `endAt` (both inclusive). */
export interface SlotBounds {
  /** No slot before this instant. */
  startAt: Date | null;
  /** No slot after this instant. */
  endAt: Date | null;
}

const MAX_PREVIEW = 1_000;
const DAY_MS = 86_400_000;

/**
 * How far ahead a preview of a cron schedule may look by default: 5 years. Finding a cron's fire
 * times walks the calendar synchronously, about 5 ms of CPU per year for the sparsest expressions
 * (February 29 in a zone with DST), so the horizon is what bounds a preview's work.
 */
export const DEFAULT_PREVIEW_HORIZON_MS = 5 * 366 * DAY_MS;

/**
 * The first `count` slots of `schedule` from `from`, within `bounds`, a cron schedule looking no
 * further than `horizonMs` ahead. With `strict`, a cron preview that the horizon cut short throws
 * `PreviewBudgetError`; without, it returns what the horizon holds.
 */
export function previewSlots(
  schedule: NormalizedSchedule,
  bounds: SlotBounds,
  from: Date,
  count: number,
  horizonMs: number,
  strict: boolean,
): Date[] {
  let limited = bounds;
  let horizonEnd: number | null = null;
  // Interval and one-shot slots are arithmetic; only cron walks a calendar.
  if (schedule.kind === 'cron') {
    horizonEnd = from.getTime() + horizonMs;
    if (bounds.endAt === null || bounds.endAt.getTime() > horizonEnd) limited = { startAt: bounds.startAt, endAt: new Date(horizonEnd) };
    else horizonEnd = null;
  }
  const out: Date[] = [];
  let slot = count > 0 ? firstSlot(schedule, limited, from) : null;
  while (slot !== null && out.length < count) {
    out.push(slot);
    slot = nextSlotAfter(schedule, limited, slot);
  }
  if (strict && horizonEnd !== null && out.length < count) throw new PreviewBudgetError(horizonMs, out.length, count);
  return out;
}

type CronKind = Extract<NormalizedSchedule, { kind: 'cron' }>;
type EveryKind = Extract<NormalizedSchedule, { kind: 'every' }>;

/**
 * The first slot of a trigger, i.e. its initial `nextRunAt`.
 *
 * - cron: the first slot at or after `now` (a slot exactly at `now` counts);
 * - every: `startAt`, or when that is before `now`, the first `startAt + k * every` at or after `now`
 *   (the phase stays aligned to `startAt`);
 * - at: the instant itself, even when it has passed (it is then simply due; the misfire policy
 *   decides) — `normalizeSchedule` already refuses a past `at` when a trigger is added;
 * - manual, event, after: `null`.
 *
 * No slot is before `bounds.startAt`; `null` when the first slot would be after `bounds.endAt` (or
 * the schedule's own `endAt`).
 *
 * @param schedule a normalized schedule
 * @param bounds the trigger's `startAt` / `endAt`
 * @param now current time
 */
export function firstSlot(schedule: NormalizedSchedule, bounds: SlotBounds, now: Date): Date | null {
  const earliest = Math.max(now.getTime(), bounds.startAt?.getTime() ?? Number.NEGATIVE_INFINITY);
  switch (schedule.kind) {
    case 'cron':
      return capped(cronAtOrAfter(schedule, earliest, bounds.endAt), bounds.endAt);
    case 'every':
      return capped(alignEvery(schedule, earliest), everyEnd(schedule, bounds));
    case 'at': {
      const at = schedule.at.getTime();
      if (bounds.startAt !== null && at < bounds.startAt.getTime()) return null;
      return capped(at, bounds.endAt);
    }
    case 'manual':
    case 'event':
    case 'after':
      return null;
  }
}

/**
 * The slot that follows `previous` (computed from `previous`, never from the current time).
 *
 * - cron: the next slot strictly after `previous`;
 * - every: `previous + every`;
 * - at, manual, event, after: `null`.
 *
 * Slots before `bounds.startAt` are skipped; `null` once past `bounds.endAt` (or the schedule's own
 * `endAt`).
 *
 * @param schedule a normalized schedule
 * @param bounds the trigger's `startAt` / `endAt`
 * @param previous the previous slot
 */
export function nextSlotAfter(schedule: NormalizedSchedule, bounds: SlotBounds, previous: Date): Date | null {
  const start = bounds.startAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  switch (schedule.kind) {
    case 'cron': {
      const next = nextCronSlot(compiled(schedule), previous, bounds.endAt?.getTime());
      if (next === null) return null;
      return capped(next.getTime() < start ? cronAtOrAfter(schedule, start, bounds.endAt) : next.getTime(), bounds.endAt);
    }
    case 'every': {
      const next = previous.getTime() + schedule.every;
      return capped(next < start ? alignEvery(schedule, start) : next, everyEnd(schedule, bounds));
    }
    case 'at':
    case 'manual':
    case 'event':
    case 'after':
      return null;
  }
}

/**
 * Consecutive slots after `previous` up to and including `until`, at most `limit` of them (misfire
 * handling: the slots missed while no instance could fire).
 *
 * @param schedule a normalized schedule
 * @param bounds the trigger's `startAt` / `endAt`
 * @param previous the last slot already handled (exclusive)
 * @param until inclusive upper bound
 * @param limit most slots returned
 */
export function slotsBetween(
  schedule: NormalizedSchedule,
  bounds: SlotBounds,
  previous: Date,
  until: Date,
  limit: number,
): Date[] {
  const out: Date[] = [];
  let slot = nextSlotAfter(schedule, bounds, previous);
  while (slot !== null && out.length < limit && slot.getTime() <= until.getTime()) {
    out.push(slot);
    slot = nextSlotAfter(schedule, bounds, slot);
  }
  return out;
}

/**
 * Preview the next fire times of a schedule.
 *
 * Validates the schedule like `addTrigger` does, except that an `at` in the past is allowed (it just
 * yields no fire time). Returns `[]` for manual, event and dependent schedules.
 *
 * The work is bounded: a cron schedule's fire times are looked for no further than `horizon`
 * ahead (default 5 years), and when fewer than `count` lie within it, `PreviewBudgetError`
 * (`ERR_PREVIEW_BUDGET`) says how many do. A cron whose schedule ends (its `endAt`) is not cut
 * short by its end.
 *
 * @param schedule a schedule as `addTrigger` takes it
 * @param options `from`: start of the preview, inclusive (default: now); `count`: how many, 0 to
 *   1000 (default 5); `horizon`: how far ahead a cron preview may look, a duration such as
 *   `'3650d'` or milliseconds (default 5 years)
 * @returns up to `count` instants, ascending
 * @throws InvalidTriggerConfigError when the schedule or an option is invalid
 * @throws PreviewBudgetError when fewer than `count` cron fire times lie within the horizon
 *
 * @example
 * nextFireTimes({ cron: '0 9 * * MON-FRI', timezone: 'Europe/Berlin' }, { count: 3 });
 */
export function nextFireTimes(
  schedule: Schedule,
  options: {
    /**
     * Start of the preview, inclusive.
     * @default now
     */
    from?: DateInput;
    /**
     * How many fire times, 0 to 1000.
     * @default 5
     */
    count?: number;
    /**
     * How far ahead a cron preview may look, a duration such as `'3650d'` or milliseconds.
     * @default 5 years (5 × 366 days)
     */
    horizon?: number | string;
  } = {},
): Date[] {
  const from = options.from === undefined ? new Date(Date.now()) : parseDate(options.from, 'from');
  const count = options.count ?? 5;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_PREVIEW) {
    throw new InvalidTriggerConfigError('count', `expected an integer from 0 to ${MAX_PREVIEW}, got ${describe(count)}`);
  }
  const horizonMs = options.horizon === undefined ? DEFAULT_PREVIEW_HORIZON_MS : parseDuration(options.horizon, 'horizon');
  const normalized = normalizeScheduleWith(schedule, from, 'schedule', { allowPastAt: true });
  if (normalized.kind === 'at' && normalized.at.getTime() < from.getTime()) return [];
  return previewSlots(normalized, { startAt: null, endAt: null }, from, count, horizonMs, true);
}

function compiled(schedule: CronKind): CompiledCron {
  return compileCron(schedule.cron, schedule.timezone);
}

function cronAtOrAfter(schedule: CronKind, earliest: number, endAt: Date | null): number | null {
  return nextCronSlot(compiled(schedule), new Date(earliest - 1), endAt?.getTime())?.getTime() ?? null;
}

/** First `startAt + k * every` (k >= 0) at or after `earliest`. */
function alignEvery(schedule: EveryKind, earliest: number): number {
  const base = schedule.startAt.getTime();
  if (base >= earliest) return base;
  return base + Math.ceil((earliest - base) / schedule.every) * schedule.every;
}

function everyEnd(schedule: EveryKind, bounds: SlotBounds): Date | null {
  if (schedule.endAt === null) return bounds.endAt;
  if (bounds.endAt === null) return schedule.endAt;
  return schedule.endAt.getTime() <= bounds.endAt.getTime() ? schedule.endAt : bounds.endAt;
}

function capped(slot: number | null, endAt: Date | null): Date | null {
  if (slot === null || (endAt !== null && slot > endAt.getTime())) return null;
  return new Date(slot);
}
