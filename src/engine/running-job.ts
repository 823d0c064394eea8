/**
 * One attempt in progress: what the engine holds while a handler runs, and the `JobContext` the
 * handler sees. Kept cheap because every fire builds one: the `AbortSignal` (a few microseconds to
 * create in Node) and the job's child logger exist only once something asks for them.
 */
import { JobTimeoutError, SchedulerStoppedError } from '../errors.js';
import type { Logger } from '../logger.js';
import { childLogger } from './outcome.js';
import { cloneTrigger, copyData } from '../util/clone.js';
import type { TimerHandle } from '../clock.js';
import type { JobContext, Lease, RunOutcome, SlotClaim } from '../ports.js';
import type { Job, JsonValue, Trigger } from '../types.js';

/** Why an attempt was stopped before its handler settled. */
export type AbortReason =
  | { kind: 'timeout'; error: JobTimeoutError }
  | { kind: 'cancel' }
  | { kind: 'lease-lost' }
  | { kind: 'lease-expiring' }
  | { kind: 'shutdown' };

/** The error a stopped attempt's signal carries as its `reason`. */
export function abortError(reason: AbortReason): Error {
  if (reason.kind === 'timeout') return reason.error;
  const message =
    reason.kind === 'cancel'
      ? 'job cancelled'
      : reason.kind === 'lease-lost'
        ? 'lease lost'
        : reason.kind === 'lease-expiring'
          ? 'lease ran out before it could be renewed'
          : 'scheduler stopping';
  return new SchedulerStoppedError(message);
}

/**
 * The trigger as a won claim wrote it: the caller's copy with the claim's update and the next
 * version. A claim only wins on the version the caller read, so nothing else can differ, and
 * the store need not copy the record back. Shares the copy's nested parts, as neither is changed.
 */
export function asClaimed(trigger: Trigger, claim: SlotClaim): Trigger {
  const { update } = claim;
  return { ...trigger, nextRunAt: update.nextRunAt, lastRunAt: update.lastRunAt, status: update.status, updatedAt: update.updatedAt, version: claim.expectedVersion + 1 };
}

/**
 * The room an attempt holds on this instance (a `Place` of `Handlers`): handed over to the attempt
 * when it starts, given back when its end is recorded.
 */
export interface AttemptPlace {
  handOver(): void;
  release(): void;
  releaseUnlessHandedOver(): void;
}

/** What the engine does with an attempt's outcome (`null`: it was stopped before the handler settled). */
export type SettleHandler<R, P extends AttemptPlace = AttemptPlace> = (run: RunningJob<R, P>, outcome: RunOutcome | null) => void;

/**
 * The engine's record of one running attempt. `R` is what the engine keeps with it (its handler
 * registration).
 */
export class RunningJob<R = unknown, P extends AttemptPlace = AttemptPlace> {
  readonly job: Job;
  /** Lease token the attempt's writes are fenced with. */
  readonly token: number;
  readonly registration: R;
  /** The trigger as the engine read it when the job started, if it exists. */
  readonly trigger: Trigger | null;
  /** The slot claim that made the job, if one did: `trigger` is the trigger before it. */
  readonly claim: SlotClaim | null;
  reason: AbortReason | null = null;
  /** The attempt's place of this instance's room. */
  readonly place: P;
  permit: Lease | null;
  /** Clock time the handler was started at (set when it starts). */
  startedAt = 0;
  /**
   * For an attempt prepared ahead of its slot (claimed and written within the lead): the clock
   * time it is to start at; 0 for one started as soon as it was written.
   */
  startAt = 0;
  /** A prepared attempt's trigger as its claim left it: queued for its next slot once this one starts. */
  successor: Trigger | null = null;
  /** Clock time the attempt settled at, and its outcome (`null`: stopped before the handler settled). */
  endedAt = 0;
  outcome: RunOutcome | null = null;
  /** The attempt's timeout, while armed. */
  timeout: TimerHandle | null = null;
  /** When the lease as last granted runs out, in ms on the store's clock. */
  leaseExpiresAt: number;
  /** The renewal of the lease on its way, if one is. */
  renewal: Promise<void> | null = null;
  /** After a failed renewal: no new try before this clock time. */
  renewRetryAt = 0;
  readonly #onSettled: SettleHandler<R, P>;
  /** Links in the instance's list of running attempts (see `LinkedList`). */
  prevLinked: RunningJob<R, P> | null = null;
  nextLinked: RunningJob<R, P> | null = null;
  linked = false;
  #controller: AbortController | null = null;
  #begun = false;
  #settled = false;
  #over = false;
  #done: Promise<void> | null = null;
  #resolveDone: (() => void) | null = null;

