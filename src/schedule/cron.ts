/**
 * Cron slots in an IANA zone, with cronie's daylight-saving behaviour.
 *
 * cron-parser matches the expression; it is always run in UTC on "naive local" instants (the zone's
 * wall-clock fields written as if they were UTC), where no DST exists and it is exact. Turning those
 * wall-clock times into real instants is done here, because cron-parser's own DST handling
 * disagrees with cronie (e.g. `30 2 * * *` in New York on 2026-03-08 gives 03:30 EDT, and a 30-minute
 * shift such as Lord Howe's makes `0 2 * * *` skip a day).
 *
 * The rule (cronie: `src/entry.c` load_entry sets MIN_STAR / HR_STAR when the minute / hour field
 * *begins with* `*`; `src/cron.c` main loop treats a forward clock jump of more than 5 minutes as "DST
 * begins": wildcard entries run for the current minute only, fixed-time entries run for every minute
 * that was skipped; a backward jump as "DST ends": only wildcard entries run until the clock catches
 * up with the time already served):
 *
 * - An entry is **wildcard** when its minute or hour field begins with `*` (`*`, steps such as `*\/5`,
 *   and `@hourly`), or, in the 6-field form, its seconds field does (it then fires more often
 *   than once a minute, which cronie's man page schedules "normally"). Every other entry is
 *   **fixed-time**, including lists and ranges such as `0,30 1-3`, and even `0-59`.
 * - Wildcard entries follow elapsed time: they fire at every real instant whose local wall-clock time
 *   matches. In a repeated interval (fall back) the matching times fire on both passes; in a skipped
 *   interval (spring forward) there is nothing to match and they resume after the jump.
 * - Fixed-time entries fire once per local time: a local time inside a skipped interval fires at the
 *   instant of the jump (the first instant of the new offset); a repeated local time fires only at
 *   its first (earlier) occurrence.
 * - Slots are real instants; several local times that map to the same instant (e.g. `0,30 2` on a
 *   spring-forward day in New York) are one slot.
 *
 * This holds for any forward shift, also ones larger than cronie's 3-hour "clock was set" threshold
 * (such as Samoa skipping 2011-12-30): a fixed time on a skipped day still fires once, at the jump.
 */
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { InvalidTriggerConfigError } from '../errors.js';
import { describe } from './describe.js';
import { assertTimeZone, zoneOffsetMs } from './timezone.js';
import { lastTransition, nextTransition } from './transitions.js';

/** A cron expression validated and prepared for one zone. Obtain it from {@link compileCron}. */
export interface CompiledCron {
  /** The expression with whitespace collapsed, as it should be stored. */
  readonly expression: string;
  /** IANA zone the expression is evaluated in. */
  readonly timezone: string;
  /** Whether the expression has a seconds field (6-field form). */
  readonly hasSeconds: boolean;
  /** `true` for fixed-time entries, `false` for wildcard entries (see the module comment). */
  readonly fixedTime: boolean;
}

const FIELD_NAMES_5 = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;
const FIELD_NAMES_6 = ['second', ...FIELD_NAMES_5] as const;

/** Vixie cron's macros; `@reboot` has no time and other cron-parser extras are not portable. */
const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const DAY_MS = 86_400_000;
/** Give up on expressions whose next match is further away than this (none in practice). */
const SEARCH_HORIZON_MS = 100 * 366 * DAY_MS;
/** Each hop crosses one offset transition; two per year over the horizon is far below this. */
const MAX_HOPS = 1_000;
const MAX_EPOCH_MS = 8.64e15;

const COMPILE_CACHE_LIMIT = 1_000;
const SLOT_CACHE_LIMIT = 4_096;

class CompiledCronImpl implements CompiledCron {
  readonly expression: string;
  readonly timezone: string;
  readonly hasSeconds: boolean;
  readonly fixedTime: boolean;
  readonly key: string;
  readonly #matcher: CronExpression;

  constructor(expression: string, timezone: string, fields: readonly string[], matcher: CronExpression) {
    this.expression = expression;
    this.timezone = timezone;
    this.hasSeconds = fields.length === 6;
    const timeFields = this.hasSeconds ? fields.slice(0, 3) : fields.slice(0, 2);
    this.fixedTime = !timeFields.some((f) => f.startsWith('*'));
    this.key = cacheKey(expression, timezone);
    this.#matcher = matcher;
  }

  /** First naive-local instant >= `localMs` matching the expression, or `null` beyond the horizon. */
  firstLocalAtOrAfter(localMs: number, horizon: number): number | null {
    if (localMs > horizon) return null;
    // next() is strictly after its start and matches are whole seconds, so start 1 ms earlier.
    this.#matcher.reset(new Date(localMs - 1));
    let found: number;
    try {
      found = this.#matcher.next().getTime();
    } catch {
      // cron-parser gives up after its loop limit: treat as "no further slot".
      return null;
    }
    return found > horizon ? null : found;
  }
}

