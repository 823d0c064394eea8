/**
 * UTC-offset transitions of a zone, found by sampling the runtime's Intl data.
 *
 * Neither luxon nor Intl lists a zone's transitions. A range of at most a day is checked at its two
 * ends (the cron layer's usual question, two look-ups); longer ranges use whole UTC years sampled
 * once a day, which cost a few hundred look-ups once and are then served from a bounded cache. Every
 * change found is narrowed down to the millisecond by bisection, so both paths agree exactly.
 *
 * Limitation (by design): two changes less than a day apart that cancel each other out are not
 * seen. No DST rule in tzdb does that.
 */
import { zoneOffsetMs } from './timezone.js';

/** One change of a zone's UTC offset. */
export interface ZoneTransition {
  /** First instant (epoch ms) with the new offset. */
  readonly at: number;
  /** Offset in ms before `at`. */
  readonly before: number;
  /** Offset in ms from `at` on. */
  readonly after: number;
}

const DAY_MS = 86_400_000;
const YEAR_CACHE_LIMIT = 512;
const yearCache = new Map<string, readonly ZoneTransition[]>();

/** Transitions with `at` in the UTC year `year`, oldest first (cached). */
function transitionsOfYear(zone: string, year: number): readonly ZoneTransition[] {
  const key = `${zone}\u0000${year}`;
  const cached = yearCache.get(key);
  if (cached) return cached;
  const found: ZoneTransition[] = [];
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  // Sample (start, end]; a change at exactly `start` belongs to the previous year's scan.
  let lo = start;
  let loOffset = zoneOffsetMs(zone, start);
  while (lo < end) {
    const hi = Math.min(lo + DAY_MS, end);
    const hiOffset = zoneOffsetMs(zone, hi);
    if (hiOffset !== loOffset) found.push(bisect(zone, lo, hi, loOffset));
    lo = hi;
    loOffset = hiOffset;
  }
  if (yearCache.size >= YEAR_CACHE_LIMIT) {
    const oldest = yearCache.keys().next();
    if (!oldest.done) yearCache.delete(oldest.value);
  }
  yearCache.set(key, found);
  return found;
}

/** First instant in (lo, hi] whose offset differs from `loOffset`. */
function bisect(zone: string, lo: number, hi: number, loOffset: number): ZoneTransition {
  let a = lo;
  let b = hi;
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (zoneOffsetMs(zone, mid) === loOffset) a = mid;
    else b = mid;
  }
  return { at: b, before: loOffset, after: zoneOffsetMs(zone, b) };
}

/** The transition in (lo, hi], for ranges short enough to hold at most one. */
function changeWithin(zone: string, lo: number, hi: number): ZoneTransition | null {
  const loOffset = zoneOffsetMs(zone, lo);
  return zoneOffsetMs(zone, hi) === loOffset ? null : bisect(zone, lo, hi, loOffset);
}

function yearOf(epochMs: number): number {
  return new Date(epochMs).getUTCFullYear();
}

/**
 * The first transition with `after < at <= until`, or `null`.
 *
 * @param zone valid IANA zone
 * @param after exclusive lower bound (epoch ms)
 * @param until inclusive upper bound (epoch ms)
 */
export function nextTransition(zone: string, after: number, until: number): ZoneTransition | null {
  if (until <= after) return null;
  if (until - after <= DAY_MS) return changeWithin(zone, after, until);
  for (let year = yearOf(after), last = yearOf(until); year <= last; year++) {
    for (const t of transitionsOfYear(zone, year)) {
      if (t.at > until) return null;
      if (t.at > after) return t;
    }
  }
  return null;
}

/**
 * The last transition with `since < at <= notAfter`, or `null`.
 *
 * @param zone valid IANA zone
 * @param notAfter inclusive upper bound (epoch ms)
 * @param since exclusive lower bound (epoch ms)
 */
export function lastTransition(zone: string, notAfter: number, since: number): ZoneTransition | null {
  if (notAfter <= since) return null;
  if (notAfter - since <= DAY_MS) return changeWithin(zone, since, notAfter);
  for (let year = yearOf(notAfter), first = yearOf(since); year >= first; year--) {
    const list = transitionsOfYear(zone, year);
    for (let i = list.length - 1; i >= 0; i--) {
      const t = list[i];
      if (t === undefined || t.at > notAfter) continue;
      return t.at > since ? t : null;
    }
  }
  return null;
}

/** @internal Drop cached transitions (tests). */
export function clearTransitionCache(): void {
  yearCache.clear();
}
