/**
 * How the memory job store keeps a job: the `Job` shape with every instant held as epoch
 * milliseconds instead of a `Date`. A `Date` costs V8 about 120 bytes (it caches its calendar
 * fields) and a job has eight of them, which made them over half of a stored job's heap; and
 * stored jobs are what the garbage collector has to copy and keep, so their size sets the length
 * of its pauses. Dates are made again only on the way out, in the copies callers get.
 */
import type { JobPatch } from '../../ports.js';
import type { Job, JobHistoryEntry, JobMetrics, JobStatus } from '../../types.js';
import { cloneJson, copyData } from '../../util/clone.js';

/** A history entry as stored. */
export interface StoredHistoryEntry {
  status: JobStatus;
  at: number;
  instanceId: string | null;
  reason: string | null;
}

/** A job as stored: `Job` with instants as epoch ms. */
export interface StoredJob
  extends Omit<Job, 'scheduledFor' | 'runAt' | 'nextAttemptAt' | 'createdAt' | 'startedAt' | 'finishedAt' | 'lease' | 'history'> {
  scheduledFor: number;
  runAt: number;
  nextAttemptAt: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  lease: { owner: string; token: number; expiresAt: number } | null;
  history: StoredHistoryEntry[];
}

function ms(value: Date | null): number | null {
  return value === null ? null : value.getTime();
}

function date(value: number | null): Date | null {
  return value === null ? null : new Date(value);
}

/** A stored history entry from a caller's. */
export function storedEntry(entry: JobHistoryEntry): StoredHistoryEntry {
  return { status: entry.status, at: entry.at.getTime(), instanceId: entry.instanceId, reason: entry.reason };
}

/**
 * The stored form of a caller's job (a deep copy: nothing of the caller's is kept). Spelled out
 * field by field rather than spread: a literal gives V8 an allocation site to learn from, and
 * as nearly every stored job outlives the young generation, it then allocates them in the old
 * one directly instead of copying each one twice on the way there.
 */
export function toStoredJob(job: Job): StoredJob {
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
    timeoutMs: job.timeoutMs,
    backoff: job.backoff === null ? null : { ...job.backoff },
    permitLimit: job.permitLimit,
    nextAttemptAt: ms(job.nextAttemptAt),
    result: job.result === null ? null : cloneJson(job.result),
    error: job.error === null ? null : { name: job.error.name, message: job.error.message, code: job.error.code },
    metrics: storedMetrics(job.metrics),
    history: job.history.map(storedEntry),
    instanceId: job.instanceId,
    lease: job.lease === null ? null : { owner: job.lease.owner, token: job.lease.token, expiresAt: job.lease.expiresAt.getTime() },
    fence: job.fence,
    event: job.event === null ? null : { name: job.event.name, id: job.event.id },
    upstream: job.upstream === null ? null : { jobId: job.upstream.jobId, triggerId: job.upstream.triggerId, status: job.upstream.status },
    gate: job.gate,
    cancelRequested: job.cancelRequested,
    dependentsFired: job.dependentsFired,
    createdAt: job.createdAt.getTime(),
    startedAt: ms(job.startedAt),
    finishedAt: ms(job.finishedAt),
  };
}

function storedMetrics(metrics: JobMetrics): JobMetrics {
  return {
    queuedMs: metrics.queuedMs,
    durationMs: metrics.durationMs,
    cpuUserMs: metrics.cpuUserMs,
    cpuSystemMs: metrics.cpuSystemMs,
    heapUsedBytes: metrics.heapUsedBytes,
    threadWaitMs: metrics.threadWaitMs,
  };
}

/** A caller's copy of a stored job. */
export function fromStoredJob(stored: StoredJob): Job {
  return {
    ...stored,
    payload: cloneJson(stored.payload),
    scheduledFor: new Date(stored.scheduledFor),
    runAt: new Date(stored.runAt),
    nextAttemptAt: date(stored.nextAttemptAt),
    backoff: stored.backoff === null ? null : { ...stored.backoff },
    result: stored.result === null ? null : cloneJson(stored.result),
    error: stored.error === null ? null : { ...stored.error },
    metrics: { ...stored.metrics },
    history: stored.history.map((entry) => ({ status: entry.status, at: new Date(entry.at), instanceId: entry.instanceId, reason: entry.reason })),
    lease: stored.lease === null ? null : { owner: stored.lease.owner, token: stored.lease.token, expiresAt: new Date(stored.lease.expiresAt) },
    event: stored.event === null ? null : { ...stored.event },
    upstream: stored.upstream === null ? null : { ...stored.upstream },
    createdAt: new Date(stored.createdAt),
    startedAt: date(stored.startedAt),
    finishedAt: date(stored.finishedAt),
  };
}

const INSTANTS: ReadonlySet<string> = new Set(['scheduledFor', 'runAt', 'nextAttemptAt', 'startedAt', 'finishedAt']);

/** Write a patch into a stored job, copying what it brings in and turning its instants into ms. */
export function applyPatch(stored: StoredJob, patch: JobPatch): void {
  const target = stored as unknown as Record<string, unknown>;
  for (const key in patch) {
    const value: unknown = (patch as Record<string, unknown>)[key];
    if (INSTANTS.has(key)) target[key] = value instanceof Date ? value.getTime() : null;
    else if (key === 'metrics' && value !== undefined) target[key] = storedMetrics(value as JobMetrics);
    else if (key === 'lease' && value !== null && value !== undefined) {
      const lease = value as NonNullable<Job['lease']>;
      target[key] = { owner: lease.owner, token: lease.token, expiresAt: lease.expiresAt.getTime() };
    } else target[key] = copyData(value);
  }
}
