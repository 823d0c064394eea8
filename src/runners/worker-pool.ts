/**
 * `WorkerPoolJobRunner`: runs module handlers (`{ module, exportName }`) on a tinypool pool of
 * worker threads, so CPU-heavy or untrusted-to-behave handlers cannot block the scheduler's event
 * loop (lease renewal, timers, other jobs) and can be stopped for real.
 *
 * How an attempt is stopped. Each task is submitted with its own `AbortSignal` to tinypool. When
 * tinypool aborts a task that has started, it terminates the thread running it
 * (`worker.terminate()`, which interrupts even a `while (true) {}` loop) and starts a replacement
 * to keep `minThreads`; a task still queued is just dropped. When the job's signal fires, this
 * runner settles `run()` at once with the signal's reason, forwards the abort to the handler's
 * own `AbortSignal` inside the worker, and gives the handler `abortGraceMs` to return before it
 * aborts the tinypool task and so kills the thread. A handler that honours its signal keeps its
 * (warm) thread; one that does not loses it.
 *
 * Every abortable tinypool task gets a thread to itself, which is what we want anyway: one job per
 * thread, so killing a thread never takes another job with it.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import Tinypool from 'tinypool';
import { InvalidTriggerConfigError, SchedulerStoppedError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { toLogger, type LoggerLike } from '../logger-adapter.js';
import type { HandlerFunction, JobRunner, ModuleHandler, RunMetrics, RunOutcome, RunRequest } from '../ports.js';
import { isModuleHandler, parseModuleHandler } from './module-loader.js';
import {
  epochNow,
  isCheckReply,
  isRunReply,
  serializeError,
  type MainToWorkerMessage,
  type RunTask,
  type WorkerToMainMessage,
} from './protocol.js';
import { loadFailureError, mainMetrics, outcomeFromReply, threadExitedError } from './worker-outcome.js';
import { resolveWorkerFile, type WorkerFile } from './worker-file.js';

/** V8 limits applied to each worker thread. Exceeding the heap limits fails that thread's job only. */
export interface WorkerPoolResourceLimits {
  /**
   * Old-generation (main) heap size of each thread, in MB.
   * @default undefined (Node's)
   * @example resourceLimits: { maxOldGenerationSizeMb: 256 }
   */
  maxOldGenerationSizeMb?: number;
  /** Young-generation heap size of each thread, in MB. @default undefined (Node's) */
  maxYoungGenerationSizeMb?: number;
  /** Stack size of each thread, in MB. @default undefined (Node's, 4) */
  stackSizeMb?: number;
}

/** Options of `WorkerPoolJobRunner`. All are optional. */
export interface WorkerPoolJobRunnerOptions {
  /** Threads kept alive while idle, capped at `maxThreads`. @default 1 */
  minThreads?: number;
  /**
   * Most threads, i.e. most module jobs running at once.
   * @default os.availableParallelism() - 1, at least 1
   * @example maxThreads: 4
   */
  maxThreads?: number;
  /** An idle thread above `minThreads` exits after this long, in ms. @default 30000 */
  idleTimeoutMs?: number;
  /** V8 heap and stack limits per thread. @default {} (Node's) */
  resourceLimits?: WorkerPoolResourceLimits;
  /**
   * After a job's signal aborts, how long its handler may keep running to clean up (it sees its
   * own `signal` abort) before the thread is terminated, in ms (0 = terminate at once).
   * `run()` does not wait for this: it settles as soon as the signal aborts.
   * @default 500
   */
  abortGraceMs?: number;
  /** Longest a registration check (`validate`) may take to import a module, in ms. @default 10000 */
  validateTimeoutMs?: number;
  /** Heap sampling interval inside the worker for the peak-heap figure, in ms (0 = start/end only). @default 20 */
  heapSampleIntervalMs?: number;
  /**
   * Worker entry to load instead of the bundled one (escape hatch for unusual bundling). A `.ts`
   * file is loaded through tsx, which must then be installed.
   * @default the bundled `worker-entry.js` next to the package's own code
   */
  workerFile?: string | URL;
  /** Where pool-level problems (a thread crashing outside any job) are reported. @default silentLogger */
  logger?: Logger | LoggerLike;
}

