/**
 * Conversion between records and documents. Records are rebuilt field by field on the way out, so
 * a document written by an older version (a field missing) still yields the full record shape with
 * `null` where empty, and fields the record type does not know never leak out. The driver
 * deserialises a fresh object graph for every read, so nothing returned here is shared.
 */
import { StoreError } from '../../errors.js';
import type { Job, JsonValue, NormalizedSchedule, Trigger } from '../../types.js';
import type { HandlerCount } from '../../ports.js';
import { triggerBucket } from '../../util/ownership-bucket.js';
import type { JobDocument, TriggerDocument } from './documents.js';

/** A trigger as a document (`id` becomes `_id`; its ownership bucket is added). */
export function triggerToDocument(trigger: Trigger): TriggerDocument {
  const { id, ...rest } = trigger;
  return { _id: id, ...rest, bucket: triggerBucket(id) };
}

/** A document as a trigger. */
export function documentToTrigger(doc: TriggerDocument): Trigger {
  return {
    id: doc._id,
    name: doc.name,
    handler: doc.handler,
    schedule: schedule(doc.schedule),
    payload: json(doc.payload),
    status: doc.status,
    nextRunAt: doc.nextRunAt ?? null,
    lastRunAt: doc.lastRunAt ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    retry: doc.retry ?? null,
    timeoutMs: doc.timeoutMs ?? null,
    maxStalls: doc.maxStalls ?? null,
    misfire: doc.misfire,
    overlap: doc.overlap,
    maxConcurrent: doc.maxConcurrent ?? null,
    window: doc.window ?? null,
    jitterMs: doc.jitterMs ?? 0,
    priority: doc.priority ?? 0,
    startAt: doc.startAt ?? null,
    endAt: doc.endAt ?? null,
    tags: doc.tags ?? [],
    alertAfterMs: doc.alertAfterMs ?? null,
    version: doc.version,
  };
}

function schedule(stored: NormalizedSchedule): NormalizedSchedule {
  switch (stored.kind) {
    case 'cron':
      return { kind: 'cron', cron: stored.cron, timezone: stored.timezone };
    case 'every':
      return { kind: 'every', every: stored.every, startAt: stored.startAt, endAt: stored.endAt ?? null };
    case 'at':
      return { kind: 'at', at: stored.at };
    case 'manual':
      return { kind: 'manual' };
    case 'event':
      return { kind: 'event', event: stored.event, filter: stored.filter ?? {} };
    case 'after':
      return { kind: 'after', after: stored.after, on: stored.on };
  }
}

/**
 * A job as a document. The lease loses its token: the stored `fence` stands for it, which is what
 * lets `claimPending` raise the fence and hand out the lease in one atomic update. A leased job
 * whose token differs from its fence cannot be stored that way and is refused.
 */
export function jobToDocument(job: Job): JobDocument {
  const { id, lease, ...rest } = job;
  if (lease !== null && lease.token !== job.fence) {
    throw new StoreError(`job "${id}": the MongoDB backend stores a lease's token as the job's fence, so lease.token (${lease.token}) must equal fence (${job.fence})`);
  }
  return { _id: id, ...rest, lease: lease === null ? null : { owner: lease.owner, expiresAt: lease.expiresAt } };
}

/** A document as a job; a held lease gets its token back from `fence`. */
export function documentToJob(doc: JobDocument): Job {
  const fence = doc.fence ?? 0;
  const metrics = doc.metrics ?? null;
  return {
    id: doc._id,
    key: doc.key,
    triggerId: doc.triggerId,
    handler: doc.handler,
    payload: json(doc.payload),
    source: doc.source,
    scheduledFor: doc.scheduledFor,
    runAt: doc.runAt,
    status: doc.status,
    priority: doc.priority ?? 0,
    attempts: doc.attempts ?? 0,
    maxAttempts: doc.maxAttempts,
    stalls: doc.stalls ?? 0,
    // Written before stalls were counted: such a job gets the default.
    maxStalls: doc.maxStalls ?? 1,
    timeoutMs: doc.timeoutMs ?? null,
    backoff: doc.backoff ?? null,
    permitLimit: doc.permitLimit ?? null,
    nextAttemptAt: doc.nextAttemptAt ?? null,
    result: doc.result === undefined ? null : json(doc.result),
    error: doc.error ?? null,
    metrics: {
      queuedMs: metrics?.queuedMs ?? null,
      durationMs: metrics?.durationMs ?? null,
      cpuUserMs: metrics?.cpuUserMs ?? null,
      cpuSystemMs: metrics?.cpuSystemMs ?? null,
      heapUsedBytes: metrics?.heapUsedBytes ?? null,
      threadWaitMs: metrics?.threadWaitMs ?? null,
    },
    history: (doc.history ?? []).map((entry) => ({
      status: entry.status,
      at: entry.at,
      instanceId: entry.instanceId ?? null,
      reason: entry.reason ?? null,
    })),
    instanceId: doc.instanceId ?? null,
    lease: doc.lease ? { owner: doc.lease.owner, token: fence, expiresAt: doc.lease.expiresAt } : null,
    fence,
    event: doc.event ?? null,
    upstream: doc.upstream ?? null,
    gate: doc.gate ?? null,
    traceparent: doc.traceparent ?? null,
    cancelRequested: doc.cancelRequested ?? false,
    dependentsFired: doc.dependentsFired ?? false,
    createdAt: doc.createdAt,
    startedAt: doc.startedAt ?? null,
    finishedAt: doc.finishedAt ?? null,
  };
}

// A stored JSON value: `undefined` (a field missing from an old document) reads as JSON null.
function json(value: JsonValue | undefined): JsonValue {
  return value === undefined ? null : value;
}

/** `$group` rows by handler as `HandlerCount`s, in name order. */
export function byHandler(rows: ReadonlyArray<{ _id: unknown; n: number }>): HandlerCount[] {
  return rows
    .filter((row): row is { _id: string; n: number } => typeof row._id === 'string')
    .map((row) => ({ handler: row._id, count: row.n }))
    .sort((a, b) => (a.handler < b.handler ? -1 : a.handler > b.handler ? 1 : 0));
}
