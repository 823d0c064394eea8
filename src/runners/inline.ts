/**
 * `InlineJobRunner`: runs handlers in the scheduler's own thread, as ordinary async calls. The
 * default runner: no startup cost, no copying, handlers share the host's modules and state.
 *
 * It cannot stop a handler. When the job's signal aborts, `run()` settles at once with the
 * signal's reason and the handler is expected to notice its signal and stop; one that ignores it
 * keeps running in the background, and a synchronous CPU loop blocks the whole thread (timers,
 * lease renewal, every other job) until it ends. Use `WorkerPoolJobRunner` for such handlers.
 */
import { getHeapStatistics } from 'node:v8';
import { InvalidTriggerConfigError, PermanentJobError, SchedulerStoppedError } from '../errors.js';
import type { HandlerFunction, JobRunner, ModuleHandler, RunMetrics, RunOutcome, RunRequest } from '../ports.js';
import type { JsonValue } from '../types.js';
import { isModuleHandler, loadExport, parseModuleHandler, type LoadFailure } from './module-loader.js';

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/**
 * Runs function handlers, and module handlers by importing them into this thread (each module
 * export is loaded once and cached).
 *
 * Metrics are measured around the call: `durationMs` is wall time; `cpuUserMs` / `cpuSystemMs` are
 * the `process.cpuUsage()` delta, i.e. the whole process's CPU time over the attempt (other jobs
 * and threads included; one thread cannot tell its own share apart); `heapUsedBytes` is the change
 * of `heapUsed` of this isolate (shared with everything else in it, and negative after a GC);
 * `waitMs` is 0 because nothing queues here. CPU and heap are read at most once per millisecond
 * and the reading shared by the attempts that start or end within it (reading them costs about a
 * microsecond, more than a no-op job's whole run), so they are exact to about 1 ms, as
 * `durationMs` is.
 */
export class InlineJobRunner implements JobRunner {
  readonly #loaded = new Map<string, Promise<HandlerFunction>>();
  readonly #meter = new ProcessMeter();
  #active = 0;
  readonly #idleWaiters: Array<() => void> = [];
  #closed = false;

  /** Both kinds: functions are called directly, modules are imported into this thread. */
  supports(handler: HandlerFunction | ModuleHandler): boolean {
    return typeof handler === 'function' || isModuleHandler(handler);
  }

  /**
   * Registration check of a module handler: imports it (running its top-level code in this
   * thread) and checks that the export is a function. Throws `InvalidTriggerConfigError` naming
   * `handler.module` or `handler.exportName`. The loaded export is kept for `run()`.
   */
  async validate(handler: ModuleHandler): Promise<void> {
    const parsed = parseModuleHandler(handler);
    if (!parsed.ok) throw new InvalidTriggerConfigError(parsed.failure.field, parsed.failure.reason);
    try {
      await this.#load(handler);
    } catch (error) {
      if (error instanceof LoadError) throw new InvalidTriggerConfigError(error.failure.field, error.failure.reason);
      throw error;
    }
  }

