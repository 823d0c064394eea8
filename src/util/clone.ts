/**
 * Copies of stored records. Hand-written rather than `structuredClone` because a fire copies a
 * trigger and its job's data several times and these run at a fraction of its cost; they know the
 * record shapes. (The memory job store's own record form is in `stores/memory/job-record.ts`.)
 */
import type { Job, JobHistoryEntry, JobMetrics, JsonValue, Trigger } from '../types.js';

/** Deep copy of a JSON value (`Date`s, which BSON round trips may leave in payloads, are copied too). */
export function cloneJson<T extends JsonValue>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime()) as unknown as T;
  if (Array.isArray(value)) return value.map((item) => cloneJson(item)) as T;
  const out: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(value)) setOwn(out, key, cloneJson(value[key]!));
  return out as T;
}

/** Deep copy of plain record data: `Date`s, arrays and plain objects are copied, primitives kept. */
export function copyData<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => copyData(item)) as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setOwn(out, key, copyData((value as Record<string, unknown>)[key]));
  return out as T;
}

/**
 * `out[key] = value`, except that a `__proto__` key (an own property `JSON.parse` may create) is
 * defined as data rather than assigned, which would replace the copy's prototype.
 */
function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/**
 * A deep copy of plain record data, frozen all the way down: a snapshot to hand out that no one
 * can change, and that shares nothing with the original (a `Date` is copied; its setters still
 * work on the copy, which reaches nothing).
 */
export function frozenCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (Array.isArray(value)) return Object.freeze(value.map((item: unknown) => frozenCopy(item))) as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setOwn(out, key, frozenCopy((value as Record<string, unknown>)[key]));
  return Object.freeze(out) as T;
}

/**
 * A frozen snapshot of a job, as job events hand it out: what `frozenCopy` makes, written out
 * field by field. Events fire several times per job, and V8 freezes an object written as one
 * literal of fixed keys in a tenth of a microsecond but one built key by key (or by spread) in
 * several: the generic walk cost a third of the memory backend's throughput. The literal names
 * every field, so the compiler refuses a `Job` field left out here.
 */
export function frozenJob(job: Job): Job {
  const lease = job.lease;
  return Object.freeze<Job>({
    id: job.id,
    key: job.key,
    triggerId: job.triggerId,
    handler: job.handler,
    payload: frozenCopy(job.payload),
    source: job.source,
    scheduledFor: new Date(job.scheduledFor.getTime()),
    runAt: new Date(job.runAt.getTime()),
    status: job.status,
    priority: job.priority,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    stalls: job.stalls,
    maxStalls: job.maxStalls,
    timeoutMs: job.timeoutMs,
    backoff: frozenCopy(job.backoff),
    permitLimit: job.permitLimit,
    nextAttemptAt: cloneDate(job.nextAttemptAt),
    result: frozenCopy(job.result),
    error: frozenCopy(job.error),
    metrics: frozenMetrics(job.metrics),
    history: Object.freeze(job.history.map(frozenHistoryEntry)) as JobHistoryEntry[],
    instanceId: job.instanceId,
    lease: lease === null ? null : Object.freeze({ owner: lease.owner, token: lease.token, expiresAt: new Date(lease.expiresAt.getTime()) }),
    fence: job.fence,
    event: job.event === null ? null : Object.freeze({ name: job.event.name, id: job.event.id }),
    upstream: job.upstream === null ? null : Object.freeze({ jobId: job.upstream.jobId, triggerId: job.upstream.triggerId, status: job.upstream.status }),
    gate: job.gate,
    traceparent: job.traceparent,
    cancelRequested: job.cancelRequested,
    dependentsFired: job.dependentsFired,
    createdAt: new Date(job.createdAt.getTime()),
    startedAt: cloneDate(job.startedAt),
    finishedAt: cloneDate(job.finishedAt),
  });
}

function frozenMetrics(metrics: JobMetrics): JobMetrics {
  return Object.freeze({
    queuedMs: metrics.queuedMs,
    durationMs: metrics.durationMs,
    cpuUserMs: metrics.cpuUserMs,
    cpuSystemMs: metrics.cpuSystemMs,
    heapUsedBytes: metrics.heapUsedBytes,
    threadWaitMs: metrics.threadWaitMs,
  });
}

function frozenHistoryEntry(entry: JobHistoryEntry): JobHistoryEntry {
  return Object.freeze({ status: entry.status, at: new Date(entry.at.getTime()), instanceId: entry.instanceId, reason: entry.reason });
}

/** An optional instant as epoch ms (how the memory stores keep instants). */
export function msOf(value: Date | null): number | null {
  return value === null ? null : value.getTime();
}

/** An optional instant kept as epoch ms, as a new `Date`. */
export function dateOf(value: number | null): Date | null {
  return value === null ? null : new Date(value);
}

function cloneDate(value: Date | null): Date | null {
  return value === null ? null : new Date(value.getTime());
}

/** Deep copy of a trigger. */
export function cloneTrigger(trigger: Trigger): Trigger {
  const parts = cloneTriggerParts(trigger);
  return {
    ...trigger,
    schedule: cloneSchedule(trigger.schedule),
    payload: cloneJson(trigger.payload),
    nextRunAt: cloneDate(trigger.nextRunAt),
    lastRunAt: cloneDate(trigger.lastRunAt),
    createdAt: new Date(trigger.createdAt.getTime()),
    updatedAt: new Date(trigger.updatedAt.getTime()),
    retry: parts.retry,
    window: parts.window,
    startAt: cloneDate(trigger.startAt),
    endAt: cloneDate(trigger.endAt),
    tags: parts.tags,
  };
}

/** Copies of a trigger's nested policy parts (retry, window, tags). */
export function cloneTriggerParts(trigger: Pick<Trigger, 'retry' | 'window' | 'tags'>): Pick<Trigger, 'retry' | 'window' | 'tags'> {
  return {
    retry: trigger.retry === null ? null : { ...trigger.retry, ...(trigger.retry.backoff ? { backoff: { ...trigger.retry.backoff } } : {}) },
    window: trigger.window === null ? null : { ...trigger.window, days: [...trigger.window.days], between: trigger.window.between === null ? null : [trigger.window.between[0], trigger.window.between[1]] },
    tags: [...trigger.tags],
  };
}

/** Deep copy of a normalized schedule. */
export function cloneSchedule(schedule: Trigger['schedule']): Trigger['schedule'] {
  switch (schedule.kind) {
    case 'every':
      return { ...schedule, startAt: new Date(schedule.startAt.getTime()), endAt: cloneDate(schedule.endAt) };
    case 'at':
      return { kind: 'at', at: new Date(schedule.at.getTime()) };
    case 'event':
      return { ...schedule, filter: { ...schedule.filter } };
    default:
      return { ...schedule };
  }
}
