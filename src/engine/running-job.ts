/**
 * One attempt in progress: what the engine holds while a handler runs, and the `JobContext` the
 * handler sees. Kept cheap because every fire builds one: the `AbortSignal` (a few microseconds to
 * create in Node) and the job's child logger exist only once something asks for them.
 */
import { JobTimeoutError, SchedulerStoppedError } from '../errors.js';
import type { Logger } from '../logger.js';
import { childLogger, zeroMetrics } from './outcome.js';
import { cloneTrigger } from '../util/clone.js';
import type { JobContext, Lease, RunOutcome } from '../ports.js';
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
  #controller: AbortController | null = null;
  #interrupt: (() => void) | null = null;
  #over = false;
  #done: Promise<void> | null = null;
  #resolveDone: (() => void) | null = null;

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
   * Settles when the attempt is over and its slot of capacity is free again. Made on first ask:
   * only a stop or a cancel waits for a run.
   */
  get done(): Promise<void> {
    if (this.#over) return Promise.resolve();
    return (this.#done ??= new Promise<void>((resolve) => (this.#resolveDone = resolve)));
  }

  /** The attempt is over: settle `done`. */
  end(): void {
    this.#over = true;
    this.#resolveDone?.();
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
   * Call `settle` once: with the runner's outcome (a rejection becomes a failed outcome), or with
   * `null` as soon as `abort()` is called, whichever comes first. A handler that ignores its
   * signal must not hold the job, or its capacity, forever.
   */
  awaitOutcome(running: Promise<RunOutcome>, settle: (outcome: RunOutcome | null) => void): void {
    if (this.reason) {
      settle(null);
      return;
    }
    let settled = false;
    const once = (outcome: RunOutcome | null): void => {
      if (settled) return;
      settled = true;
      this.#interrupt = null;
      settle(outcome);
    };
    this.#interrupt = () => once(null);
    running.then(once, (error: unknown) => once({ ok: false, error, metrics: zeroMetrics() }));
  }
}

/** The `JobContext` of one attempt; getters instead of per-job closures. */
export class RunContext implements JobContext {
  readonly payload: JsonValue;
  readonly attempt: number;
  readonly job: Job;
  readonly #trigger: Trigger | null;
  #triggerCopy: Trigger | null = null;
  readonly #run: RunningJob;
  readonly #logger: Logger;
  readonly #renew: (run: RunningJob) => Promise<void>;
  #log: Logger | null = null;

  constructor(run: RunningJob, trigger: Trigger | null, logger: Logger, renew: (run: RunningJob) => Promise<void>) {
    this.job = run.job;
    this.payload = run.job.payload;
    this.attempt = run.job.attempts;
    this.#trigger = trigger;
    this.#run = run;
    this.#logger = logger;
    this.#renew = renew;
  }

  /**
   * @inheritdoc
   *
   * Copied on first read: the engine keeps its own copy for the trigger's next slot, and most
   * handlers never look.
   */
  get trigger(): Trigger | null {
    if (this.#trigger === null) return null;
    return (this.#triggerCopy ??= cloneTrigger(this.#trigger));
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
