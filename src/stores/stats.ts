/**
 * Small helpers the backends share to build `stats()` answers.
 */
import type { JobStatsSummary } from '../ports.js';
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

/** Nearest-rank percentile of an ascending list; `null` for an empty one. */
export function percentile(sortedAscending: readonly number[], fraction: number): number | null {
  if (sortedAscending.length === 0) return null;
  const rank = Math.ceil(fraction * sortedAscending.length) - 1;
  return sortedAscending[Math.min(sortedAscending.length - 1, Math.max(0, rank))]!;
}
