/**
 * The handlers registered on this instance, and its room to run them: the instance-wide
 * `concurrency` and each handler's own limit. Every attempt that starts here reserves a place
 * first and gives it back when its end is recorded.
 */
import { InvalidTriggerConfigError } from '../errors.js';
import type { HandlerFunction, JobRunner, ModuleHandler } from '../ports.js';
import { isModuleHandler } from '../runners/module-loader.js';
import { normalizeRetry } from '../schedule/index.js';
import type { RetryPolicy, Trigger } from '../types.js';
import { assertHandlerName, optionalNonNegative, optionalPositive } from './input.js';
import { toError } from './outcome.js';
import type { RunningJob } from './running-job.js';

/** Options of `register`. */
export interface HandlerOptions {
  /**
   * Most jobs of this handler this instance runs at once, within the scheduler's `concurrency`.
   * @default undefined (no own limit)
   * @example concurrency: 2
   */
  concurrency?: number;
  /**
   * Per-attempt timeout in ms for triggers that set none.
   * @default the scheduler's `defaults.timeoutMs`
   */
  timeoutMs?: number;
  /**
   * Retry policy for triggers that set none.
   * @default the scheduler's `defaults.retry`
   * @example retry: { attempts: 5, backoff: { type: 'exponential', delayMs: 500, maxDelayMs: 30_000 } }
   */
  retry?: RetryPolicy;
  /**
   * Whether a failed attempt may be retried; returning `false` fails the job at once.
   * @default undefined (always, except after a `PermanentJobError`)
   * @example retryOn: (error) => !(error instanceof TypeError)
   */
  retryOn?: (error: unknown, attempt: number) => boolean;
  /**
   * Re-runs of a job whose instance died while running it, for triggers that set none (see `TriggerInput.maxStalls`).
   * @default the scheduler's `defaults.maxStalls`
   */
  maxStalls?: number;
}

/** A registered handler, with what it runs on and how many of its jobs run here now. */
export interface HandlerRegistration {
  name: string;
  handler: HandlerFunction | ModuleHandler;
  runner: JobRunner;
  concurrency: number | null;
  timeoutMs: number | null;
  retry: RetryPolicy | null;
  retryOn: ((error: unknown, attempt: number) => boolean) | null;
  maxStalls: number | null;
  running: number;
  /** Why its module cannot be used (set when the runner's validation fails). */
  invalid: Error | null;
  validation: Promise<void> | null;
}

/** An attempt as the engine holds it. */
export type Run = RunningJob<HandlerRegistration, Place>;

/**
 * One place of this instance's room, taken for one attempt of a handler. Whoever takes it owns
 * it and gives it back in a `finally`, unless it was handed over to a started attempt first
 * (`handOver`): then the attempt's end gives it back (`EndRecorder`). Giving back is idempotent,
 * so an error on any path cannot keep a place, and no path can free one twice.
 */
export class Place {
  readonly registration: HandlerRegistration;
  readonly #handlers: Handlers;
  #held = true;
  #handedOver = false;

  constructor(handlers: Handlers, registration: HandlerRegistration) {
    this.#handlers = handlers;
    this.registration = registration;
  }

  /** Whether a started attempt owns the place now (its taker's `finally` leaves it alone). */
  get handedOver(): boolean {
    return this.#handedOver;
  }

  /** A started attempt owns the place from now on. */
  handOver(): void {
    this.#handedOver = true;
  }

  /** Give the place back (once; later calls do nothing). */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    this.#handlers.giveBack(this.registration);
  }

  /** Give the place back unless a started attempt owns it: what a taker's `finally` calls. */
  releaseUnlessHandedOver(): void {
    if (!this.#handedOver) this.release();
  }
}

/**
 * Places held for every candidate handler while a claim of a pending job is in flight, so no
 * other path can fill them up meanwhile. `settle` keeps the one the claimed job needs (as a
 * `Place`) and gives back the rest; the taker calls it in a `finally`, so a failed claim gives
 * back all of them.
 */
export interface ClaimHold {
  settle(used: string | null): Place | null;
}

/** The registry of handlers and the count of places taken. */
export class Handlers {
  readonly #byName = new Map<string, HandlerRegistration>();
  readonly #concurrency: number;
  readonly #customRunner: JobRunner | null;
  readonly #inline: JobRunner;
  readonly #onInvalid: (error: Error) => void;
  /** Places this instance may take now: `concurrency`, or less while the store is slow (see `limitBy`). */
  #limit: () => number;
  /** Places taken on this instance: attempts running or being started here. */
  running = 0;

  /** @param onInvalid called when a module registered earlier turns out unusable */
  constructor(concurrency: number, customRunner: JobRunner | null, inline: JobRunner, onInvalid: (error: Error) => void) {
    this.#concurrency = concurrency;
    this.#limit = () => this.#concurrency;
    this.#customRunner = customRunner;
    this.#inline = inline;
    this.#onInvalid = onInvalid;
  }

