/**
 * Validation of schedules, ids and dates coming from untrusted JS callers.
 *
 * Everything that ends up in a store is checked here, including the operator-injection guards for the
 * MongoDB backend: ids and filter keys cannot carry `$` or `.`, and filter values are primitives, so
 * no caller-supplied value can be read as a query operator or a nested path.
 */
import { DateTime } from 'luxon';
import { InvalidTriggerConfigError } from '../errors.js';
import type { DependencyCondition, JsonPrimitive, NormalizedSchedule } from '../types.js';
import { compileCron } from './cron.js';
import { describe } from './describe.js';
import { nameProblem } from '../util/names.js';
import { parseDuration } from './duration.js';
import { assertTimeZone } from './timezone.js';

const KIND_KEYS = {
  cron: ['cron', 'timezone'],
  every: ['every', 'startAt', 'endAt'],
  at: ['at'],
  manual: ['manual'],
  event: ['event', 'filter'],
  after: ['after', 'on'],
} as const;
type Kind = keyof typeof KIND_KEYS;
const KINDS = Object.keys(KIND_KEYS) as Kind[];

const MAX_NAME_LENGTH = 200;

/**
 * Shortest `every` interval, in ms. Each slot costs a few store writes (the job's insert, the
 * trigger's advance, the end) on every backend, and cron's own resolution is one second: an
 * interval below it turns one trigger into hundreds of jobs a second (`every: 1` made about 660),
 * which is a typo far more often than a wish. Work that must run more often belongs in the
 * handler (a loop), not in the schedule.
 */
export const MIN_EVERY_MS = 1000;
const CONDITIONS: readonly DependencyCondition[] = ['success', 'failure', 'completion'];
const ISO_DATE = /^[+-]?\d{4,6}-\d{2}-\d{2}(?:T\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** @internal Options of {@link normalizeScheduleWith}. */
export interface NormalizeOptions {
  /** Accept an `at` before `now` (previews); adding a trigger must not. */
  allowPastAt: boolean;
}

/**
 * Validate a caller's schedule and resolve its defaults.
 *
 * Exactly one of `cron`, `every`, `at`, `manual`, `event`, `after` must be given, with only the keys
 * that belong to it (keys whose value is `undefined` count as absent). `every.startAt` defaults to
 * `now`; `at` must not be before `now`.
 *
 * @param input the caller's schedule (untrusted)
 * @param now current time
 * @param field dotted path prefix named in errors
 * @throws InvalidTriggerConfigError naming the offending field
 */
export function normalizeSchedule(input: unknown, now: Date, field = 'schedule'): NormalizedSchedule {
  return normalizeScheduleWith(input, now, field, { allowPastAt: false });
}

/** @internal {@link normalizeSchedule} with options. */
export function normalizeScheduleWith(
  input: unknown,
  now: Date,
  field: string,
  options: NormalizeOptions,
): NormalizedSchedule {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || input instanceof Date) {
    throw new InvalidTriggerConfigError(field, `expected a schedule object, got ${describe(input)}`);
  }
  const record = input as Record<string, unknown>;
  const present = Object.keys(record).filter((k) => record[k] !== undefined);
  const kinds = KINDS.filter((k) => present.includes(k));
  const kind = kinds[0];
  if (kind === undefined || kinds.length > 1) {
    const found = kinds.length > 1 ? ` (got ${kinds.join(', ')})` : '';
    throw new InvalidTriggerConfigError(field, `expected exactly one of ${KINDS.join(', ')}${found}`);
  }
  const allowed: readonly string[] = KIND_KEYS[kind];
  const extra = present.filter((k) => !allowed.includes(k));
  if (extra.length > 0) {
    throw new InvalidTriggerConfigError(
      field,
      `unknown ${extra.length === 1 ? 'key' : 'keys'} ${extra.map((k) => `"${k}"`).join(', ')} for a ${kind} schedule (expected ${allowed.join(', ')})`,
    );
  }
  switch (kind) {
    case 'cron':
      return cronSchedule(record, field);
    case 'every':
      return everySchedule(record, now, field);
    case 'at': {
      const at = parseDate(record.at, `${field}.at`);
      if (!options.allowPastAt && at.getTime() < now.getTime()) {
        throw new InvalidTriggerConfigError(`${field}.at`, `is in the past (${at.toISOString()} < ${now.toISOString()})`);
      }
      return { kind: 'at', at };
    }
    case 'manual':
      if (record.manual !== true) {
        throw new InvalidTriggerConfigError(`${field}.manual`, `must be true, got ${describe(record.manual)}`);
      }
      return { kind: 'manual' };
    case 'event':
      return {
        kind: 'event',
        event: assertEventName(record.event, `${field}.event`),
        filter: record.filter === undefined ? {} : normalizeFilter(record.filter, `${field}.filter`),
      };
    case 'after':
      return { kind: 'after', after: assertId(record.after, `${field}.after`), on: condition(record.on, `${field}.on`) };
  }
}

function cronSchedule(input: Record<string, unknown>, field: string): NormalizedSchedule {
  const timezone = input.timezone === undefined ? 'UTC' : input.timezone;
  // Checked before the expression so that a bad zone is reported on its own field.
  assertTimeZone(timezone as string, `${field}.timezone`);
  const compiled = compileCron(input.cron as string, timezone as string, `${field}.cron`, `${field}.timezone`);
  return { kind: 'cron', cron: compiled.expression, timezone: compiled.timezone };
}

