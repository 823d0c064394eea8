/**
 * One attempt in progress: what the engine holds while a handler runs, and the `JobContext` the
 * handler sees. Kept cheap because every fire builds one: the `AbortSignal` (a few microseconds to
 * create in Node) and the job's child logger exist only once something asks for them.
 */
import { JobTimeoutError, SchedulerStoppedError } from '../errors.js';
import type { Logger } from '../logger.js';
import { childLogger } from './outcome.js';
import type { JobContext, Lease } from '../ports.js';
import type { Job, JsonValue, Trigger } from '../types.js';

/** Why an attempt was stopped before its handler settled. */
export type AbortReason =
  | { kind: 'timeout'; error: JobTimeoutError }
  | { kind: 'cancel' }
  | { kind: 'lease-lost' }
  | { kind: 'shutdown' };

/** The error a stopped attempt's signal carries as its `reason`. */
export function abortError(reason: AbortReason): Error {
  if (reason.kind === 'timeout') return reason.error;
  return new SchedulerStoppedError(reason.kind === 'cancel' ? 'job cancelled' : reason.kind === 'lease-lost' ? 'lease lost' : 'scheduler stopping');
}

/** The engine's record of one running attempt. */
export class RunningJob {
  readonly job: Job;
  /** Lease token the attempt's writes are fenced with. */
  readonly token: number;
  reason: AbortReason | null = null;
  permit: Lease | null;
  /** Settles when the attempt is over and its slot of capacity is free again. */
  done: Promise<void> = Promise.resolve();
  #controller: AbortController | null = null;
  #interrupt: (() => void) | null = null;

  constructor(job: Job, permit: Lease | null) {
    this.job = job;
    this.token = job.lease?.token ?? job.fence;
    this.permit = permit;
  }

  /** The attempt's signal, created on first use (aborted already if the attempt was stopped). */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.reason) this.#controller.abort(abortError(this.reason));
    }
    return this.#controller.signal;
  }

  /**
   * Stop the attempt: abort its signal (if anyone holds it) and stop waiting for the handler.
   * Returns `false` when it was stopped before.
   */
  abort(reason: AbortReason): boolean {
    if (this.reason) return false;
    this.reason = reason;
    this.#controller?.abort(abortError(reason));
    this.#interrupt?.();
    return true;
  }

  /**
   * Wait for the runner's outcome, or for `abort()`, whichever comes first (`null` then): a
   * handler that ignores its signal must not hold the job, or its capacity, forever.
   */
  outcomeOf<T>(running: Promise<T>): Promise<T | null> {
    if (this.reason) return Promise.resolve(null);
    return new Promise<T | null>((resolve, reject) => {
      this.#interrupt = () => resolve(null);
      running.then(resolve, reject);
    });
  }
}

/** The `JobContext` of one attempt; getters instead of per-job closures. */
export class RunContext implements JobContext {
  readonly payload: JsonValue;
  readonly attempt: number;
  readonly job: Job;
  readonly trigger: Trigger | null;
  readonly #run: RunningJob;
  readonly #logger: Logger;
  readonly #renew: (run: RunningJob) => Promise<void>;
  #log: Logger | null = null;

  constructor(run: RunningJob, trigger: Trigger | null, logger: Logger, renew: (run: RunningJob) => Promise<void>) {
    this.job = run.job;
    this.payload = run.job.payload;
    this.attempt = run.job.attempts;
    this.trigger = trigger;
    this.#run = run;
    this.#logger = logger;
    this.#renew = renew;
  }

  /** @inheritdoc */
  get signal(): AbortSignal {
    return this.#run.signal;
  }

  /** @inheritdoc */
  get log(): Logger {
    return (this.#log ??= childLogger(this.#logger, { jobId: this.job.id, triggerId: this.job.triggerId, attempt: this.attempt }));
  }

  /** @inheritdoc */
  heartbeat(): Promise<void> {
    return this.#renew(this.#run);
  }
}
