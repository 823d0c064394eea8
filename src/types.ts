/**
 * Public record and option types of the scheduler, and the status vocabularies they are built on.
 *
 * Records (`Trigger`, `Job`) hold only data that survives a round trip through a store: JSON values
 * and `Date`s. Code (handlers, `retryOn` predicates) lives in handler registrations.
 *
 * Each status list is written once here, `as const`; the status types, the final-status set, input
 * validation, the CLI's choices and the OpenAPI enums are derived from it, so they cannot drift.
 */

/** A JSON primitive. */
export type JsonPrimitive = string | number | boolean | null;

/** Any JSON value: what a payload or a result may hold. */
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** A point in time given as a `Date`, an ISO-8601 string or epoch milliseconds. */
export type DateInput = Date | string | number;

/** Fire on a cron expression (5 or 6 fields) in an IANA time zone (default `UTC`). */
export interface CronSchedule {
  /** `minute hour day-of-month month day-of-week`, optionally preceded by seconds. */
  cron: string;
  /**
   * IANA zone name such as `Europe/Berlin`.
   * @default 'UTC'
   * @example { cron: '0 9 * * MON-FRI', timezone: 'Europe/Berlin' }
   */
  timezone?: string;
}

/** Fire every fixed interval, counted from `startAt` (default: when the trigger is added). */
export interface EverySchedule {
  /** Interval in milliseconds, or a duration such as `'30s'`, `'5m'`, `'2h'`, `'1d'`. */
  every: number | string;
  /** First slot; the next ones follow every `every` from it. @default the time the trigger is added */
  startAt?: DateInput;
  /** No slot after this instant. @default undefined (no end) */
  endAt?: DateInput;
}

/** Fire once at an instant; the trigger is `completed` afterwards. */
export interface AtSchedule {
  /** The instant to fire at. Must not be in the past when the trigger is added. */
  at: DateInput;
}

/** Fire only through `scheduler.runTrigger(id)`. */
export interface ManualSchedule {
  /** Always `true`. */
  manual: true;
}

/** Fire when `scheduler.publish(event, payload)` is called with a matching payload. */
export interface EventSchedule {
  /** Event name. */
  event: string;
  /**
   * Every field listed here must be equal (`===`) to the same field of the event payload.
   * @default {} (every event of that name)
   * @example { event: 'testrun.finished', filter: { suite: 'smoke' } }
   */
  filter?: Record<string, JsonPrimitive>;
}

/** Outcome of an upstream trigger's job that a dependent trigger reacts to. */
export type DependencyCondition = 'success' | 'failure' | 'completion';

/** Fire when a job of another trigger reaches a final state. */
export interface AfterSchedule {
  /** Id of the upstream trigger. */
  after: string;
  /**
   * Which outcome fires this trigger.
   * @default 'success'
   * @example { after: 'nightly-import', on: 'completion' }
   */
  on?: DependencyCondition;
}

/** Every schedule a trigger can have. */
export type Schedule =
  | CronSchedule
  | EverySchedule
  | AtSchedule
  | ManualSchedule
  | EventSchedule
  | AfterSchedule;

/** Schedule as stored: dates are `Date`s, intervals are milliseconds, optional fields resolved. */
export type NormalizedSchedule =
  | { kind: 'cron'; cron: string; timezone: string }
  | { kind: 'every'; every: number; startAt: Date; endAt: Date | null }
  | { kind: 'at'; at: Date }
  | { kind: 'manual' }
  | { kind: 'event'; event: string; filter: Record<string, JsonPrimitive> }
  | { kind: 'after'; after: string; on: DependencyCondition };

/** Backoff between attempts. */
export interface BackoffPolicy {
  /** `fixed`: `delayMs`; `linear`: `delayMs * n`; `exponential`: `delayMs * 2^(n-1)`. */
  type: 'fixed' | 'linear' | 'exponential';
  /** Base delay in milliseconds. */
  delayMs: number;
  /** Upper bound of the delay before jitter. @default undefined (no bound below one year) */
  maxDelayMs?: number;
  /** `full`: uniform in [0, d]; `equal`: uniform in [d/2, d]; `none`: exactly d. @default 'none' */
  jitter?: 'none' | 'full' | 'equal';
}

/** How often a job is attempted and how long to wait between attempts. */
export interface RetryPolicy {
  /** Total attempts including the first (1 = no retry). */
  attempts: number;
  /**
   * Delay between attempts.
   * @default { type: 'fixed', delayMs: 1000, jitter: 'none' }
   * @example { attempts: 5, backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000, jitter: 'full' } }
   */
  backoff?: BackoffPolicy;
}