function everySchedule(input: Record<string, unknown>, now: Date, field: string): NormalizedSchedule {
  const every = input.every;
  if (typeof every !== 'number' && typeof every !== 'string') {
    throw new InvalidTriggerConfigError(`${field}.every`, `expected milliseconds or a duration such as '30s', got ${describe(every)}`);
  }
  const ms = parseDuration(every, `${field}.every`);
  if (ms < MIN_EVERY_MS) {
    throw new InvalidTriggerConfigError(`${field}.every`, `is ${ms} ms, below the minimum interval of ${MIN_EVERY_MS} ms ('1s')`);
  }
  const startAt =
    input.startAt === undefined || input.startAt === null
      ? new Date(now.getTime())
      : parseDate(input.startAt, `${field}.startAt`);
  const endAt = input.endAt === undefined || input.endAt === null ? null : parseDate(input.endAt, `${field}.endAt`);
  if (endAt !== null && endAt.getTime() <= startAt.getTime()) {
    throw new InvalidTriggerConfigError(`${field}.endAt`, `must be after startAt (${startAt.toISOString()})`);
  }
  return { kind: 'every', every: ms, startAt, endAt };
}

function assertEventName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidTriggerConfigError(field, `expected a non-empty event name, got ${describe(value)}`);
  }
  if (value.length > MAX_NAME_LENGTH) throw new InvalidTriggerConfigError(field, `must be at most ${MAX_NAME_LENGTH} characters`);
  if (value.startsWith('$')) throw new InvalidTriggerConfigError(field, 'must not start with "$"');
  const problem = nameProblem(value);
  if (problem !== null) throw new InvalidTriggerConfigError(field, problem);
  return value;
}

function normalizeFilter(value: unknown, field: string): Record<string, JsonPrimitive> {
  if (!isPlainObject(value)) {
    throw new InvalidTriggerConfigError(field, `expected a plain object of primitive values, got ${describe(value)}`);
  }
  const entries: [string, JsonPrimitive][] = [];
  for (const key of Object.keys(value)) {
    const keyField = `${field}.${key}`;
    if (key === '' || key.startsWith('$') || key.includes('.')) {
      throw new InvalidTriggerConfigError(keyField, 'filter keys must be non-empty and must not start with "$" or contain "."');
    }
    const v = value[key];
    if (v === undefined) continue;
    if (!(v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) {
      throw new InvalidTriggerConfigError(keyField, `expected a string, finite number, boolean or null, got ${describe(v)}`);
    }
    entries.push([key, v]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data instead of a prototype.
  return Object.fromEntries(entries);
}

function condition(value: unknown, field: string): DependencyCondition {
  if (value === undefined) return 'success';
  if (typeof value === 'string' && (CONDITIONS as readonly string[]).includes(value)) return value as DependencyCondition;
  throw new InvalidTriggerConfigError(field, `expected one of ${CONDITIONS.join(', ')}, got ${describe(value)}`);
}

/**
 * Validate an id (trigger ids, `after` references): a non-empty string of at most 200 characters
 * without `$` or `.`, so it is safe as a MongoDB value and key.
 *
 * @param value the caller's id (untrusted)
 * @param field dotted path named in errors
 * @returns the id
 * @throws InvalidTriggerConfigError when it is not a valid id
 */
export function assertId(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new InvalidTriggerConfigError(field, `expected a string id, got ${describe(value)}`);
  if (value === '') throw new InvalidTriggerConfigError(field, 'must not be empty');
  if (value.length > MAX_NAME_LENGTH) throw new InvalidTriggerConfigError(field, `must be at most ${MAX_NAME_LENGTH} characters`);
  if (value.includes('$') || value.includes('.')) throw new InvalidTriggerConfigError(field, 'must not contain "$" or "."');
  const problem = nameProblem(value);
  if (problem !== null) throw new InvalidTriggerConfigError(field, problem);
  return value;
}

/**
 * Read an instant given as a valid `Date`, an ISO-8601 string or finite epoch milliseconds.
 * ISO strings without an offset are read as UTC, never in the host's zone, so every instance agrees.
 *
 * @param value the caller's date (untrusted)
 * @param field dotted path named in errors
 * @returns a new `Date`
 * @throws InvalidTriggerConfigError when it is none of these or out of the `Date` range
 */
export function parseDate(value: unknown, field: string): Date {
  let ms = Number.NaN;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = Number.isFinite(value) ? value : Number.NaN;
  else if (typeof value === 'string') {
    const text = value.trim();
    if (ISO_DATE.test(text)) {
      const parsed = DateTime.fromISO(text, { zone: 'utc' });
      if (parsed.isValid) ms = parsed.toMillis();
    }
  } else {
    throw new InvalidTriggerConfigError(field, `expected a Date, an ISO-8601 string or epoch milliseconds, got ${describe(value)}`);
  }
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidTriggerConfigError(field, `${describe(value)} is not a valid date (expected a Date, an ISO-8601 string or epoch milliseconds)`);
  }
  return date;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
