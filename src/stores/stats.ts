/**
 * Small helpers the backends share to build `stats()` answers and the per-handler counts of `health()`.
 */
import type { HandlerCount, JobStatsSummary } from '../ports.js';
import type { JobStatus } from '../types.js';

/** A zero count for every job status. */
export function emptyStatusCounts(): Record<JobStatus, number> {
  return { pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, skipped: 0 };
}

/** A trigger's entry in `stats().byTrigger` before any finished job is counted. */
export function emptyTriggerStats(): JobStatsSummary['byTrigger'][string] {
  return {
    runs: 0,
    succeeded: 0,
    failed: 0,
    lastFinishedAt: null,
    p50DurationMs: null,
    p95DurationMs: null,
    pending: 0,
    running: 0,
    lastSucceededAt: null,
    failedInRow: 0,
    skipped: 0,
    p50LagMs: null,
    p95LagMs: null,
  };
}

/**
 * An empty `stats().byTrigger`. Keyed by trigger ids, which are the user's strings: a null
 * prototype makes `__proto__` or `constructor` ordinary keys, so `byTrigger[id] ??= ...` can never
 * reach (and rewrite) `Object.prototype`.
 */
export function emptyByTrigger(): JobStatsSummary['byTrigger'] {
  return Object.create(null) as JobStatsSummary['byTrigger'];
}

/** Nearest-rank percentile of an ascending list; `null` for an empty one. */
export function percentile(sortedAscending: readonly number[], fraction: number): number | null {
  if (sortedAscending.length === 0) return null;
  const rank = Math.ceil(fraction * sortedAscending.length) - 1;
  return sortedAscending[Math.min(sortedAscending.length - 1, Math.max(0, rank))]!;
}

/** Counts per handler name, in name order (a `Map`: user strings never become object keys). */
export function handlerCounts(handlers: Iterable<string>): HandlerCount[] {
  const counts = new Map<string, number>();
  for (const handler of handlers) counts.set(handler, (counts.get(handler) ?? 0) + 1);
  return [...counts].map(([handler, count]) => ({ handler, count })).sort((a, b) => (a.handler < b.handler ? -1 : a.handler > b.handler ? 1 : 0));
}
