/**
 * Wire format between `WorkerPoolJobRunner` (main thread) and `worker-entry` (worker threads).
 *
 * Everything here crosses a thread boundary by structured clone, so it holds plain data only.
 * Errors in particular travel as `SerializedError`: structured clone keeps an `Error`'s message and
 * stack but drops its `code` and turns unknown subclasses into plain `Error`s, and the engine needs
 * `name` and `code` intact (a `PermanentJobError` must stay recognisable).
 *
 * This module must stay free of runtime imports from the rest of the package: it is bundled into
 * the worker entry, which should load fast and must not pull the scheduler into every thread.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Job, JsonValue, Trigger } from '../types.js';
import type { LogFields } from '../logger.js';

/** An error reduced to cloneable fields. */
export interface SerializedError {
  /** `error.name` (`'Error'` for thrown non-errors). */
  name: string;
  /** `error.message`, or a description of a thrown non-error value. */
  message: string;
  /** `error.code` as a string, if it had one. */
  code: string | null;
  /** `error.stack` as produced where it was thrown. */
  stack: string | null;
  /** `error.cause`, serialized the same way (a few levels deep at most). */
  cause: SerializedError | null;
}

/** Why a handler module could not be used; `field` is the registration field at fault. */
export interface SerializedLoadFailure {
  /** `handler.module` (cannot be found or loaded) or `handler.exportName` (missing, not a function). */
  field: 'handler.module' | 'handler.exportName';
  /** Human-readable reason. */
  reason: string;
  /** The import error, when there was one. */
  cause: SerializedError | null;
}

/** Run one attempt of a module handler. */
export interface RunTask {
  /** Discriminant. */
  kind: 'run';
  /** `file:` URL of the handler module. */
  module: string;
  /** Export to call. */
  exportName: string;
  /** The job's payload. */
  payload: JsonValue;
  /** Attempt number, 1-based. */
  attempt: number;
  /** Copy of the job record. */
  job: Readonly<Job>;
  /** Copy of the trigger record, if any. */
  trigger: Readonly<Trigger> | null;
  /** Epoch ms (sub-ms precision) when the main thread submitted the task; gives `waitMs`. */
  submittedAt: number;
  /** How often the worker samples its heap while the handler yields; 0 = start and end only. */
  heapSampleIntervalMs: number;
  /** Control channel for this attempt (abort, logs, heartbeats); transferred with the task. */
  port: MessagePort;
}

/** Import a handler module and check its export, without running it (registration check). */
export interface CheckTask {
  /** Discriminant. */
  kind: 'check';
  /** `file:` URL of the handler module. */
  module: string;
  /** Export that must be a function. */
  exportName: string;
}

/** Anything the worker entry accepts. */
export type WorkerTask = RunTask | CheckTask;

/** Figures measured inside the worker for one attempt. */
export interface WorkerRunMetrics {
  /** Time from submission to the start of the attempt in the worker. */
  waitMs: number;
  /** Wall time of the handler. */
  durationMs: number;
  /** CPU time in user mode (see `cpuScope`). */
  cpuUserMs: number | null;
  /** CPU time in system mode (see `cpuScope`). */
  cpuSystemMs: number | null;
  /** `thread`: the worker thread's own CPU time; `process`: the whole process's (fallback). */
  cpuScope: 'thread' | 'process';
  /** Highest V8 heap usage of the worker isolate seen during the attempt. */
  peakHeapBytes: number;
}

/** Reply to a `RunTask`. */
export type RunReply =
  | { kind: 'run'; status: 'ok'; result: unknown; metrics: WorkerRunMetrics; droppedResult?: string }
  | { kind: 'run'; status: 'error'; error: SerializedError; metrics: WorkerRunMetrics }
  | { kind: 'run'; status: 'load-failed'; failure: SerializedLoadFailure; metrics: WorkerRunMetrics };

/** Reply to a `CheckTask`. */
export type CheckReply = { kind: 'check'; ok: true } | { kind: 'check'; ok: false; failure: SerializedLoadFailure };