  /**
   * Run one attempt. Settles when the handler does, or as soon as `context.signal` aborts (with
   * the signal's reason as the error) even if the handler never settles; with
   * `callerWatchesAbort` the caller stops waiting by itself and the signal is left alone.
   */
  run(request: RunRequest): Promise<RunOutcome> {
    const { handler, context } = request;
    const start = this.#meter.read();
    if (this.#closed) return Promise.resolve(this.#failed(start, new SchedulerStoppedError('inline job runner is closed')));
    const watch = request.callerWatchesAbort !== true;
    if (watch && context.signal.aborted) return Promise.resolve(this.#failed(start, abortReason(context.signal)));

    let work: PromiseLike<JsonValue | void>;
    if (typeof handler === 'function') {
      let returned: ReturnType<HandlerFunction>;
      try {
        returned = handler(context);
      } catch (error) {
        return Promise.resolve(this.#failed(start, error));
      }
      // Fast path for handlers that return without a promise: no race, no tracking.
      if (!isThenable(returned)) return Promise.resolve(this.#succeeded(start, returned));
      work = returned;
    } else {
      work = (async (): Promise<JsonValue | null> => {
        const fn = await this.#load(handler);
        return (await fn(context)) ?? null;
      })();
    }
    return watch ? this.#race(Promise.resolve(work), context.signal, start) : this.#settle(work, start);
  }

  /**
   * Wait for a handler's promise, counted as running until it settles. Plain callbacks, not an
   * async function: it runs for every job, and a suspended async frame is one more allocation.
   */
  #settle(work: PromiseLike<JsonValue | void>, start: MeterReading): Promise<RunOutcome> {
    this.#active += 1;
    return Promise.resolve(work).then(
      (value) => {
        this.#untrack();
        return this.#succeeded(start, value);
      },
      (error: unknown) => {
        this.#untrack();
        return this.#failed(start, failureOf(error));
      },
    );
  }

  /** Wait for the handler or for its signal, whichever comes first. */
  async #race(work: Promise<JsonValue | void>, signal: AbortSignal, start: MeterReading): Promise<RunOutcome> {
    this.#track(work);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<{ aborted: true }>((resolve) => {
      onAbort = () => resolve({ aborted: true });
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const first = await Promise.race([work.then((result) => ({ aborted: false as const, result })), aborted]);
      if (first.aborted) return this.#failed(start, abortReason(signal));
      return this.#succeeded(start, first.result);
    } catch (error) {
      return this.#failed(start, failureOf(error));
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  #succeeded(start: MeterReading, value: JsonValue | void): RunOutcome {
    return { ok: true, result: value ?? null, metrics: this.#meter.since(start) };
  }

  #failed(start: MeterReading, error: unknown): RunOutcome {
    return { ok: false, error, metrics: this.#meter.since(start) };
  }

  #track(work: Promise<unknown>): void {
    this.#active += 1;
    const untrack = (): void => this.#untrack();
    work.then(untrack, untrack);
  }

  #untrack(): void {
    this.#active -= 1;
    if (this.#active === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /**
   * Stop taking work and wait until running handlers settle or `timeoutMs` (default 10 000)
   * passes. Handlers still running then are left alone: a thread cannot stop its own code.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closed = true;
    if (this.#active === 0) return;
    let timer: NodeJS.Timeout | undefined;
    let idle: (() => void) | undefined;
    await new Promise<void>((resolve) => {
      idle = resolve;
      this.#idleWaiters.push(resolve);
      timer = setTimeout(resolve, options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    });
    const waiting = this.#idleWaiters.indexOf(idle!);
    if (waiting >= 0) this.#idleWaiters.splice(waiting, 1);
    clearTimeout(timer);
  }

  #load(handler: ModuleHandler): Promise<HandlerFunction> {
    const parsed = parseModuleHandler(handler, false);
    if (!parsed.ok) return Promise.reject(new LoadError(parsed.failure));
    const key = `${parsed.spec.href}#${parsed.spec.exportName}`;
    const cached = this.#loaded.get(key);
    if (cached) return cached;
    const loading = loadExport(parsed.spec).then((result) => {
      if (!result.ok) throw new LoadError(result.failure);
      return result.fn;
    });
    // Forget failures so a later call tries again (e.g. the file was deployed in the meantime).
    loading.catch(() => this.#loaded.delete(key));
    this.#loaded.set(key, loading);
    return loading;
  }
}

/** Internal carrier of a load failure between `#load` and its callers. */
class LoadError extends Error {
  readonly failure: LoadFailure;

  constructor(failure: LoadFailure) {
    super(`${failure.field}: ${failure.reason}`, failure.cause === undefined ? undefined : { cause: failure.cause });
    this.failure = failure;
  }
}

function loadFailureError(failure: LoadFailure): PermanentJobError {
  return new PermanentJobError(
    `cannot load handler: ${failure.field}: ${failure.reason}`,
    failure.cause === undefined ? undefined : { cause: failure.cause },
  );
}

/** A module that cannot be loaded will not load on a retry either: fail without retrying. */
function failureOf(error: unknown): unknown {
  return error instanceof LoadError ? loadFailureError(error.failure) : error;
}

interface MeterReading {
  at: number;
  cpuUser: number;
  cpuSystem: number;
  heap: number;
}

/**
 * Wall clock, process CPU and isolate heap, with CPU and heap re-read at most once per
 * millisecond (see the class comment of `InlineJobRunner`).
 */
class ProcessMeter {
  #last: MeterReading = { at: Number.NEGATIVE_INFINITY, cpuUser: 0, cpuSystem: 0, heap: 0 };

  read(): MeterReading {
    const at = performance.now();
    if (at - this.#last.at < 1) return { ...this.#last, at };
    const cpu = process.cpuUsage();
    // v8's heap statistics give the same figure as process.memoryUsage().heapUsed without reading
    // RSS from /proc (about 0.2 µs against 8 µs).
    this.#last = { at, cpuUser: cpu.user, cpuSystem: cpu.system, heap: getHeapStatistics().used_heap_size };
    return this.#last;
  }

  since(start: MeterReading): RunMetrics {
    const end = this.read();
    return {
      durationMs: end.at - start.at,
      cpuUserMs: (end.cpuUser - start.cpuUser) / 1000,
      cpuSystemMs: (end.cpuSystem - start.cpuSystem) / 1000,
      heapUsedBytes: end.heap - start.heap,
      waitMs: 0,
    };
  }
}

function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason ?? new DOMException('The job was aborted', 'AbortError');
}

function isThenable(value: unknown): value is PromiseLike<JsonValue | void> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
