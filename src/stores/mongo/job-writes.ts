/**
 * The write side of the MongoDB job store as plain functions: a job patch as a `$set` (checked
 * field by field), a write condition as a filter (and the same test on a document in hand, for
 * FerretDB's read-then-write path), and which writes can change the pending queries' answers.
 */
import type { Document, Filter, MatchKeysAndValues } from 'mongodb';
import { StoreError } from '../../errors.js';
import type { JobCondition, JobPatch } from '../../ports.js';
import { isFinalJobStatus, JOB_STATUSES, type JobHistoryEntry, type JobStatus } from '../../types.js';
import type { JobDocument } from './documents.js';
import { date, num, str, strings } from './guards.js';

/** Every status a job can have, for checking a value read from or written to the database. */
export const KNOWN_STATUSES: ReadonlySet<string> = new Set(JOB_STATUSES);

/**
 * Fields a patch may set, checked at runtime too: a patch key is written into `$set` verbatim, so
 * an unexpected one (say `$where` or `history`) must never get that far. `satisfies` keeps this
 * list in step with `JobPatch` when the record grows.
 */
const PATCHABLE = {
  payload: true,
  scheduledFor: true,
  runAt: true,
  status: true,
  priority: true,
  attempts: true,
  maxAttempts: true,
  stalls: true,
  maxStalls: true,
  timeoutMs: true,
  backoff: true,
  permitLimit: true,
  nextAttemptAt: true,
  result: true,
  error: true,
  metrics: true,
  instanceId: true,
  lease: true,
  fence: true,
  event: true,
  upstream: true,
  gate: true,
  traceparent: true,
  cancelRequested: true,
  dependentsFired: true,
  startedAt: true,
  finishedAt: true,
} as const satisfies Record<keyof JobPatch, true>;

/**
 * Whether an update can change what the pending queries answer: it moves a job into `pending`,
 * may move one out of it (a condition that admits `pending`, or none), or changes the due time or
 * gate of a job that may be pending. A completion (`running` to `succeeded`, `gate: null`) is none
 * of these: the hot path never stamps the signal.
 */
export function mayChangePending(condition: JobCondition, patch: JobPatch): boolean {
  if (patch.status === 'pending') return true;
  const mayBePending = condition.status === undefined || condition.status.includes('pending');
  if (patch.status !== undefined) return mayBePending;
  return mayBePending && (patch.runAt !== undefined || patch.gate !== undefined);
}

/**
 * Whether an update can change which final jobs still owe their dependents a run: a job ending
 * with dependents to fire (`dependentsFired: false` with a final status), or one whose dependents
 * were fired (`dependentsFired: true`, status untouched). A completion of a job without dependents
 * sets `dependentsFired: true` together with its final status: it was never in the set.
 */
export function mayChangeUnfired(patch: JobPatch): boolean {
  if (patch.dependentsFired === false) return patch.status !== undefined && isFinalJobStatus(patch.status);
  return patch.dependentsFired === true && patch.status === undefined;
}

/** Whether a stored job is final and still owes its dependents a run. */
export function owesDependents(doc: JobDocument): boolean {
  return isFinalJobStatus(doc.status) && doc.dependentsFired === false;
}

/** The same test as `conditionFilter`, on a document in hand. */
export function conditionHolds(doc: JobDocument, condition: JobCondition): boolean {
  if (condition.status !== undefined && !condition.status.includes(doc.status)) return false;
  if (condition.leaseToken !== undefined && (doc.fence !== condition.leaseToken || doc.lease === null || doc.lease === undefined)) return false;
  return true;
}

export function conditionFilter(id: string, condition: JobCondition): Filter<JobDocument> & { _id: string } {
  const filter: Filter<JobDocument> & { _id: string } = { _id: id };
  if (condition.status !== undefined) filter.status = { $in: strings(condition.status, 'condition.status') as JobStatus[] };
  if (condition.leaseToken !== undefined) {
    filter.fence = num(condition.leaseToken, 'condition.leaseToken');
    filter.lease = { $ne: null };
  }
  return filter;
}

/**
 * A patch as a `$set` document. A lease is stored without its token, and its token becomes the
 * fence, since the two are one stored number here; a patch that also gives a different fence
 * cannot be represented and is refused.
 */
export function patchToSet(patch: JobPatch): MatchKeysAndValues<JobDocument> {
  const set: Document = {};
  for (const [field, value] of Object.entries(patch) as Array<[string, unknown]>) {
    if (!Object.hasOwn(PATCHABLE, field)) throw new StoreError(`a job patch cannot set "${field}"`);
    // An absent optional field: nothing to write (the memory store would copy `undefined` in).
    if (value === undefined) continue;
    if (field === 'lease') continue;
    set[field] = value;
  }
  const lease = patch.lease;
  if (lease === null) set['lease'] = null;
  else if (lease !== undefined) {
    if (patch.fence !== undefined && patch.fence !== lease.token) {
      throw new StoreError(`a job patch's lease.token (${lease.token}) must equal its fence (${patch.fence}): the MongoDB backend stores them as one number`);
    }
    set['lease'] = { owner: str(lease.owner, 'lease.owner'), expiresAt: date(lease.expiresAt, 'lease.expiresAt') };
    set['fence'] = num(lease.token, 'lease.token');
  }
  if (patch.status !== undefined && !KNOWN_STATUSES.has(patch.status)) throw new StoreError(`unknown job status "${String(patch.status)}"`);
  return set as MatchKeysAndValues<JobDocument>;
}

export function historyEntry(entry: JobHistoryEntry): JobHistoryEntry {
  return {
    status: entry.status,
    at: date(entry.at, 'history.at'),
    instanceId: entry.instanceId ?? null,
    reason: entry.reason ?? null,
  };
}

