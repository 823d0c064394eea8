/**
 * Run windows: slots outside a window are recorded as skipped instead of running.
 *
 * A window is read on the local wall clock of its zone. The day check uses the local calendar day of
 * the instant itself, also for the after-midnight part of a range that wraps midnight: with
 * `days: ['FRI'], between: ['22:00', '06:00']`, Friday 23:00 and Friday 03:00 are inside, Saturday
 * 03:00 is not. That keeps the rule to one sentence ("on these days, between these times").
 */
import { InvalidTriggerConfigError } from '../errors.js';
import type { NormalizedTimeWindow, TimeWindow } from '../types.js';
import { asObject, describe } from './describe.js';
import { assertTimeZone, zoneOffsetMs } from './timezone.js';

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
const WINDOW_KEYS = new Set(['days', 'between', 'timezone']);
const HH_MM = /^(\d{2}):(\d{2})$/;

/**
 * Validate a window and resolve its defaults.
 *
 * `days` take names (`'MON'`, case-insensitive) or numbers 0 (Sunday) to 6 and become sorted unique
 * numbers (default: every day). `between` takes two `'HH:mm'` times from `00:00` to `24:00` (`24:00`
 * only as the end), start inclusive, end exclusive; a start later than the end wraps midnight.
 *
 * @param input the caller's window (untrusted)
 * @param defaultZone zone used when the window names none (the cron trigger's zone, else `UTC`)
 * @param field dotted path prefix named in errors
 * @throws InvalidTriggerConfigError naming the offending field, e.g. `window.between[0]`
 */
export function normalizeWindow(input: TimeWindow, defaultZone: string, field = 'window'): NormalizedTimeWindow {
  const record = asObject(input, field, WINDOW_KEYS);
  const timezone = record.timezone === undefined ? defaultZone : record.timezone;
  assertTimeZone(timezone as string, `${field}.timezone`);
  return {
    days: record.days === undefined ? [0, 1, 2, 3, 4, 5, 6] : normalizeDays(record.days, `${field}.days`),
    between: record.between === undefined || record.between === null ? null : normalizeBetween(record.between, `${field}.between`),
    timezone: timezone as string,
  };
}

function normalizeDays(value: unknown, field: string): number[] {
  if (!Array.isArray(value)) throw new InvalidTriggerConfigError(field, `expected an array of days, got ${describe(value)}`);
  if (value.length === 0) throw new InvalidTriggerConfigError(field, 'must not be empty (omit it to allow every day)');
  const days = new Set<number>();
  value.forEach((day: unknown, i) => days.add(parseDay(day, `${field}[${i}]`)));
  return [...days].sort((a, b) => a - b);
}

function parseDay(day: unknown, field: string): number {
  if (typeof day === 'number' && Number.isInteger(day) && day >= 0 && day <= 6) return day;
  if (typeof day === 'string') {
    const index = DAY_NAMES.indexOf(day.toUpperCase() as (typeof DAY_NAMES)[number]);
    if (index >= 0) return index;
  }
  throw new InvalidTriggerConfigError(field, `expected a day name (SUN..SAT) or 0..6 (0 = Sunday), got ${describe(day)}`);
}

function normalizeBetween(value: unknown, field: string): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new InvalidTriggerConfigError(field, `expected ['HH:mm', 'HH:mm'], got ${describe(value)}`);
  }
  const start = parseTimeOfDay(value[0], `${field}[0]`);
  const end = parseTimeOfDay(value[1], `${field}[1]`);
  if (start === 1440) throw new InvalidTriggerConfigError(`${field}[0]`, '24:00 is only allowed as the end of a range');
  if (start === end) {
    throw new InvalidTriggerConfigError(field, 'start and end must differ (omit between to allow the whole day)');
  }
  return [start, end];
}

function parseTimeOfDay(value: unknown, field: string): number {
  const match = typeof value === 'string' ? HH_MM.exec(value) : null;
  const hours = Number(match?.[1]);
  const minutes = Number(match?.[2]);
  if (!match || minutes > 59 || hours > 24 || (hours === 24 && minutes !== 0)) {
    throw new InvalidTriggerConfigError(field, `expected a time 'HH:mm' between 00:00 and 24:00, got ${describe(value)}`);
  }
  return hours * 60 + minutes;
}

/**
 * Whether `instant` falls inside `window`: its local day of week is allowed and its local time of day
 * is in `between` (start inclusive, end exclusive, wrapping midnight when start > end).
 *
 * @param window a window from {@link normalizeWindow}
 * @param instant the slot
 */
export function isInWindow(window: NormalizedTimeWindow, instant: Date): boolean {
  const ms = instant.getTime();
  // Shifting by the zone's offset turns the UTC getters into local wall-clock getters.
  const local = new Date(ms + zoneOffsetMs(window.timezone, ms));
  if (!window.days.includes(local.getUTCDay())) return false;
  if (window.between === null) return true;
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  const [start, end] = window.between;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}