/** Log levels a worker handler can use. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Messages the worker sends on a task's port. */
export type WorkerToMainMessage =
  | { type: 'started'; at: number }
  | { type: 'log'; level: LogLevel; fields: LogFields; message: string | null }
  | { type: 'heartbeat'; id: number };

/** Messages the main thread sends on a task's port. */
export type MainToWorkerMessage =
  | { type: 'abort'; reason: SerializedError }
  | { type: 'heartbeat-done'; id: number; error: SerializedError | null };

/** How deep `cause` chains are followed; guards against cycles and huge chains. */
const MAX_CAUSE_DEPTH = 4;

/** Current time as epoch milliseconds with sub-millisecond precision, comparable across threads. */
export function epochNow(): number {
  // `performance.timeOrigin` differs per thread, but `timeOrigin + now()` is the same wall clock
  // in both, which is what lets the worker compute the queueing delay from the submit time.
  return performance.timeOrigin + performance.now();
}

/** Reduce any thrown value to cloneable fields. Never throws. */
export function serializeError(value: unknown, depth = 0): SerializedError {
  if (value instanceof Error || (typeof value === 'object' && value !== null && 'message' in value)) {
    const record = value as { name?: unknown; message?: unknown; code?: unknown; stack?: unknown; cause?: unknown };
    // Property reads go through `safeGet`: user errors can carry throwing getters.
    const name = safeGet(() => record.name);
    const message = safeGet(() => record.message);
    const code = safeGet(() => record.code);
    const stack = safeGet(() => record.stack);
    const cause = safeGet(() => record.cause);
    return {
      name: typeof name === 'string' && name !== '' ? name : 'Error',
      message: typeof message === 'string' ? message : describe(message),
      code: typeof code === 'string' || typeof code === 'number' ? String(code) : null,
      stack: typeof stack === 'string' ? stack : null,
      cause: cause !== undefined && depth < MAX_CAUSE_DEPTH ? serializeError(cause, depth + 1) : null,
    };
  }
  return { name: 'Error', message: `non-error value thrown: ${describe(value)}`, code: null, stack: null, cause: null };
}

/** Best-effort short text for an arbitrary value. */
function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json.length > 500 ? `${json.slice(0, 500)}…` : json;
  } catch {
    // Fall through to String(): cyclic or BigInt-holding values.
  }
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function safeGet(read: () => unknown): unknown {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Rebuild a plain `Error` carrying the serialized `name`, `message`, `code` and `stack`. */
export function reviveErrorFields(serialized: SerializedError, base?: Error): Error & { code?: string } {
  const cause = serialized.cause ? reviveErrorFields(serialized.cause) : undefined;
  const error: Error & { code?: string } =
    base ?? new Error(serialized.message, cause === undefined ? undefined : { cause });
  if (base && cause !== undefined) Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true });
  // Own, writable properties (as `SchedulerError` itself assigns them) so the engine reads them
  // like those of an error thrown in this thread.
  Object.defineProperty(error, 'name', { value: serialized.name, configurable: true, writable: true });
  if (serialized.code !== null && error.code === undefined) {
    Object.defineProperty(error, 'code', { value: serialized.code, configurable: true, writable: true, enumerable: true });
  }
  Object.defineProperty(error, 'stack', {
    value: serialized.stack ?? `${serialized.name}: ${serialized.message}`,
    configurable: true,
    writable: true,
  });
  return error;
}

/** Loose shape check of a worker reply (it comes from another thread, so it is not trusted blindly). */
export function isRunReply(value: unknown): value is RunReply {
  if (typeof value !== 'object' || value === null) return false;
  const reply = value as { kind?: unknown; status?: unknown; metrics?: unknown };
  return (
    reply.kind === 'run' &&
    (reply.status === 'ok' || reply.status === 'error' || reply.status === 'load-failed') &&
    typeof reply.metrics === 'object' &&
    reply.metrics !== null
  );
}

/** Loose shape check of a check reply. */
export function isCheckReply(value: unknown): value is CheckReply {
  if (typeof value !== 'object' || value === null) return false;
  const reply = value as { kind?: unknown; ok?: unknown };
  return reply.kind === 'check' && typeof reply.ok === 'boolean';
}
