/**
 * Worker-thread side of `WorkerPoolJobRunner`. Tinypool loads this file in each pool thread and
 * calls its default export once per task.
 *
 * A `run` task imports the handler module (cached per thread by Node), gives the handler a
 * `JobContext`-shaped object (so one module can run inline or in a worker unchanged) and replies
 * with the result or a serialized error plus metrics measured here, in the thread that did the
 * work. A `check` task only imports the module and checks the export, for registration.
 *
 * The entry never throws for handler failures: everything is turned into a reply, so that the
 * only rejections the main thread sees from the pool are about the thread itself (terminated,
 * out of memory, crashed). It is built as its own tsup entry and must not import the scheduler at
 * runtime, only the small self-contained helpers next to it.
 */
import { getHeapStatistics } from 'node:v8';
import type { MessagePort } from 'node:worker_threads';
import type { JobContext } from '../ports.js';
import type { Logger, LogFields } from '../logger.js';
import { loadExport, parseModuleHandler, type LoadFailure } from './module-loader.js';
import {
  epochNow,
  reviveErrorFields,
  serializeError,
  type CheckReply,
  type CheckTask,
  type LogLevel,
  type MainToWorkerMessage,
  type RunReply,
  type RunTask,
  type SerializedLoadFailure,
  type WorkerRunMetrics,
  type WorkerTask,
  type WorkerToMainMessage,
} from './protocol.js';
import { createCpuMeter } from './thread-cpu.js';

/** Chosen once per thread: probing `/proc` on every task would be wasted work. */
const cpuMeter = createCpuMeter();

/** Tinypool calls this for every task sent to the pool. */
export default async function workerEntry(task: WorkerTask): Promise<RunReply | CheckReply> {
  return task.kind === 'check' ? check(task) : run(task);
}

async function check(task: CheckTask): Promise<CheckReply> {
  const parsed = parseModuleHandler({ module: task.module, exportName: task.exportName }, false);
  if (!parsed.ok) return { kind: 'check', ok: false, failure: wireFailure(parsed.failure) };
  const loaded = await loadExport(parsed.spec);
  return loaded.ok ? { kind: 'check', ok: true } : { kind: 'check', ok: false, failure: wireFailure(loaded.failure) };
}

async function run(task: RunTask): Promise<RunReply> {
  const startedAt = epochNow();
  const port = task.port;
  send(port, { type: 'started', at: startedAt });
  const waitMs = Math.max(0, startedAt - task.submittedAt);

  const controller = new AbortController();
  const heartbeats = new Map<number, { resolve: () => void; reject: (error: unknown) => void }>();
  const onMessage = (message: MainToWorkerMessage): void => {
    if (message.type === 'abort') {
      controller.abort(reviveErrorFields(message.reason));
    } else if (message.type === 'heartbeat-done') {
      const pending = heartbeats.get(message.id);
      heartbeats.delete(message.id);
      if (message.error === null) pending?.resolve();
      else pending?.reject(reviveErrorFields(message.error));
    }
  };
  port.on('message', onMessage);

  let nextHeartbeatId = 0;
  const context: JobContext = {
    payload: task.payload,
    signal: controller.signal,
    attempt: task.attempt,
    job: task.job,
    trigger: task.trigger,
    log: portLogger(port),
    heartbeat: () =>
      new Promise<void>((resolve, reject) => {
        const id = ++nextHeartbeatId;
        heartbeats.set(id, { resolve, reject });
        send(port, { type: 'heartbeat', id });
      }),
  };

  const stopHeap = startHeapSampler(task.heapSampleIntervalMs);
  const stopCpu = cpuMeter.start();
  const t0 = performance.now();
  const metrics = (): WorkerRunMetrics => {
    const durationMs = performance.now() - t0;
    const cpu = stopCpu();
    return {
      waitMs,
      durationMs,
      cpuUserMs: cpu.userMs,
      cpuSystemMs: cpu.systemMs,
      cpuScope: cpuMeter.scope,
      peakHeapBytes: stopHeap(),
    };
  };

  try {
    const parsed = parseModuleHandler({ module: task.module, exportName: task.exportName }, false);
    const loaded = parsed.ok ? await loadExport(parsed.spec) : parsed;
    if (!loaded.ok) return { kind: 'run', status: 'load-failed', failure: wireFailure(loaded.failure), metrics: metrics() };
    let result: unknown;
    try {
      result = (await loaded.fn(context)) ?? null;
    } catch (error) {
      return { kind: 'run', status: 'error', error: serializeError(error), metrics: metrics() };
    }
    const measured = metrics();
    try {
      // Checked here because tinypool posts the reply itself: an uncloneable result would throw
      // inside tinypool, crash this thread and reach the main thread as an opaque DataCloneError.
      structuredClone(result);
    } catch (error) {
      // The result is stored as JSON.stringify writes it anyway (a function is dropped): sent
      // that way. One that JSON cannot hold either is dropped; the handler's work is done.
      const reason = error instanceof Error ? error.message : String(error);
      try {
        const text = JSON.stringify(result);
        return { kind: 'run', status: 'ok', result: text === undefined ? null : (JSON.parse(text) as unknown), metrics: measured };
      } catch {
        return { kind: 'run', status: 'ok', result: null, metrics: measured, droppedResult: `it cannot be sent back from the worker thread (${reason})` };
      }
    }
    return { kind: 'run', status: 'ok', result, metrics: measured };
  } finally {
    // The main side closes its end once it has the reply; dropping the listener here lets this
    // end be collected, and a late heartbeat reply cannot resolve anything any more.
    port.off('message', onMessage);
    heartbeats.clear();
  }
}

function wireFailure(failure: LoadFailure): SerializedLoadFailure {
  return {
    field: failure.field,
    reason: failure.reason,
    cause: failure.cause === undefined ? null : serializeError(failure.cause),
  };
}

/** Post on the task port; a closed port (main side gave up) must not fail the handler. */
function send(port: MessagePort, message: WorkerToMainMessage): void {
  try {
    port.postMessage(message);
  } catch (error) {
    if (message.type !== 'log') return;
    // Log fields may hold values structured clone rejects (functions, sockets): send a JSON-safe
    // rendering instead of losing the line.
    try {
      port.postMessage({ ...message, fields: jsonSafe(message.fields, error) });
    } catch {
      // Nothing more to do: logging must never break the job.
    }
  }
}

function jsonSafe(fields: LogFields, cloneError: unknown): LogFields {
  try {
    return JSON.parse(
      JSON.stringify(fields, (_key, value: unknown) => (value instanceof Error ? serializeError(value) : value)),
    ) as LogFields;
  } catch {
    return { logFieldsError: `log fields could not be sent from the worker: ${String(cloneError)}` };
  }
}

function portLogger(port: MessagePort): Logger {
  const line =
    (level: LogLevel) =>
    (fields: LogFields, message?: string): void =>
      send(port, { type: 'log', level, fields, message: message ?? null });
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/**
 * Track the isolate's heap high-water mark during an attempt. V8 exposes no per-interval peak, so
 * the heap is sampled at start, at end, and on an interval; the interval only fires while the
 * handler yields to the event loop, so a purely synchronous spike can peak above the figure.
 */
function startHeapSampler(intervalMs: number): () => number {
  const used = (): number => getHeapStatistics().used_heap_size;
  let peak = used();
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          peak = Math.max(peak, used());
        }, intervalMs)
      : null;
  return () => {
    if (timer !== null) clearInterval(timer);
    peak = Math.max(peak, used());
    return peak;
  };
}