const compiled = new Map<string, CompiledCronImpl>();
const slots = new Map<string, number | null>();
const stats = { computations: 0, hits: 0 };

function cacheKey(expression: string, timezone: string): string {
  return `${timezone}\u0000${expression}`;
}

/** Bounded insert: the oldest entry (Map insertion order) makes room. */
function remember<V>(map: Map<string, V>, key: string, value: V, limit: number): void {
  map.delete(key);
  if (map.size >= limit) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

/**
 * Validate a cron expression and prepare it for `timezone`. Results are cached by
 * (expression, zone), since many triggers share an expression.
 *
 * Accepts 5 fields (`minute hour day-of-month month day-of-week`), 6 fields (seconds first), or one of
 * `@yearly @annually @monthly @weekly @daily @midnight @hourly`; field syntax is cron-parser's
 * (names, ranges, steps, lists, `L`, `#`), except hashed `H` values, which are rejected because they
 * would differ between scheduler instances.
 *
 * @param expression the cron expression
 * @param timezone IANA zone the expression is read in
 * @param field dotted path named in expression errors
 * @param zoneField dotted path named in time-zone errors
 * @throws InvalidTriggerConfigError saying what is wrong
 */
export function compileCron(
  expression: string,
  timezone: string,
  field = 'schedule.cron',
  zoneField = 'schedule.timezone',
): CompiledCron {
  return compileImpl(expression, timezone, field, zoneField);
}

function compileImpl(expression: string, timezone: string, field: string, zoneField: string): CompiledCronImpl {
  const raw: unknown = expression;
  if (typeof raw !== 'string') {
    throw new InvalidTriggerConfigError(field, `expected a cron expression string, got ${describe(raw)}`);
  }
  // Stored expressions are already normalized, so the raw text is the usual cache key; only other
  // spellings pay for normalizing.
  const rawKey = cacheKey(raw, timezone);
  const hit = compiled.get(rawKey);
  if (hit) return hit;
  const normalized = raw.trim().split(/\s+/).join(' ');
  const key = cacheKey(normalized, timezone);
  const known = compiled.get(key);
  if (known) {
    remember(compiled, rawKey, known, COMPILE_CACHE_LIMIT);
    return known;
  }
  assertTimeZone(timezone, zoneField);
  const fields = splitFields(normalized, field);
  const names = fields.length === 6 ? FIELD_NAMES_6 : FIELD_NAMES_5;
  fields.forEach((text, i) => checkFieldSyntax(text, names[i] ?? 'field', field));
  let matcher: CronExpression;
  try {
    matcher = CronExpressionParser.parse(fields.join(' '), { tz: 'UTC', currentDate: 0 });
  } catch (err) {
    throw new InvalidTriggerConfigError(field, diagnose(fields, names, normalized, err));
  }
  const result = new CompiledCronImpl(normalized, timezone, fields, matcher);
  remember(compiled, key, result, COMPILE_CACHE_LIMIT);
  if (rawKey !== key) remember(compiled, rawKey, result, COMPILE_CACHE_LIMIT);
  return result;
}

function splitFields(normalized: string, field: string): string[] {
  if (normalized === '') throw new InvalidTriggerConfigError(field, 'must not be empty');
  if (normalized.startsWith('@')) {
    const expansion = MACROS[normalized.toLowerCase()];
    if (expansion === undefined) {
      throw new InvalidTriggerConfigError(
        field,
        `unsupported macro "${normalized}" (expected one of ${Object.keys(MACROS).join(', ')})`,
      );
    }
    return expansion.split(' ');
  }
  const fields = normalized.split(' ');
  if (fields.length !== 5 && fields.length !== 6) {
    throw new InvalidTriggerConfigError(
      field,
      `expected 5 or 6 fields (minute hour day-of-month month day-of-week, optionally preceded by seconds), got ${fields.length} in "${normalized}"`,
    );
  }
  return fields;
}

/** Syntax cron-parser accepts but that we refuse, with a message that says why. */
function checkFieldSyntax(text: string, name: string, field: string): void {
  const items = text.split(',');
  if (items.some((item) => /^h/i.test(item))) {
    throw new InvalidTriggerConfigError(
      field,
      `${name} field "${text}": hashed "H" values are not supported (they are random per process, so scheduler instances would disagree)`,
    );
  }
  if (text.includes('?') && name !== 'day-of-month' && name !== 'day-of-week') {
    throw new InvalidTriggerConfigError(field, `${name} field "${text}": "?" is only allowed in day-of-month and day-of-week`);
  }
}

/** Say which field cron-parser rejected, by parsing each field alone among wildcards. */
function diagnose(fields: readonly string[], names: readonly string[], normalized: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  for (let i = 0; i < fields.length; i++) {
    const probe = fields.map((f, j) => (j === i ? f : '*')).join(' ');
    try {
      CronExpressionParser.parse(probe, { tz: 'UTC', currentDate: 0 });
    } catch (fieldErr) {
      const reason = fieldErr instanceof Error ? fieldErr.message : String(fieldErr);
      return `${names[i] ?? 'field'} field "${fields[i] ?? ''}" is invalid in "${normalized}": ${reason}`;
    }
  }
  if (/day of month/i.test(message)) {
    return `"${normalized}" can never fire: the day-of-month never occurs in the given month(s)`;
  }
  return `invalid cron expression "${normalized}": ${message}`;
}

/**
 * The first slot of `cron` strictly after `after`, or `null` when there is none.
 *
 * Follows the DST rule in the module comment. Results are memoized by (expression, zone, instant) in
 * a bounded cache, so a herd of triggers sharing an expression and a due time costs one computation.
 * Every call returns a new `Date`.
 *
 * @param cron from {@link compileCron}
 * @param after exclusive lower bound
 * @param until search no further than this instant (epoch ms): `null` then means "none up to
 *   `until`". Bounds the calendar walk of sparse expressions (a trigger's `endAt`, a preview's
 *   horizon).
 */
export function nextCronSlot(cron: CompiledCron, after: Date, until?: number): Date | null {
  const impl = cron instanceof CompiledCronImpl ? cron : compileImpl(cron.expression, cron.timezone, 'cron', 'timezone');
  const afterMs = after.getTime();
  if (Number.isNaN(afterMs)) throw new RangeError('nextCronSlot: `after` is an invalid Date');
  const key = `${impl.key}\u0001${afterMs}`;
  const cached = slots.get(key);
  if (cached !== undefined) {
    stats.hits++;
    return cached === null ? null : new Date(cached);
  }
  stats.computations++;
  const result = computeNext(impl, afterMs, until ?? Number.POSITIVE_INFINITY);
  // A `null` cut short by `until` is not the answer for a caller with a farther bound.
  if (result !== null || until === undefined) remember(slots, key, result, SLOT_CACHE_LIMIT);
  return result === null ? null : new Date(result);
}

/**
 * Walk the zone's constant-offset segments from `afterMs` on. Inside a segment, naive local time and
 * real time differ by a constant, so cron-parser's UTC answer maps back exactly; at each segment
 * start the skipped (forward) or repeated (backward) local times get the cronie treatment.
 */
function computeNext(cron: CompiledCronImpl, afterMs: number, untilMs: number): number | null {
  const zone = cron.timezone;
  let t = afterMs + 1;
  if (t > MAX_EPOCH_MS || t > untilMs) return null;
  // The horizon is in naive local time: a day more than `untilMs` covers any zone offset, and the
  // caller caps the answer at its own bound.
  const horizon = Math.min(t + SEARCH_HORIZON_MS, MAX_EPOCH_MS + DAY_MS, untilMs + DAY_MS);
  // Searches after a hop usually start inside a range already searched; cron-parser is the
  // expensive part (up to ~0.3 ms for sparse expressions), so reuse the last answer when it holds.
  let searchedFrom = Number.POSITIVE_INFINITY;
  let found: number | null = null;
  const firstMatch = (from: number): number | null => {
    if (from < searchedFrom || (found !== null && from > found)) {
      searchedFrom = from;
      found = cron.firstLocalAtOrAfter(from, horizon);
    }
    return found;
  };
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const offset = zoneOffsetMs(zone, t);
    let localFrom = t + offset;
    if (cron.fixedTime) {
      // Backward shifts are far shorter than a day, so only a transition within the last day can
      // make local times >= t a second pass; a forward one matters only at its own instant.
      const prev = lastTransition(zone, t, t - DAY_MS);
      if (prev !== null && prev.before < offset && prev.at === t) {
        // t is a spring-forward instant: every fixed local time that the jump skipped fires now.
        const skipped = firstMatch(t + prev.before);
        if (skipped !== null && skipped < t + offset) return t;
      } else if (prev !== null && prev.before > offset) {
        // Second pass over a repeated interval: those local times already fired on the first pass.
        localFrom = Math.max(localFrom, prev.at + prev.before);
      }
    }
    const local = firstMatch(localFrom);
    if (local === null) return null;
    const candidate = local - offset;
    const boundary = nextTransition(zone, t, candidate);
    if (boundary === null) return candidate;
    // The match lies beyond this segment's end: redo the search from the next segment.
    t = boundary.at;
  }
  return null;
}

/**
 * @internal Counters of the slot memo, for tests and benchmarks: `computations` are real
 * computations, `hits` answers served from the memo.
 */
export function cronCacheStats(): { computations: number; hits: number } {
  return { ...stats };
}

/** @internal Empty the compile and slot caches and zero the counters (tests). */
export function resetCronCaches(): void {
  compiled.clear();
  slots.clear();
  stats.computations = 0;
  stats.hits = 0;
}
