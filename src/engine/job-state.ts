/**
 * The job status machine. Every status change in the engine goes through `assertTransition`, and
 * every store write of a status is conditional on the status it came from, so a change that the
 * machine forbids, or that races another writer, never lands.
 *
 *   pending ──► running ──► succeeded | failed | cancelled
 *      │           ├──────► pending   (retry after a failed attempt, a stall, a hand-back)
 *      │           └──────► skipped   (a slot withdrawn before its job started: see `#withdraw`)
 *      └──────────────────► cancelled | skipped
 */
import { IllegalTransitionError } from '../errors.js';
import { FINAL_JOB_STATUSES, isFinalJobStatus, type JobHistoryEntry, type JobStatus } from '../types.js';

const allowed: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  pending: ['running', 'cancelled', 'skipped'],
  running: ['pending', ...FINAL_JOB_STATUSES],
  succeeded: [],
  failed: [],
  cancelled: [],
  skipped: [],
};

/**
 * Whether the status is final (one of `FINAL_JOB_STATUSES`; the table above leads nowhere from
 * those, which test/unit/job-state.test.ts checks).
 */
export const isFinal = isFinalJobStatus;

/** Whether `from → to` is a legal change. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return allowed[from].includes(to);
}

/** Throw `IllegalTransitionError` unless `from → to` is legal. */
export function assertTransition(from: JobStatus, to: JobStatus, jobId?: string): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to, jobId);
}

/** Statuses from which `to` can be reached: the precondition of a conditional status write. */
export function sourcesOf(to: JobStatus): JobStatus[] {
  return (Object.keys(allowed) as JobStatus[]).filter((from) => allowed[from].includes(to));
}

/** A history entry. */
export function historyEntry(status: JobStatus, at: Date, instanceId: string | null, reason: string | null): JobHistoryEntry {
  return { status, at, instanceId, reason };
}