  /** Validate and add a registration (see `Scheduler.register`). */
  register(name: string, handler: HandlerFunction | ModuleHandler, options: HandlerOptions): void {
    assertHandlerName(name);
    if (this.#byName.has(name)) throw new InvalidTriggerConfigError('name', `a handler named "${name}" is already registered`);
    const isFunction = typeof handler === 'function';
    if (!isFunction && !isModuleHandler(handler)) {
      throw new InvalidTriggerConfigError('handler', 'must be a function or { module, exportName }');
    }
    const custom = this.#customRunner;
    const runner = !isFunction && custom?.supports(handler) ? custom : this.#inline;
    const registration: HandlerRegistration = {
      name,
      handler,
      runner,
      concurrency: optionalPositive(options.concurrency, 'options.concurrency'),
      timeoutMs: optionalPositive(options.timeoutMs, 'options.timeoutMs'),
      retry: options.retry === undefined ? null : normalizeRetry(options.retry, 'options.retry'),
      retryOn: options.retryOn ?? null,
      maxStalls: optionalNonNegative(options.maxStalls, 'options.maxStalls'),
      running: 0,
      invalid: null,
      validation: null,
    };
    if (options.retryOn !== undefined && typeof options.retryOn !== 'function') {
      throw new InvalidTriggerConfigError('options.retryOn', 'must be a function');
    }
    if (!isFunction && runner.validate) {
      registration.validation = runner.validate(handler).catch((error: unknown) => {
        registration.invalid = toError(error);
        this.#onInvalid(registration.invalid);
      });
    }
    this.#byName.set(name, registration);
  }

  get(name: string): HandlerRegistration | undefined {
    return this.#byName.get(name);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** Settles once every module registered so far was validated; then the first unusable one's error, if any. */
  async validated(): Promise<Error | null> {
    const registrations = [...this.#byName.values()];
    await Promise.all(registrations.flatMap((h) => (h.validation ? [h.validation] : [])));
    return registrations.find((h) => h.invalid)?.invalid ?? null;
  }

  /** The runners other than the inline one, to close at a stop. */
  customRunners(): Set<JobRunner> {
    const runners = new Set<JobRunner>([...this.#byName.values()].map((h) => h.runner));
    runners.delete(this.#inline);
    return runners;
  }

  /** The usable registration of a trigger's handler, if this instance has one. */
  usable(trigger: Trigger): HandlerRegistration | undefined {
    const registration = this.#byName.get(trigger.handler);
    return registration !== undefined && registration.invalid === null ? registration : undefined;
  }

  /** Bound the places to an adaptive limit (at most `concurrency`), asked at every reservation. */
  limitBy(limit: () => number): void {
    this.#limit = () => Math.min(this.#concurrency, limit());
  }

  /** Whether the instance as a whole has `extra` places free beyond those taken. */
  hasRoom(extra = 0): boolean {
    return this.running + extra < this.#limit();
  }

  /** Take a place for one attempt of this handler; `null` when the instance or the handler is full. */
  take(registration: HandlerRegistration): Place | null {
    if (this.running >= this.#limit()) return null;
    if (registration.concurrency !== null && registration.running >= registration.concurrency) return null;
    this.running += 1;
    registration.running += 1;
    return new Place(this, registration);
  }

  /** Called by `Place.release` alone: every place is given back through its owner. */
  giveBack(registration: HandlerRegistration): void {
    this.running -= 1;
    registration.running -= 1;
  }

  /** Hold a place for every candidate handler while a claim of a pending job is in flight (see `ClaimHold`). */
  hold(candidates: HandlerRegistration[]): ClaimHold {
    this.running += 1;
    for (const c of candidates) c.running += 1;
    let settled = false;
    return {
      settle: (used) => {
        if (settled) return null;
        settled = true;
        let kept: HandlerRegistration | null = null;
        for (const c of candidates) {
          if (c.name === used && kept === null) kept = c;
          else c.running -= 1;
        }
        if (kept === null) {
          this.running -= 1;
          return null;
        }
        return new Place(this, kept);
      },
    };
  }

  /** Names of the handlers this instance can run (the usable ones). */
  usableNames(): string[] {
    const names: string[] = [];
    for (const registration of this.#byName.values()) if (!registration.invalid) names.push(registration.name);
    return names;
  }

  /** The usable handlers below their own limit. */
  withRoom(): HandlerRegistration[] {
    const out: HandlerRegistration[] = [];
    for (const registration of this.#byName.values()) {
      if (registration.invalid) continue;
      if (registration.concurrency !== null && registration.running >= registration.concurrency) continue;
      out.push(registration);
    }
    return out;
  }
}
