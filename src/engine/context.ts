/**
 * What every part of the engine shares: the resolved options, the lifecycle state, the clocks
 * (local, and the store's by the measured offset), event emission, error reporting, and the
 * background work a stop waits for. It holds no scheduling state of its own.
 */
import type { EventEmitter } from 'eventemitter3';
import { SchedulerError, StoreError } from '../errors.js';
import type { SchedulerEvents } from '../events.js';
import type { Job } from '../types.js';
import type { EventTap, ResolvedOptions } from './options.js';
import { frozenCopy, frozenJob } from '../util/clone.js';
import { toError } from './outcome.js';
import { StderrReport } from './stderr-report.js';

/**
 * What kind of failure `fail` reports, for the stderr rate limit: `result-dropped` for a job's end
 * that could not be recorded (its result is lost; the job runs again once its lease runs out).
 */
export type FailureKind = 'result-dropped';

/** Lifecycle of a scheduler instance. */
export type LifecycleState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** First pause of `retryStore`; it doubles on each further failure (to at most 2 s). */
const RETRY_FIRST_DELAY_MS = 100;

/** The engine's shared services; one per `Scheduler`. */
export class EngineContext {
  readonly o: ResolvedOptions;
  state: LifecycleState = 'idle';
  /** Measured offset of the store's clock to this instance's (see `Maintenance`). */
  clockOffsetMs = 0;
  /** The slowest of the latest lease renewal round trips, in ms (see `LeaseKeeper`): how slow the store answers now. */
  storeRoundTripMs = 0;
  /**
   * Clock time of the earliest error reported through `fail()` that no audit of this instance's
   * own jobs has taken up yet (`null`: none). After such an error a job may be left running in
   * the store under this instance's lease while no attempt here holds it (see `StallRecovery`).
   */
  failedSince: number | null = null;
  /** Note the round trip (ms) of a store call that brought in or kept work (see `StorePressure`). */
  onRoundTrip: (roundTripMs: number) => void = () => undefined;
  /** Slots that may be in the middle of being claimed at once (see `StorePressure.claimWindow`). */
  claimWindow: () => number = () => Number.POSITIVE_INFINITY;
  /** Whether the store answers this instance too slowly for the work it holds (see `StorePressure`). */
  overloaded: () => boolean = () => false;
  /**
   * Set by the telemetry once it counts or traces: sees every event the engine emits, before any
   * listener, with the engine's own record (read at once, never kept nor changed), so telemetry
   * needs no event snapshot and adds no listener an app could see or remove. A field of the
   * context, not of the options object: that object's shape stays as it was without telemetry.
   */
  observe: EventTap | null = null;
  readonly #emitter: EventEmitter<SchedulerEvents>;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Where failures go when nothing else would show them (no logger, no `error` listener). */
  readonly #lastResort: StderrReport | null;

  constructor(options: ResolvedOptions, emitter: EventEmitter<SchedulerEvents>) {
    this.o = options;
    this.#emitter = emitter;
    this.#lastResort = options.loggerGiven ? null : new StderrReport(options.clock, options.instanceId);
  }

  /** Whether the instance is running (claims, starts and polls happen only then). */
  get running(): boolean {
    return this.state === 'running';
  }

  now(): Date {
    return new Date(this.o.clock.now());
  }

  /**
   * Now on the store's clock: leases and locks are compared by every instance against each other,
   * so their arithmetic uses the measured offset to the shared store's clock, not the local one.
   */
  storeNow(): Date {
    return new Date(this.o.clock.now() + this.clockOffsetMs);
  }

  /**
   * How long after its time a slot its owner left unclaimed is taken by any instance:
   * `takeoverMs`, plus three of the store's current round trips. The owner needs two (insert the
   * job, advance the trigger) after its timer fired, and a store that answers this instance slowly
   * answers the owner as slowly: taking its slots any earlier would race a live owner on every
   * slot, and each such race costs both more store calls, slowing the store further.
   */
  takeoverAfterMs(): number {
    return this.o.takeoverMs + 3 * Math.ceil(this.storeRoundTripMs);
  }

  /** When a lease granted now runs out, on the store's clock. */
  leaseExpiry(): Date {
    return new Date(this.o.clock.now() + this.clockOffsetMs + this.o.leaseMs);
  }

  /**
   * Emit an event; a listener that throws is logged, never allowed to break the engine. A job or
   * trigger goes out as a frozen snapshot, made once per emit and shared by its listeners: none
   * of them can reach the engine's own record, nor change what the next listener sees. Nothing
   * is copied for an event without listeners. The telemetry's tap (`observe`) sees it first.
   */
  emit<K extends keyof SchedulerEvents>(event: K, ...args: SchedulerEvents[K]): void {
    // One field read while no telemetry taps the events; the tap's call (and its try/catch) lives
    // in a method of its own, so this one stays small.
    if (this.observe !== null) this.#observe(event, args[0]);
    if (this.#emitter.listenerCount(event) === 0) return;
    if (event.startsWith('job:')) args[0] = frozenJob(args[0] as Job);
    else if (event.startsWith('trigger:')) args[0] = frozenCopy(args[0]);
    try {
      (this.#emitter.emit as (event: K, ...args: SchedulerEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.o.logger.error({ event, error: toError(error).message }, 'an event listener threw');
    }
  }

  #observe<K extends keyof SchedulerEvents>(event: K, payload: SchedulerEvents[K][0]): void {
    try {
      this.observe?.(event, payload);
    } catch (error) {
      this.o.logger.error({ event, error: toError(error).message }, 'telemetry failed on an event');
    }
  }

  /**
   * Report an error that has no caller to throw to: log it and emit `error`. With neither a logger
   * nor an `error` listener it reaches stderr, once per `kind` per minute (by default its `code`).
   */
  fail(error: Error, kind?: FailureKind): void {
    this.failedSince ??= this.o.clock.now();
    const code = (error as { code?: unknown }).code;
    this.o.logger.error({ error: error.message, code }, error.message);
    if (this.#lastResort && this.#emitter.listenerCount('error') === 0) {
      this.#lastResort.report(kind ?? (typeof code === 'string' ? code : error.name), error);
    }
    this.emit('error', error);
  }

  /** Background work a stop waits for (claims, dispatch, end writes). */
  track(work: Promise<unknown>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  /** Settles once every piece of tracked work so far has. */
  async settleTracked(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.o.clock.setTimer(resolve, ms));
  }

  /**
   * Run a store write, retrying errors a few times with backoff (about 3 s in all). Used for a
   * job's final write: while the job is still held, its lease is renewed, so a short outage does
   * not turn a finished job into a recovered one that runs again. The write stays fenced, so a
   * retry after the lease was lost is refused, not harmful.
   */
  async retryStore<T>(write: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (attempt >= 4) throw error;
        await this.sleep(Math.min(2000, RETRY_FIRST_DELAY_MS * 2 ** attempt));
      }
    }
  }

  /** Run a store call for a public method; backend errors come out as `StoreError`. */
  async store<T>(operation: () => Promise<T>, what: string): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw storeFailure(error, what);
    }
  }
}

/** A store's error as the caller sees it: the library's own errors as they are, others wrapped. */
export function storeFailure(error: unknown, what: string): SchedulerError {
  if (error instanceof SchedulerError) return error;
  return new StoreError(`${what} failed: ${toError(error).message}`, { cause: error });
}
