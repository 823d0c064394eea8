/**
 * How the memory job store keeps a job: one flat record per job. Instants are epoch milliseconds
 * (a V8 `Date` costs about 120 bytes, and a job has eight), the metrics and the lease are fields
 * of the record, and the history is one flat array of `[status, at, instanceId, reason]` runs. A
 * stored job is then two heap objects instead of about twenty, and stored jobs are what the
 * garbage collector has to copy and keep, so their count sets the length of its pauses.
 *
 * Records are built as object literals, field by field: a literal gives V8 an allocation site to
 * learn from, and as nearly every stored job outlives the young generation, it then allocates
 * them in the old one directly instead of copying each one twice on the way there. Dates are
 * made again only on the way out, in the copies callers get.
 */
import type { JobPatch } from '../../ports.js';
import type { Job, JobDetailField, JobErrorInfo, JobHistoryEntry, JobStatus } from '../../types.js';
import { cloneJson, copyData, dateOf, msOf } from '../../util/clone.js';

/** A job as the memory store keeps it. */
export interface JobRecord {
  id: string;
  key: string;
  triggerId: string;
  handler: string;
  payload: Job['payload'];
  source: Job['source'];
  scheduledFor: number;
  runAt: number;
  status: JobStatus;
  priority: number;
  attempts: number;
  maxAttempts: number;
  stalls: number;
  maxStalls: number;
  timeoutMs: number | null;
  backoff: Job['backoff'];
  permitLimit: number | null;
  nextAttemptAt: number | null;
  result: Job['result'];
  error: Job['error'];
  queuedMs: number | null;
  durationMs: number | null;
  cpuUserMs: number | null;
  cpuSystemMs: number | null;
  heapUsedBytes: number | null;
  threadWaitMs: number | null;
  /** `[status, at, instanceId, reason]` of each entry, one after another. */
  history: Array<string | number | null>;
  instanceId: string | null;
  /** Lease holder; `null` when the job holds no lease (the other lease fields are then unused). */
  leaseOwner: string | null;
  leaseToken: number;
  leaseExpiresAt: number;
  fence: number;
  event: Job['event'];
  upstream: Job['upstream'];
  gate: string | null;
  traceparent: string | null;
  cancelRequested: boolean;
  dependentsFired: boolean;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Links in the store's list of running jobs (see `LinkedList`). */
  prevLinked: JobRecord | null;
  nextLinked: JobRecord | null;
  linked: boolean;
}

/** The stored form of a caller's job (a deep copy: nothing of the caller's is kept). */
export function toRecord(job: Job): JobRecord {
  const { metrics, lease } = job;
  return {
    id: job.id,
    key: job.key,
    triggerId: job.triggerId,
    handler: job.handler,
    payload: cloneJson(job.payload),
    source: job.source,
    scheduledFor: job.scheduledFor.getTime(),
    runAt: job.runAt.getTime(),
    status: job.status,
    priority: job.priority,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    stalls: job.stalls,
    maxStalls: job.maxStalls,
    timeoutMs: job.timeoutMs,
    backoff: job.backoff === null ? null : { ...job.backoff },
    permitLimit: job.permitLimit,
    nextAttemptAt: msOf(job.nextAttemptAt),
    result: job.result === null ? null : cloneJson(job.result),
    error: copyError(job.error),
    queuedMs: metrics.queuedMs,
    durationMs: metrics.durationMs,
    cpuUserMs: metrics.cpuUserMs,
    cpuSystemMs: metrics.cpuSystemMs,
    heapUsedBytes: metrics.heapUsedBytes,
    threadWaitMs: metrics.threadWaitMs,
    history: flatHistory(job.history),
    instanceId: job.instanceId,
    leaseOwner: lease === null ? null : lease.owner,
    leaseToken: lease === null ? 0 : lease.token,
    leaseExpiresAt: lease === null ? 0 : lease.expiresAt.getTime(),
    fence: job.fence,
    event: job.event === null ? null : { name: job.event.name, id: job.event.id },
    upstream: job.upstream === null ? null : { jobId: job.upstream.jobId, triggerId: job.upstream.triggerId, status: job.upstream.status },
    gate: job.gate,
    traceparent: job.traceparent,
    cancelRequested: job.cancelRequested,
    dependentsFired: job.dependentsFired,
    createdAt: job.createdAt.getTime(),
    startedAt: msOf(job.startedAt),
    finishedAt: msOf(job.finishedAt),
    prevLinked: null,
    nextLinked: null,
    linked: false,
  };
}

function flatHistory(history: JobHistoryEntry[]): Array<string | number | null> {
  const [a, b] = history;
  if (history.length === 2 && a && b) {
    // The usual new job (pending, running) gets room for the entry its end adds: a literal of
    // twelve cut to eight keeps its capacity, so that append does not copy the array.
    const flat: Array<string | number | null> = [a.status, a.at.getTime(), a.instanceId, a.reason, b.status, b.at.getTime(), b.instanceId, b.reason, null, null, null, null];
    flat.length = 8;
    return flat;
  }
  const out: Array<string | number | null> = [];
  for (const entry of history) out.push(entry.status, entry.at.getTime(), entry.instanceId, entry.reason);
  return out;
}

/** Append history entries to a record. */
export function appendHistory(record: JobRecord, entries: readonly JobHistoryEntry[]): void {
  for (const entry of entries) record.history.push(entry.status, entry.at.getTime(), entry.instanceId, entry.reason);
}