/** What to do with slots that were due while no instance could fire them. */
export type MisfirePolicy = 'run-once' | 'skip' | 'run-all';

/** What to do when a slot is due while the trigger's previous job still runs. */
export type OverlapPolicy = 'allow' | 'skip' | 'queue';

/** Day of week, as a name or as 0 (Sunday) to 6 (Saturday). */
export type Weekday = 'SUN' | 'MON' | 'TUE' | 'WED' | 'THU' | 'FRI' | 'SAT' | 0 | 1 | 2 | 3 | 4 | 5 | 6;

/** Slots outside the window are recorded as `skipped` jobs instead of running. */
export interface TimeWindow {
  /**
   * Allowed days of week.
   * @default every day
   * @example days: ['MON', 'TUE', 'WED', 'THU', 'FRI']
   */
  days?: Weekday[];
  /**
   * Allowed local time range `['HH:mm', 'HH:mm']`, start inclusive, end exclusive; may wrap midnight.
   * @default undefined (the whole day)
   */
  between?: [string, string];
  /** Zone of `days` and `between`. @default the cron trigger's zone, else 'UTC' */
  timezone?: string;
}

/** Window as stored. */
export interface NormalizedTimeWindow {
  /** Allowed days, 0 = Sunday. */
  days: number[];
  /** Minutes after local midnight, start inclusive, end exclusive; `null` for the whole day. */
  between: [number, number] | null;
  /** IANA zone. */
  timezone: string;
}

/** What `addTrigger` accepts. */
export interface TriggerInput {
  /** Unique id. No `$`, no `.`, at most 200 characters. @default a generated id */
  id?: string;
  /** Display name. @default the id */
  name?: string;
  /** Name of a registered handler. */
  handler: string;
  /** JSON payload handed to every job. @default null */
  payload?: JsonValue;
  /** When the trigger fires. */
  schedule: Schedule;
  /**
   * Retry policy.
   * @default the handler's, then the scheduler's `defaults.retry` (1 attempt)
   * @example retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 2000 } }
   */
  retry?: RetryPolicy;
  /** Per-attempt time limit in ms. @default the handler's, then the scheduler's `defaults.timeoutMs` (none) */
  timeoutMs?: number;
  /**
   * How often a job of this trigger is run again after its instance died while running it (its
   * lease ran out): a stall, which spends no attempt. Past it the job fails with `ERR_STALLED`.
   * 0 never re-runs a stalled job.
   * @default the handler's, then the scheduler's `defaults.maxStalls` (1)
   */
  maxStalls?: number;
  /** What to do with slots missed by more than `misfireGraceMs` (see docs/policies.md). @default 'run-once' */
  misfire?: MisfirePolicy;
  /** What to do when a slot is due while the trigger's previous job still runs. @default 'allow' */
  overlap?: OverlapPolicy;
  /** Most jobs of this trigger running at once across all instances. @default undefined (no cap) */
  maxConcurrent?: number;
  /**
   * Only run inside this window; slots outside it are recorded as `skipped`.
   * @default undefined (always)
   * @example window: { days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], between: ['09:00', '17:00'], timezone: 'Europe/Berlin' }
   */
  window?: TimeWindow;
  /** Random delay in [0, jitterMs) added to each slot's start (the slot key is unchanged). @default 0 */
  jitterMs?: number;
  /** Higher runs first among slots due at the same time; an integer from -1000000 to 1000000. @default 0 */
  priority?: number;
  /** No slot before this instant. @default undefined (from now) */
  startAt?: DateInput;
  /** No slot after this instant; the trigger is `completed` afterwards. @default undefined (no end) */
  endAt?: DateInput;
  /** Add the trigger paused. @default false */
  paused?: boolean;
  /** Free-form labels for `listTriggers({ tag })`. @default [] */
  tags?: string[];
  /**
   * Raise `trigger:late` when a slot of this trigger has not started this long after its time, in
   * ms (default: none). Checked by one instance of the cluster at every maintenance pass, from the
   * store, so the slots of a dead instance are caught too (see docs/observability.md).
   * @default null
   * @example alertAfterMs: 5 * 60_000
   */
  alertAfterMs?: number | null;
}

/** Fields of a trigger that `updateTrigger` can change. */
export type TriggerPatch = Partial<Omit<TriggerInput, 'id'>>;

/** Every trigger status: `active` fires, `paused` waits for `resumeTrigger`, `completed` has no slot left. */
export const TRIGGER_STATUSES = Object.freeze(['active', 'paused', 'completed'] as const);

/** Trigger status (one of `TRIGGER_STATUSES`). */
export type TriggerStatus = (typeof TRIGGER_STATUSES)[number];

