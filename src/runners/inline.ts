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
 * `waitMs` is 0 because nothing queues here.
 */
export class InlineJobRunner implements JobRunner {
  readonly #loaded = new Map<string, Promise<HandlerFunction>>();
  readonly #inFlight = new Set<Promise<unknown>>();
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
   * the signal's reason as the error) even if the handler never settles.
   */
  async run(request: RunRequest): Promise<RunOutcome> {
    const { handler, context } = request;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    // v8's heap statistics give the same figure as process.memoryUsage().heapUsed without reading
    // RSS from /proc (about 0.2 µs against 8 µs, per call, twice per job).
    const heap0 = getHeapStatistics().used_heap_size;
    const metrics = (): RunMetrics => {
      const cpu = process.cpuUsage(cpu0);
      return {
        durationMs: performance.now() - t0,
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        heapUsedBytes: getHeapStatistics().used_heap_size - heap0,
        waitMs: 0,
      };
    };
    if (this.#closed) return { ok: false, error: new SchedulerStoppedError('inline job runner is closed'), metrics: metrics() };
    const signal = context.signal;
    if (signal.aborted) return { ok: false, error: abortReason(signal), metrics: metrics() };

    let work: Promise<JsonValue | null>;
    if (typeof handler === 'function') {
      let returned: ReturnType<HandlerFunction>;
      try {
        returned = handler(context);
      } catch (error) {
        return { ok: false, error, metrics: metrics() };
      }
      // Fast path for handlers that return without a promise: no race, no tracking.
      if (!isThenable(returned)) return { ok: true, result: returned ?? null, metrics: metrics() };
      work = Promise.resolve(returned).then((value) => value ?? null);
    } else {
      work = (async (): Promise<JsonValue | null> => {
        const fn = await this.#load(handler);
        return (await fn(context)) ?? null;
      })();
    }
    this.#inFlight.add(work);
    const untrack = (): void => {
      this.#inFlight.delete(work);
    };
    work.then(untrack, untrack);

    let onAbort: (() => void) | undefined;
    const aborted = new Promise<{ aborted: true }>((resolve) => {
      onAbort = () => resolve({ aborted: true });
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const first = await Promise.race([work.then((result) => ({ aborted: false as const, result })), aborted]);
      if (first.aborted) return { ok: false, error: abortReason(signal), metrics: metrics() };
      return { ok: true, result: first.result, metrics: metrics() };
    } catch (error) {
      // A module that cannot be loaded will not load on a retry either: fail without retrying.
      const failure = error instanceof LoadError ? loadFailureError(error.failure) : error;
      return { ok: false, error: failure, metrics: metrics() };
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Stop taking work and wait until running handlers settle or `timeoutMs` (default 10 000)
   * passes. Handlers still running then are left alone: a thread cannot stop its own code.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closed = true;
    const running = [...this.#inFlight];
    if (running.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(running),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
      }),
    ]);
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

function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason ?? new DOMException('The job was aborted', 'AbortError');
}

function isThenable(value: unknown): value is PromiseLike<JsonValue | void> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