/** A caller's copy of a stored job. */
export function fromRecord(record: JobRecord, omit?: ReadonlySet<JobDetailField>): Job {
  const history: JobHistoryEntry[] = [];
  // Left-out fields are not copied at all: that is the point of leaving them out.
  const flat = omit?.has('history') === true ? [] : record.history;
  for (let i = 0; i < flat.length; i += 4) {
    history.push({ status: flat[i] as JobStatus, at: new Date(flat[i + 1] as number), instanceId: flat[i + 2] as string | null, reason: flat[i + 3] as string | null });
  }
  return {
    id: record.id,
    key: record.key,
    triggerId: record.triggerId,
    handler: record.handler,
    payload: omit?.has('payload') === true ? null : cloneJson(record.payload),
    source: record.source,
    scheduledFor: new Date(record.scheduledFor),
    runAt: new Date(record.runAt),
    status: record.status,
    priority: record.priority,
    attempts: record.attempts,
    maxAttempts: record.maxAttempts,
    stalls: record.stalls,
    maxStalls: record.maxStalls,
    timeoutMs: record.timeoutMs,
    backoff: record.backoff === null ? null : { ...record.backoff },
    permitLimit: record.permitLimit,
    nextAttemptAt: dateOf(record.nextAttemptAt),
    result: record.result === null || omit?.has('result') === true ? null : cloneJson(record.result),
    error: record.error === null ? null : { ...record.error },
    metrics: {
      queuedMs: record.queuedMs,
      durationMs: record.durationMs,
      cpuUserMs: record.cpuUserMs,
      cpuSystemMs: record.cpuSystemMs,
      heapUsedBytes: record.heapUsedBytes,
      threadWaitMs: record.threadWaitMs,
    },
    history,
    instanceId: record.instanceId,
    lease: record.leaseOwner === null ? null : { owner: record.leaseOwner, token: record.leaseToken, expiresAt: new Date(record.leaseExpiresAt) },
    fence: record.fence,
    event: record.event === null ? null : { ...record.event },
    upstream: record.upstream === null ? null : { ...record.upstream },
    gate: record.gate,
    traceparent: record.traceparent,
    cancelRequested: record.cancelRequested,
    dependentsFired: record.dependentsFired,
    createdAt: new Date(record.createdAt),
    startedAt: dateOf(record.startedAt),
    finishedAt: dateOf(record.finishedAt),
  };
}

/**
 * Write a patch into a record, copying what it brings in and turning its instants into ms. A
 * `switch` over the patch's own keys: the engine's usual patches name eight or nine fields.
 */
export function applyPatch(record: JobRecord, patch: JobPatch): void {
  for (const key in patch) {
    const k = key as keyof JobPatch;
    switch (k) {
      case 'status':
        record.status = patch.status!;
        break;
      case 'scheduledFor':
        if (patch.scheduledFor) record.scheduledFor = patch.scheduledFor.getTime();
        break;
      case 'runAt':
        if (patch.runAt) record.runAt = patch.runAt.getTime();
        break;
      case 'nextAttemptAt':
        record.nextAttemptAt = msOf(patch.nextAttemptAt ?? null);
        break;
      case 'startedAt':
        record.startedAt = msOf(patch.startedAt ?? null);
        break;
      case 'finishedAt':
        record.finishedAt = msOf(patch.finishedAt ?? null);
        break;
      case 'metrics': {
        const metrics = patch.metrics;
        if (!metrics) break;
        record.queuedMs = metrics.queuedMs;
        record.durationMs = metrics.durationMs;
        record.cpuUserMs = metrics.cpuUserMs;
        record.cpuSystemMs = metrics.cpuSystemMs;
        record.heapUsedBytes = metrics.heapUsedBytes;
        record.threadWaitMs = metrics.threadWaitMs;
        break;
      }
      case 'lease': {
        const lease = patch.lease;
        if (lease === undefined) break;
        record.leaseOwner = lease === null ? null : lease.owner;
        record.leaseToken = lease === null ? 0 : lease.token;
        record.leaseExpiresAt = lease === null ? 0 : lease.expiresAt.getTime();
        break;
      }
      case 'error':
        record.error = copyError(patch.error ?? null);
        break;
      case 'result':
        record.result = patch.result === undefined || patch.result === null ? null : cloneJson(patch.result);
        break;
      case 'cancelRequested':
        record.cancelRequested = patch.cancelRequested === true;
        break;
      case 'dependentsFired':
        record.dependentsFired = patch.dependentsFired === true;
        break;
      case 'gate':
        record.gate = patch.gate ?? null;
        break;
      case 'instanceId':
        record.instanceId = patch.instanceId ?? null;
        break;
      default: {
        const value: unknown = patch[k];
        if (value !== undefined) (record as unknown as Record<string, unknown>)[k] = copyData(value);
      }
    }
  }
}

/** A copy of a job's error with only the fields of `JobErrorInfo`, so a caller's object is never kept. */
function copyError(error: JobErrorInfo | null): JobErrorInfo | null {
  if (error === null) return null;
  const copy: JobErrorInfo = { name: error.name, message: error.message, code: error.code };
  if (typeof error.stack === 'string') copy.stack = error.stack;
  return copy;
}
