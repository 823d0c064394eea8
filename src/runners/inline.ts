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
import { InvalidArgumentError, PermanentJobError, SchedulerStoppedError } from '../errors.js';
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
   * thread) and checks that the export is a function. Throws `InvalidArgumentError` naming
   * `handler.module` or `handler.exportName`. The loaded export is kept for `run()`.
   */
  async validate(handler: ModuleHandler): Promise<void> {
    const parsed = parseModuleHandler(handler);
    if (!parsed.ok) throw new InvalidArgumentError(parsed.failure.field, parsed.failure.reason);
    try {
      await this.#load(handler);
    } catch (error) {
      if (error instanceof LoadError) throw new InvalidArgumentError(error.failure.field, error.failure.reason);
      throw error;
    }
  }

  /**
   * Run one attempt. Settles when the handler does, or as soon as `context.signal` aborts (with
   * the signal's reason as the error) even if the handler never settles; with
   * `callerWatchesAbort` the caller stops waiting by itself and the signal is left alone.
   */
  run(request: RunRequest): Promise<RunOutcome> {
    return new Promise((resolve) => {
      if (request.callerWatchesAbort === true) {
        this.start(request, resolve);
        return;
      }
      // `start` with the signal watched here: the first of the handler's answer and an abort wins.
      const { signal } = request.context;
      const startedAt = performance.now();
      const reading = this.#meter.read(startedAt);
      if (!this.#closed && signal.aborted) {
        resolve(this.#failed(startedAt, reading, abortReason(signal)));
        return;
      }
      let answered = false;
      const answer = (outcome: RunOutcome): void => {
        if (answered) return;
        answered = true;
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAbort = (): void => answer(this.#failed(startedAt, reading, abortReason(signal)));
      signal.addEventListener('abort', onAbort, { once: true });
      this.start(request, answer);
    });
  }

  /**
   * `run` for a caller that watches the signal itself (the scheduler): `done` gets the outcome
   * once the handler settles. Plain callbacks rather than promises: this runs for every job, and
   * each promise is one more allocation for the garbage collector.
   */
  start(request: RunRequest, done: (outcome: RunOutcome) => void): void {
    const { handler, context } = request;
    const startedAt = performance.now();
    const reading = this.#meter.read(startedAt);
    if (this.#closed) {
      done(this.#failed(startedAt, reading, new SchedulerStoppedError('inline job runner is closed')));
      return;
    }
    let work: PromiseLike<JsonValue | void>;
    try {
      if (typeof handler === 'function') {
        const returned = handler(context);
        // Handlers that return without a promise: done at once.
        if (!isThenable(returned)) {
          done(this.#succeeded(startedAt, reading, returned));
          return;
        }
        work = returned;
      } else {
        work = this.#callModule(handler, context);
      }
    } catch (error) {
      done(this.#failed(startedAt, reading, error));
      return;
    }
    this.#active += 1;
    // A thenable that is not a real promise may call back twice: only the first answer counts.
    let answered = false;
    const succeeded = (value: JsonValue | void): void => {
      if (answered) return;
      answered = true;
      this.#untrack();
      done(this.#succeeded(startedAt, reading, value));
    };
    const failed = (error: unknown): void => {
      if (answered) return;
      answered = true;
      this.#untrack();
      done(this.#failed(startedAt, reading, failureOf(error)));
    };
    try {
      work.then(succeeded, failed);
    } catch (error) {
      // A thenable whose `then` throws.
      failed(error);
    }
  }

  async #callModule(handler: ModuleHandler, context: RunRequest['context']): Promise<JsonValue | null> {
    const fn = await this.#load(handler);
    return (await fn(context)) ?? null;
  }

  #succeeded(startedAt: number, reading: MeterReading, value: JsonValue | void): RunOutcome {
    return { ok: true, result: value ?? null, metrics: this.#meter.since(startedAt, reading) };
  }

  #failed(startedAt: number, reading: MeterReading, error: unknown): RunOutcome {
    return { ok: false, error, metrics: this.#meter.since(startedAt, reading) };
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
  /** `performance.now()` when CPU and heap were read. */
  at: number;
  cpuUser: number;
  cpuSystem: number;
  heap: number;
}

/**
 * Process CPU and isolate heap, re-read at most once per millisecond (see the class comment of
 * `InlineJobRunner`); attempts that start or end within the same millisecond share one reading.
 */
class ProcessMeter {
  #last: MeterReading = { at: Number.NEGATIVE_INFINITY, cpuUser: 0, cpuSystem: 0, heap: 0 };

  read(now: number): MeterReading {
    if (now - this.#last.at < 1) return this.#last;
    const cpu = process.cpuUsage();
    // v8's heap statistics give the same figure as process.memoryUsage().heapUsed without reading
    // RSS from /proc (about 0.2 µs against 8 µs).
    this.#last = { at: now, cpuUser: cpu.user, cpuSystem: cpu.system, heap: getHeapStatistics().used_heap_size };
    return this.#last;
  }

  /** Metrics of an attempt that started at `startedAt` (wall time exact, CPU and heap to ~1 ms). */
  since(startedAt: number, start: MeterReading): RunMetrics {
    const now = performance.now();
    const end = this.read(now);
    return {
      durationMs: now - startedAt,
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
