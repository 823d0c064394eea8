/**
 * Every error the scheduler throws extends `SchedulerError` and carries a stable `code`, so callers
 * can branch on `err.code` without parsing messages.
 */

/** Stable error codes. */
export type SchedulerErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_TRIGGER_CONFIG'
  | 'ERR_HANDLER_NOT_FOUND'
  | 'ERR_TRIGGER_NOT_FOUND'
  | 'ERR_JOB_NOT_FOUND'
  | 'ERR_JOB_NOT_RETRYABLE'
  | 'ERR_JOB_TIMEOUT'
  | 'ERR_ILLEGAL_TRANSITION'
  | 'ERR_STORE'
  | 'ERR_PERMANENT_JOB'
  | 'ERR_SCHEDULER_STOPPED'
  | 'ERR_PREVIEW_BUDGET';

/** Base class of all scheduler errors. */
export class SchedulerError extends Error {
  /** Stable machine-readable code. */
  readonly code: SchedulerErrorCode;

  constructor(code: SchedulerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * An argument of a public call is invalid: an option (of the `Scheduler`, a runner, the webhook,
 * the management API, the dashboard, a store), a handler registration, a list query or cursor, an
 * event name. `field` names the offending field by its dotted path, e.g. `auth.jwt.audience`.
 *
 * Trigger input (schedules, policies, payloads, ids) throws the subclass `InvalidTriggerConfigError`,
 * so `err instanceof InvalidArgumentError` catches every bad input, and `err.code` tells the two apart.
 */
export class InvalidArgumentError extends SchedulerError {
  /** The code of this class; `InvalidTriggerConfigError` has its own. */
  protected static readonly errorCode: 'ERR_INVALID_ARGUMENT' | 'ERR_INVALID_TRIGGER_CONFIG' = 'ERR_INVALID_ARGUMENT';

  /** Dotted path of the offending field, e.g. `schedule.cron`. */
  readonly field: string;

  constructor(field: string, reason: string) {
    super(new.target.errorCode, `${field}: ${reason}`);
    this.field = field;
  }
}

/**
 * Trigger input is invalid: what `addTrigger`, `upsertTrigger`, `updateTrigger`, `nextFireTimes`
 * and the trigger's payload carry (schedule, policies, window, ids, payload, dependencies).
 * `field` names the offending field (dotted path).
 */
export class InvalidTriggerConfigError extends InvalidArgumentError {
  protected static override readonly errorCode = 'ERR_INVALID_TRIGGER_CONFIG' as const;
}

/**
 * A trigger names a handler that is not registered on this instance (register it before adding
 * triggers for it, or name it in the `remoteHandlers` option when it runs in another process).
 * Like `InvalidTriggerConfigError`, it names the `field`.
 */
export class HandlerNotFoundError extends SchedulerError {
  /** The missing handler name. */
  readonly handler: string;
  /** The field that named it. */
  readonly field: string;

  constructor(handler: string, field = 'handler') {
    super(
      'ERR_HANDLER_NOT_FOUND',
      `${field}: no handler registered as "${handler}"; call register() first, or list it in the remoteHandlers option if it runs in another process`,
    );
    this.handler = handler;
    this.field = field;
  }
}

/** No trigger has the id. */
export class TriggerNotFoundError extends SchedulerError {
  /** The missing id. */
  readonly triggerId: string;

  constructor(triggerId: string) {
    super('ERR_TRIGGER_NOT_FOUND', `trigger "${triggerId}" not found`);
    this.triggerId = triggerId;
  }
}

/** No job has the id. */
export class JobNotFoundError extends SchedulerError {
  /** The missing id. */
  readonly jobId: string;

  constructor(jobId: string) {
    super('ERR_JOB_NOT_FOUND', `job "${jobId}" not found`);
    this.jobId = jobId;
  }
}

/**
 * `retryJob` was called on a job that did not end `failed` or `cancelled` (a pending or running job
 * is still under way; a succeeded or skipped one has nothing to retry).
 */
export class JobNotRetryableError extends SchedulerError {
  /** The job's id. */
  readonly jobId: string;
  /** Its status when the retry was refused. */
  readonly status: string;

  constructor(jobId: string, status: string) {
    super('ERR_JOB_NOT_RETRYABLE', `job "${jobId}" is ${status}; only a failed or cancelled job can be retried`);
    this.jobId = jobId;
    this.status = status;
  }
}

/** An attempt ran longer than its `timeoutMs`. */
export class JobTimeoutError extends SchedulerError {
  /** The limit that was exceeded. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super('ERR_JOB_TIMEOUT', `job exceeded its timeout of ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** A job status change that the state machine does not allow. */
export class IllegalTransitionError extends SchedulerError {
  /** Status before. */
  readonly from: string;
  /** Requested status. */
  readonly to: string;

  constructor(from: string, to: string, jobId?: string) {
    super('ERR_ILLEGAL_TRANSITION', `illegal job transition ${from} -> ${to}${jobId ? ` (job "${jobId}")` : ''}`);
    this.from = from;
    this.to = to;
  }
}

/** A store operation failed. `cause` is the backend's error. */
export class StoreError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STORE', message, options);
  }
}

/** Thrown by a handler to fail its job at once, without retries. */
export class PermanentJobError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PERMANENT_JOB', message, options);
  }
}

/** The scheduler is not running (or is stopping) and cannot take the call. */
export class SchedulerStoppedError extends SchedulerError {
  constructor(message = 'scheduler is stopped') {
    super('ERR_SCHEDULER_STOPPED', message);
  }
}

/**
 * A fire-time preview would have to look further ahead than its horizon: the schedule is sparse
 * (say, February 29) and the preview asked for more fire times than the horizon holds. Walking a
 * calendar is synchronous work, so the horizon bounds it. Ask for fewer, or widen `horizon`.
 */
export class PreviewBudgetError extends SchedulerError {
  /** How far ahead the preview looked, in milliseconds. */
  readonly horizonMs: number;
  /** How many fire times were found within it. */
  readonly found: number;

  constructor(horizonMs: number, found: number, count: number) {
    const years = Math.round((horizonMs / (365.25 * 86_400_000)) * 10) / 10;
    super(
      'ERR_PREVIEW_BUDGET',
      `only ${found} of the ${count} fire times asked for lie within the preview horizon of ${years} years; ask for at most ${found}`,
    );
    this.horizonMs = horizonMs;
    this.found = found;
  }
}
