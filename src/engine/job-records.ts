/**
 * Job records as the engine writes them: a new occurrence's job (started here at once, or
 * waiting), and the shapes of a lease holder's writes. Plain functions: the hot path builds one
 * record per fire and must not pay for more than the literal.
 */
import type { JobCondition, JobWrite } from '../ports.js';
import { newId } from '../util/id.js';
import type { Job, JobSource, JobStatus, JsonValue, RetryPolicy, Trigger } from '../types.js';
import { jobMetrics, permitLimit, reasonFor } from './outcome.js';

/** What makes an occurrence's job, before it is decided how the job starts. */
export interface JobDraft {
  source: JobSource;
  key: string;
  scheduledFor: Date;
  runAt: Date;
  payload: JsonValue;
  event: Job['event'];
  upstream: Job['upstream'];
}

/** The defaults of a job's policies, below the trigger's and the handler's own. */
export interface JobDefaults {
  instanceId: string;
  defaultRetry: RetryPolicy;
  defaultTimeoutMs: number | null;
  defaultMaxStalls: number;
  /** Records the span that creates a job and returns its `traceparent` (OpenTelemetry); `null` without tracing. */
  traceSend: ((job: Job) => string | null) | null;
}

/** The per-handler policies a job falls back to when its trigger sets none. */
export interface HandlerPolicies {
  retry: RetryPolicy | null;
  timeoutMs: number | null;
  maxStalls: number | null;
}

/**
 * A job record for an occurrence that starts here now: running, attempt 1, with a lease. One
 * literal, every field spelled out: this runs for every fire.
 */
export function startingJob(
  defaults: JobDefaults,
  trigger: Trigger,
  handler: HandlerPolicies | null,
  draft: JobDraft,
  now: Date,
  expiresAt: Date,
  startsAt: Date = now,
): Job {
  const instanceId = defaults.instanceId;
  const retry = trigger.retry ?? handler?.retry ?? defaults.defaultRetry;
  const job: Job = {
    id: newId(),
    key: draft.key,
    triggerId: trigger.id,
    handler: trigger.handler,
    payload: draft.payload,
    source: draft.source,
    scheduledFor: draft.scheduledFor,
    runAt: draft.runAt,
    status: 'running',
    priority: trigger.priority,
    attempts: 1,
    maxAttempts: retry.attempts,
    stalls: 0,
    maxStalls: trigger.maxStalls ?? handler?.maxStalls ?? defaults.defaultMaxStalls,
    timeoutMs: trigger.timeoutMs ?? handler?.timeoutMs ?? defaults.defaultTimeoutMs,
    backoff: retry.backoff ?? null,
    permitLimit: permitLimit(trigger),
    nextAttemptAt: null,
    result: null,
    error: null,
    metrics: jobMetrics(Math.max(0, startsAt.getTime() - draft.runAt.getTime())),
    history: [
      { status: 'pending', at: now, instanceId, reason: reasonFor(draft.source) },
      { status: 'running', at: now, instanceId, reason: startsAt === now ? 'attempt 1' : 'attempt 1, claimed ahead: starts at its slot' },
    ],
    instanceId,
    lease: { owner: instanceId, token: 1, expiresAt },
    fence: 1,
    event: draft.event,
    upstream: draft.upstream,
    gate: null,
    traceparent: null,
    cancelRequested: false,
    dependentsFired: false,
    createdAt: now,
    startedAt: startsAt,
    finishedAt: null,
  };
  if (defaults.traceSend !== null) job.traceparent = defaults.traceSend(job);
  return job;
}

/**
 * A job record for an occurrence that does not start here now: `pending` (or `skipped`), no
 * attempt, no lease; `fields` says the rest. Built from `startingJob` (off the hot path).
 */
export function waitingJob(defaults: JobDefaults, trigger: Trigger, handler: HandlerPolicies | null, draft: JobDraft, now: Date, fields: Partial<Job>): Job {
  const started = startingJob(defaults, trigger, handler, draft, now, now);
  const notStarted: Partial<Job> = {
    status: 'pending',
    attempts: 0,
    fence: 0,
    lease: null,
    instanceId: null,
    startedAt: null,
    metrics: jobMetrics(null),
    history: [],
  };
  return Object.assign(started, notStarted, fields);
}

const RUNNING: JobStatus[] = ['running'];
const runningConditions: JobCondition[] = [];

/** The condition of a lease holder's write: still running, under this lease token (shared for the usual small tokens). */
export function runningCondition(token: number): JobCondition {
  if (token >= 16) return { status: RUNNING, leaseToken: token };
  return (runningConditions[token] ??= Object.freeze({ status: RUNNING, leaseToken: token }));
}

/** The job as `write` left it, from the writer's own copy. */
export function asWritten(job: Job, write: JobWrite): Job {
  const written: Job = Object.assign({ ...job }, write.patch);
  if (write.history) written.history = job.history.concat(write.history);
  return written;
}