  constructor(job: Job, registration: R, trigger: Trigger | null, place: P, permit: Lease | null, onSettled: SettleHandler<R, P>, claim: SlotClaim | null) {
    this.job = job;
    this.place = place;
    this.claim = claim;
    this.token = job.lease?.token ?? job.fence;
    this.leaseExpiresAt = job.lease?.expiresAt.getTime() ?? 0;
    this.registration = registration;
    this.trigger = trigger;
    this.permit = permit;
    this.#onSettled = onSettled;
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

  /** The handler is being started. */
  begin(): void {
    this.#begun = true;
  }

  /** Whether the handler was started. */
  get begun(): boolean {
    return this.#begun;
  }

  /** Whether the attempt's outcome went to the engine (it ended, or was stopped). */
  get settled(): boolean {
    return this.#settled;
  }

  /**
   * The runner's answer. Only the first call counts: once the attempt was stopped (an abort
   * settles it with `null`), a handler that still settles later is ignored.
   */
  readonly deliver = (outcome: RunOutcome): void => this.settle(outcome);

  /** Hand the attempt's outcome to the engine, once. */
  settle(outcome: RunOutcome | null): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#onSettled(this, outcome);
  }

  /**
   * Stop the attempt: abort its signal (if anyone holds it) and stop waiting for its handler (a
   * handler that ignores its signal must not hold the job, or its capacity, forever); one not
   * started yet never starts. Returns `false` when it was stopped before.
   */
  abort(reason: AbortReason): boolean {
    // Once settled there is nothing to stop: the outcome stands.
    if (this.reason || this.#settled) return false;
    this.reason = reason;
    this.#controller?.abort(abortError(reason));
    this.settle(null);
    return true;
  }
}

/** The `JobContext` of one attempt; getters instead of per-job closures. */
export class RunContext<R = unknown, P extends AttemptPlace = AttemptPlace> implements JobContext {
  readonly payload: JsonValue;
  readonly attempt: number;
  #jobCopy: Job | null = null;
  #triggerCopy: Trigger | null = null;
  readonly #run: RunningJob<R, P>;
  readonly #logger: Logger;
  readonly #renew: (run: RunningJob<R, P>) => Promise<void>;
  #log: Logger | null = null;

  constructor(run: RunningJob<R, P>, logger: Logger, renew: (run: RunningJob<R, P>) => Promise<void>) {
    this.payload = run.job.payload;
    this.attempt = run.job.attempts;
    this.#run = run;
    this.#logger = logger;
    this.#renew = renew;
  }

  /**
   * @inheritdoc
   *
   * The handler's own copy, made on first read (most handlers never look): changing it changes
   * nothing in the engine (not the attempts, not the timeout). Its `payload` is `ctx.payload`.
   */
  get job(): Job {
    if (this.#jobCopy) return this.#jobCopy;
    const job = this.#run.job;
    this.#jobCopy = { ...copyData({ ...job, payload: null }), payload: job.payload };
    return this.#jobCopy;
  }

  /**
   * @inheritdoc
   *
   * Copied on first read: the engine keeps its own copy for the trigger's next slot, and most
   * handlers never look.
   */
  get trigger(): Trigger | null {
    const { trigger, claim } = this.#run;
    if (trigger === null) return null;
    // The trigger as the claim that made this job wrote it.
    return (this.#triggerCopy ??= cloneTrigger(claim ? asClaimed(trigger, claim) : trigger));
  }

  /** @inheritdoc */
  get signal(): AbortSignal {
    return this.#run.signal;
  }

  /** @inheritdoc */
  get log(): Logger {
    const { job } = this.#run;
    return (this.#log ??= childLogger(this.#logger, { jobId: job.id, triggerId: job.triggerId, attempt: this.attempt }));
  }

  /** @inheritdoc */
  heartbeat(): Promise<void> {
    return this.#renew(this.#run);
  }
}