/** A stored trigger. */
export interface Trigger {
  /** Unique id. */
  id: string;
  /** Display name. */
  name: string;
  /** Registered handler name. */
  handler: string;
  /** Normalized schedule. */
  schedule: NormalizedSchedule;
  /** Payload handed to every job. */
  payload: JsonValue;
  /** Lifecycle status. */
  status: TriggerStatus;
  /** Next slot to fire, `null` for triggers that do not fire on time (manual, event, after) or are done. */
  nextRunAt: Date | null;
  /** Last slot that was claimed. */
  lastRunAt: Date | null;
  /** When it was added. */
  createdAt: Date;
  /** When it last changed. */
  updatedAt: Date;
  /** Retry policy, if given. */
  retry: RetryPolicy | null;
  /** Timeout, if given. */
  timeoutMs: number | null;
  /** Stalls allowed per job, if given (see `TriggerInput.maxStalls`). */
  maxStalls: number | null;
  /** Misfire policy. */
  misfire: MisfirePolicy;
  /** Overlap policy. */
  overlap: OverlapPolicy;
  /** Concurrency cap across instances, if given. */
  maxConcurrent: number | null;
  /** Run window, if given. */
  window: NormalizedTimeWindow | null;
  /** Start jitter in ms. */
  jitterMs: number;
  /** Priority among slots due together. */
  priority: number;
  /** No slot before. */
  startAt: Date | null;
  /** No slot after. */
  endAt: Date | null;
  /** Labels. */
  tags: string[];
  /** A slot not started this long after its time raises `trigger:late`, in ms; `null`: no alert. */
  alertAfterMs: number | null;
  /** Incremented on every write; used for optimistic concurrency. */
  version: number;
}

/**
 * Every job status, in lifecycle order: `pending` → `running` → one of `FINAL_JOB_STATUSES` (a
 * failed attempt with attempts left goes back to `pending`).
 */
export const JOB_STATUSES = Object.freeze(['pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'] as const);

/** Job status (one of `JOB_STATUSES`). */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The job statuses a job never leaves: the ends of its life. */
export const FINAL_JOB_STATUSES = Object.freeze(['succeeded', 'failed', 'cancelled', 'skipped'] as const satisfies readonly JobStatus[]);

/** A status a job never leaves (one of `FINAL_JOB_STATUSES`). */
export type FinalJobStatus = (typeof FINAL_JOB_STATUSES)[number];

const FINAL_SET: ReadonlySet<JobStatus> = new Set(FINAL_JOB_STATUSES);

/** Whether a job in `status` is over (`status` is one of `FINAL_JOB_STATUSES`). */
export function isFinalJobStatus(status: JobStatus): status is FinalJobStatus {
  return FINAL_SET.has(status);
}

/** Why a job exists. */
export type JobSource = 'schedule' | 'manual' | 'event' | 'dependency';

/** Serializable error of a failed attempt. */
export interface JobErrorInfo {
  /** Error class name. */
  name: string;
  /** Message. */
  message: string;
  /** Stable code (`SchedulerError.code`, or the thrown error's own `code`), if any. */
  code: string | null;
  /**
   * The thrown error's `stack`, at most 30 lines and 4096 characters (a last line says what was
   * cut). Absent when the value thrown was not an `Error`, and for a stall (nothing was thrown).
   */
  stack?: string;
}

/** Resource figures of a job's last attempt. */
export interface JobMetrics {
  /** From `scheduledFor` (or the retry's due time) to start. */
  queuedMs: number | null;
  /** Wall time of the last attempt. */
  durationMs: number | null;
  /** CPU time in user mode during the attempt (the whole thread's, as one thread can tell). */
  cpuUserMs: number | null;
  /** CPU time in system mode during the attempt. */
  cpuSystemMs: number | null;
  /** Heap growth during the attempt (inline; can be negative after a GC), or peak heap (worker thread). */
  heapUsedBytes: number | null;
  /** Time the attempt waited for a free worker thread (`WorkerPoolJobRunner`); 0 inline. */
  threadWaitMs: number | null;
}

/** One status change of a job. */
export interface JobHistoryEntry {
  /** New status. */
  status: JobStatus;
  /** When. */
  at: Date;
  /** Which instance wrote it. */
  instanceId: string | null;
  /** Why, in words. */
  reason: string | null;
}

/** The lease of a running job: who runs it, until when, under which fencing token. */
export interface JobLease {
  /** Instance id of the holder. */
  owner: string;
  /** Grows with every new holder; final writes are conditional on it. */
  token: number;
  /** The lease is void after this instant unless renewed. */
  expiresAt: Date;
}