/** Point-in-time figures of the pool, e.g. for a health endpoint. */
export interface WorkerPoolStats {
  /** Threads alive (busy or idle). */
  threads: number;
  /** Attempts submitted and not finished (running or waiting for a thread). */
  inFlight: number;
  /** Attempts waiting for a free thread. */
  queued: number;
  /** Tasks the pool has finished since it started (including registration checks). */
  completed: number;
}

interface InFlight {
  /** Settles once the pool is done with the task, whatever the outcome. */
  readonly done: Promise<void>;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_ABORT_GRACE_MS = 500;
const DEFAULT_VALIDATE_TIMEOUT_MS = 10_000;
const DEFAULT_HEAP_SAMPLE_INTERVAL_MS = 20;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/**
 * When a task's port closes without a reply, the thread died. Its pool-level error (out of memory,
 * uncaught exception) may still be on its way and says more, so it gets this long to arrive before
 * the job is failed with a generic "thread exited".
 */
const THREAD_EXIT_SETTLE_MS = 100;

/**
 * Runs module handlers in worker threads (tinypool). Function handlers are not supported: they
 * cannot cross a thread boundary, so the scheduler runs those on its inline runner.
 *
 * The worker module's export receives a `JobContext`-shaped object: `payload`, `attempt`, `job`
 * and `trigger` (structured-clone copies), a `signal` that aborts when the job is aborted, a
 * `log` whose lines are forwarded to the job's logger, and `heartbeat()`. It must return
 * structured-clone-safe data (JSON in practice, since the engine stores it).
 */
export class WorkerPoolJobRunner implements JobRunner {
  readonly #minThreads: number;
  readonly #maxThreads: number;
  readonly #idleTimeoutMs: number;
  readonly #resourceLimits: WorkerPoolResourceLimits;
  readonly #abortGraceMs: number;
  readonly #validateTimeoutMs: number;
  readonly #heapSampleIntervalMs: number;
  readonly #logger: Logger;
  readonly #workerFile: WorkerFile;
  #pool: Tinypool | null = null;
  readonly #inFlight = new Set<InFlight>();
  #closing: Promise<void> | null = null;

  /** Check the options and locate the worker entry; threads start on first use. */
  constructor(options: WorkerPoolJobRunnerOptions = {}) {
    this.#maxThreads = integerOption('maxThreads', options.maxThreads, Math.max(1, availableParallelism() - 1), 1);
    this.#minThreads = Math.min(this.#maxThreads, integerOption('minThreads', options.minThreads, 1, 0));
    this.#idleTimeoutMs = integerOption('idleTimeoutMs', options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS, 0);
    this.#abortGraceMs = integerOption('abortGraceMs', options.abortGraceMs, DEFAULT_ABORT_GRACE_MS, 0);
    this.#validateTimeoutMs = integerOption('validateTimeoutMs', options.validateTimeoutMs, DEFAULT_VALIDATE_TIMEOUT_MS, 1);
    this.#heapSampleIntervalMs = integerOption(
      'heapSampleIntervalMs',
      options.heapSampleIntervalMs,
      DEFAULT_HEAP_SAMPLE_INTERVAL_MS,
      0,
    );
    const limits = options.resourceLimits ?? {};
    const resourceLimits: WorkerPoolResourceLimits = {};
    for (const key of ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'stackSizeMb'] as const) {
      const value = limits[key];
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
        throw new InvalidTriggerConfigError(`resourceLimits.${key}`, 'must be a positive number');
      }
      resourceLimits[key] = value;
    }
    this.#resourceLimits = resourceLimits;
    this.#logger = options.logger === undefined ? silentLogger : toLogger(options.logger);
    this.#workerFile = resolveWorkerFile(options.workerFile);
  }

  /** Only module handlers: a function cannot be sent to another thread. */
  supports(handler: HandlerFunction | ModuleHandler): boolean {
    return isModuleHandler(handler);
  }

  /**
   * Registration check: the module must exist (checked here, cheaply) and import in a worker
   * thread with the export being a function. Importing runs the module's top-level code, which is
   * why this happens in a pool thread rather than in the host's thread; it also leaves the module
   * loaded in that thread. Throws `InvalidTriggerConfigError` naming `handler.module` or
   * `handler.exportName`.
   */
  async validate(handler: ModuleHandler): Promise<void> {
    const parsed = parseModuleHandler(handler);
    if (!parsed.ok) throw new InvalidTriggerConfigError(parsed.failure.field, parsed.failure.reason);
    if (this.#closing) throw new SchedulerStoppedError('worker pool is closing');
    const pool = this.#ensurePool();
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#validateTimeoutMs);
    let reply: unknown;
    try {
      reply = await pool.run({ kind: 'check', module: parsed.spec.href, exportName: parsed.spec.exportName }, {
        signal: timeout.signal,
      });
    } catch (error) {
      if (timeout.signal.aborted) {
        throw new InvalidTriggerConfigError(
          'handler.module',
          `importing ${parsed.spec.path} did not finish within ${this.#validateTimeoutMs} ms`,
        );
      }
      throw this.#poolError(pool, error, true);
    } finally {
      clearTimeout(timer);
    }
    if (!isCheckReply(reply)) throw new Error('worker pool returned an unexpected reply to a module check');
    if (!reply.ok) throw new InvalidTriggerConfigError(reply.failure.field, reply.failure.reason);
  }

  /**
   * Run one attempt in a worker thread. Settles as soon as `context.signal` aborts (with the
   * signal's reason as the error), even though the thread may be terminated a little later.
   */
  async run(request: RunRequest): Promise<RunOutcome> {
    const submitted = performance.now();
    const { handler, context } = request;
    const early = (error: unknown): RunOutcome => ({ ok: false, error, metrics: mainMetrics(null, 0, submitted) });
    if (!isModuleHandler(handler)) {
      return early(new TypeError('WorkerPoolJobRunner runs module handlers ({ module, exportName }) only; run functions inline'));
    }
    if (this.#closing) return early(new SchedulerStoppedError('worker pool is closing'));
    if (context.signal.aborted) return early(abortReason(context.signal));
    const parsed = parseModuleHandler(handler, false);
    if (!parsed.ok) return early(loadFailureError(parsed.failure.field, parsed.failure.reason, null));

    const pool = this.#ensurePool();
    const { port1, port2 } = new MessageChannel();
    const kill = new AbortController();
    const task: RunTask = {
      kind: 'run',
      module: parsed.spec.href,
      exportName: parsed.spec.exportName,
      payload: context.payload,
      attempt: context.attempt,
      job: context.job,
      trigger: context.trigger,
      submittedAt: epochNow(),
      heapSampleIntervalMs: this.#heapSampleIntervalMs,
      port: port2,
    };

    return new Promise<RunOutcome>((resolve) => {
      let settled = false;
      let taskDone = false;
      let startedAt: number | null = null;
      let waitMs: number | null = null;
      let graceTimer: NodeJS.Timeout | null = null;
      let exitTimer: NodeJS.Timeout | null = null;

      const settle = (outcome: RunOutcome): void => {
        if (settled) return;
        settled = true;
        context.signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const metrics = (): RunMetrics => mainMetrics(startedAt, waitMs, submitted);

      const onAbort = (): void => {
        drain(); // a queued `started` message decides between grace and immediate kill
        const reason = abortReason(context.signal);
        post(port1, { type: 'abort', reason: serializeError(reason) });
        settle({ ok: false, error: reason, metrics: metrics() });
        // Not started yet (queued, or just being handed over): nothing to clean up, drop it now.
        if (startedAt === null || this.#abortGraceMs === 0) kill.abort();
        else {
          graceTimer = setTimeout(() => kill.abort(), this.#abortGraceMs);
          graceTimer.unref();
        }
      };
      context.signal.addEventListener('abort', onAbort, { once: true });

      const onMessage = (message: WorkerToMainMessage): void => {
        if (message.type === 'started') {
          startedAt = performance.now();
          waitMs = Math.max(0, message.at - task.submittedAt);
        } else if (message.type === 'log') {
          try {
            context.log[message.level](message.fields, message.message ?? undefined);
          } catch {
            // A throwing logger must not become an uncaught exception in the host.
          }
        } else if (message.type === 'heartbeat') {
          Promise.resolve()
            .then(() => context.heartbeat())
            .then(
              () => post(port1, { type: 'heartbeat-done', id: message.id, error: null }),
              (error: unknown) => post(port1, { type: 'heartbeat-done', id: message.id, error: serializeError(error) }),
            );
        }
      };
      port1.on('message', onMessage);
      // Deliver what is already queued on our port, synchronously (postMessage enqueues on the
      // receiving side at once; only the 'message' event comes later).
      const drain = (): void => {
        for (let queued = receiveMessageOnPort(port1); queued !== undefined; queued = receiveMessageOnPort(port1)) {
          onMessage(queued.message as WorkerToMainMessage);
        }
      };
      // The port closes by itself only when the thread holding the other end dies. A thread that
      // ends without a pool error (`process.exit()` in a handler) is invisible to tinypool, which
      // would then wait for its reply forever: detect it here and abort the task so tinypool
      // drops the dead thread and starts a new one.
      port1.on('close', () => {
        if (taskDone || kill.signal.aborted) return;
        exitTimer = setTimeout(() => {
          if (taskDone) return;
          settle({ ok: false, error: threadExitedError(), metrics: metrics() });
          kill.abort();
        }, THREAD_EXIT_SETTLE_MS);
      });

      const taskPromise: Promise<unknown> = pool.run(task, { signal: kill.signal, transferList: [port2] });
      // Both branches catch everything: `done` must never reject (nobody would handle it) and
      // `run()` must always settle.
      const done = taskPromise.then(
        (reply: unknown) => {
          try {
            if (!isRunReply(reply)) throw new Error('worker thread returned an unexpected reply');
            settle(outcomeFromReply(reply));
          } catch (error) {
            settle({ ok: false, error, metrics: metrics() });
          }
        },
        (error: unknown) => {
          // Aborted by us: `run()` has already settled with the real reason.
          if (kill.signal.aborted) return;
          try {
            drain(); // a `started` message may still be queued behind this rejection
            settle({ ok: false, error: this.#poolError(pool, error, startedAt === null), metrics: metrics() });
          } catch (unexpected) {
            settle({ ok: false, error: unexpected, metrics: metrics() });
          }
        },
      );
      const entry: InFlight = {
        done: done.finally(() => {
          taskDone = true;
          if (graceTimer !== null) clearTimeout(graceTimer);
          if (exitTimer !== null) clearTimeout(exitTimer);
          // The reply travels on tinypool's port, so it can overtake log lines the handler sent on
          // ours just before returning; closing would drop them, so deliver them first.
          drain();
          port1.close();
          this.#inFlight.delete(entry);
        }),
      };
      this.#inFlight.add(entry);
    });
  }

  /** Figures of the pool right now (zeros before the first task). */
  stats(): WorkerPoolStats {
    const pool = this.#pool;
    return {
      threads: pool?.threads.length ?? 0,
      inFlight: this.#inFlight.size,
      queued: pool?.queueSize ?? 0,
      completed: pool?.completed ?? 0,
    };
  }

  /**
   * Stop taking work, wait up to `timeoutMs` (default 10 000) for submitted attempts (running and
   * queued) to finish, then destroy the pool: every thread is terminated, busy or not, and the
   * attempts still pending settle with a `SchedulerStoppedError`. Calls while it closes share
   * one closing. Once closed, a later `run` starts a fresh pool (a scheduler restarted with the
   * same runner keeps working).
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closing) return this.#closing;
    const timeoutMs = options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    const closing = (async () => {
      const pool = this.#pool;
      if (pool === null) return;
      await settledWithin(
        [...this.#inFlight].map((entry) => entry.done),
        timeoutMs,
      );
      await pool.destroy();
    })();
    // Closed, the runner takes work again on a fresh pool: a scheduler that stopped (and closed
    // it) can be started again with the same runner.
    this.#closing = closing.finally(() => {
      this.#pool = null;
      this.#closing = null;
    });
    return this.#closing;
  }

  #ensurePool(): Tinypool {
    if (this.#pool !== null) return this.#pool;
    const pool = new Tinypool({
      filename: this.#workerFile.filename,
      minThreads: this.#minThreads,
      maxThreads: this.#maxThreads,
      idleTimeout: this.#idleTimeoutMs,
      resourceLimits: { ...this.#resourceLimits },
      // Threads are reused across jobs (isolateWorkers would start a thread per job): modules stay
      // loaded and warm. A thread is replaced only when it is killed or crashes.
      isolateWorkers: false,
      ...(this.#workerFile.execArgv === null ? {} : { execArgv: this.#workerFile.execArgv }),
    });
    // Tinypool emits `error` for a thread that fails while running no task. An unhandled `error`
    // event would crash the host, so it is logged instead; tinypool replaces the thread itself.
    pool.on('error', (error: unknown) => {
      this.#logger.error({ err: serializeError(error) }, 'worker pool thread failed outside a job');
    });
    this.#pool = pool;
    return pool;
  }

  /**
   * Turn a rejection of the pool (about the thread, not the handler) into the job's error.
   * `neverStarted`: the task had not begun in the worker when its thread failed.
   */
  #poolError(pool: Tinypool, error: unknown, neverStarted: boolean): unknown {
    const { name, code } = errorFields(error);
    if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
      const limit = this.#resourceLimits.maxOldGenerationSizeMb;
      const out = new Error(
        `the handler ran out of memory: its worker thread reached the heap limit (${
          limit === undefined ? "Node's default heap limit" : `resourceLimits.maxOldGenerationSizeMb = ${limit}`
        }) and was terminated; the pool replaced the thread and other jobs are unaffected`,
        { cause: error },
      );
      return Object.assign(out, { name: 'WorkerOutOfMemoryError', code: 'ERR_WORKER_OUT_OF_MEMORY' });
    }
    if (this.#closing) {
      return new SchedulerStoppedError('worker pool closed before the job finished (stop timeout reached)');
    }
    if (neverStarted && name !== 'DataCloneError') {
      // The thread died before running anything: it could not load the worker entry (e.g. the
      // host runs with an execArgv flag that worker threads reject). Tinypool then stops creating
      // threads and would leave every later task queued forever, so this pool is dropped and the
      // next attempt builds a new one: jobs fail fast with this error instead of hanging.
      this.#discardPool(pool);
      const message = error instanceof Error ? error.message : String(error);
      const out = new Error(`a worker thread could not start: ${message}`, { cause: error });
      return Object.assign(out, { name: 'WorkerStartError', code: 'ERR_WORKER_START' });
    }
    // An uncaught exception thrown asynchronously in the handler ends its thread; Node hands over
    // the original error (name, message, code, stack), which is the most useful thing to report.
    return error;
  }

  #discardPool(pool: Tinypool): void {
    if (this.#pool !== pool) return;
    this.#pool = null;
    pool.destroy().catch((error: unknown) => {
      this.#logger.warn({ err: serializeError(error) }, 'could not destroy a failed worker pool');
    });
  }
}

function errorFields(error: unknown): { name: unknown; code: unknown } {
  if (typeof error !== 'object' || error === null) return { name: undefined, code: undefined };
  const record = error as { name?: unknown; code?: unknown };
  return { name: record.name, code: record.code };
}

function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason ?? new DOMException('The job was aborted', 'AbortError');
}

function post(port: MessagePort, message: MainToWorkerMessage): void {
  try {
    port.postMessage(message);
  } catch {
    // The port is closed: the attempt is over and nobody is listening any more.
  }
}

function integerOption(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidTriggerConfigError(name, `must be an integer >= ${min}`);
  }
  return value;
}

async function settledWithin(promises: Promise<unknown>[], timeoutMs: number): Promise<void> {
  if (promises.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(promises),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}