/** A stored job: one execution (with retries) of a trigger's slot, event or manual run. */
export interface Job {
  /** Unique id. */
  id: string;
  /** Idempotency key: one job per slot, event delivery or upstream job. */
  key: string;
  /** Trigger it belongs to. */
  triggerId: string;
  /** Handler name. */
  handler: string;
  /** Payload. */
  payload: JsonValue;
  /** Why it exists. */
  source: JobSource;
  /** The slot (or the instant of the manual run, event or upstream completion). */
  scheduledFor: Date;
  /** Earliest start (slot plus jitter, or the next retry). */
  runAt: Date;
  /** Status. */
  status: JobStatus;
  /** Priority among jobs due together. */
  priority: number;
  /** Attempts started so far. */
  attempts: number;
  /** Attempts allowed in all. */
  maxAttempts: number;
  /** Times the job was run again because its instance died while running it (see `maxStalls`). */
  stalls: number;
  /** Stalls allowed before the job fails with `ERR_STALLED`, resolved when the job was created. */
  maxStalls: number;
  /** Per-attempt time limit in ms, resolved when the job was created. */
  timeoutMs: number | null;
  /** Backoff between attempts, resolved when the job was created. */
  backoff: BackoffPolicy | null;
  /** The trigger's concurrency cap when the job was created, if it had one (overlap or `maxConcurrent`). */
  permitLimit: number | null;
  /** When the next attempt is due, while `pending` after a failure. */
  nextAttemptAt: Date | null;
  /** Handler's return value. */
  result: JsonValue | null;
  /** Last error. */
  error: JobErrorInfo | null;
  /** Figures of the last attempt. */
  metrics: JobMetrics;
  /** Append-only list of status changes. */
  history: JobHistoryEntry[];
  /** Instance that ran (or runs) it. */
  instanceId: string | null;
  /** Current lease while running. */
  lease: JobLease | null;
  /** Highest lease token ever issued for this job; never decreases. */
  fence: number;
  /** Event that caused it. */
  event: { name: string; id: string } | null;
  /** Upstream job that caused it. */
  upstream: { jobId: string; triggerId: string; status: JobStatus } | null;
  /**
   * Id of the trigger whose concurrency permit this pending job waits for (`overlap: 'queue'` or
   * `maxConcurrent`); `null` when it may start as soon as it is due.
   */
  gate: string | null;
  /**
   * W3C `traceparent` of the span that created the job (OpenTelemetry, when configured): each
   * attempt's `process` span is linked to it, on whichever instance runs it. `null` without tracing.
   */
  traceparent: string | null;
  /** Set by `cancelJob` while running; the holder aborts the handler when it sees it. */
  cancelRequested: boolean;
  /** Whether dependent triggers were already fired for this (final) job. */
  dependentsFired: boolean;
  /** Created. */
  createdAt: Date;
  /** Start of the last attempt. */
  startedAt: Date | null;
  /** Reached a final status. */
  finishedAt: Date | null;
}

/** One page of a list. */
export interface Page<T> {
  /** Items of this page. */
  items: T[];
  /** Pass as `cursor` to get the next page; `null` at the end. */
  nextCursor: string | null;
}

/** Filter of `listTriggers`. */
export interface TriggerQuery {
  /** Triggers carrying this tag. @default undefined (any tags) */
  tag?: string;
  /** Triggers in this status. @default undefined (any status) */
  status?: TriggerStatus;
  /** Triggers of this handler. @default undefined (any handler) */
  handler?: string;
  /** Page size, at most 1000. @default 100 */
  limit?: number;
  /** From a previous page's `nextCursor`. @default undefined (the first page) */
  cursor?: string;
}

/** The fields of a job that can be large and that summaries leave out. */
export type JobDetailField = 'payload' | 'result' | 'history';

/** Filter of `listJobs`. */
export interface JobQuery {
  /** Jobs of this trigger. @default undefined (every trigger's) */
  triggerId?: string;
  /** Jobs in this status (or any of these). @default undefined (any status) */
  status?: JobStatus | JobStatus[];
  /** `scheduledFor` at or after. @default undefined (no lower bound) */
  from?: DateInput;
  /** `scheduledFor` before. @default undefined (no upper bound) */
  to?: DateInput;
  /** Page size, at most 1000. @default 100 */
  limit?: number;
  /** From a previous page's `nextCursor`. @default undefined (the first page) */
  cursor?: string;
  /**
   * Leave these fields out: `payload` and `result` come back `null`, `history` `[]`. A list that
   * shows summaries then reads far less (the MongoDB backend does not fetch them at all).
   * @default [] (every field)
   */
  omit?: readonly JobDetailField[];
}
