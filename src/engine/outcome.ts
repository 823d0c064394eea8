/**
 * Small pure helpers of the engine: policy lookups, outcome classification and error shaping.
 */
import type { Logger } from '../logger.js';
import type { RunMetrics } from '../ports.js';
import type { JobErrorInfo, JobMetrics, JobSource, JobStatus, JsonValue, Trigger } from '../types.js';
import { assertJsonPayload } from './json.js';

/** The trigger's cluster-wide concurrency cap, or `null` when it has none. */
export function permitLimit(trigger: Trigger): number | null {
  if (trigger.maxConcurrent !== null) return trigger.maxConcurrent;
  return trigger.overlap === 'allow' ? null : 1;
}

/** History reason of a job's creation. */
export function reasonFor(source: JobSource): string {
  switch (source) {
    case 'schedule':
      return 'slot claimed';
    case 'manual':
      return 'manual run';
    case 'event':
      return 'event received';
    case 'dependency':
      return 'upstream job finished';
  }
}

/** Whether an upstream job's final status fires a dependent trigger with this condition. */
export function conditionMet(on: 'success' | 'failure' | 'completion', status: JobStatus): boolean {
  if (on === 'success') return status === 'succeeded';
  if (on === 'failure') return status === 'failed';
  return status === 'succeeded' || status === 'failed';
}

/** Whether every field of an event filter equals the payload's. */
export function matchesFilter(filter: Record<string, JsonValue>, payload: JsonValue): boolean {
  const keys = Object.keys(filter);
  if (keys.length === 0) return true;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
  return keys.every((key) => Object.hasOwn(payload, key) && payload[key] === filter[key]);
}

/** What a handler's return value is stored as, and, when it could not be stored at all, why. */
export interface StorableResult {
  value: JsonValue | null;
  /** Why the result was dropped (stored as `null`), or `null` when it was stored. */
  dropped: string | null;
}

const NO_RESULT: StorableResult = Object.freeze({ value: null, dropped: null });

/**
 * A handler's return value as it is stored: what `JSON.stringify` makes of it (a `Date` becomes
 * its ISO string, `undefined` and functions are dropped, `toJSON` is called). A value that JSON
 * cannot hold at all (a `BigInt`, a cycle, more than `MAX_PAYLOAD_BYTES`, a key starting with
 * `$`) is dropped, with the reason: the handler's work is done, and a success stays one. Plain
 * JSON, the usual result, is taken as it is, without the round trip.
 */
export function storableResult(result: unknown): StorableResult {
  if (result === undefined || result === null) return NO_RESULT;
  try {
    return { value: assertJsonPayload(result, 'result'), dropped: null };
  } catch {
    // Not plain JSON as it stands: stored as JSON.stringify would write it, below.
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(result);
  } catch (error) {
    return { value: null, dropped: `it cannot be written as JSON (${toError(error).message})` };
  }
  if (text === undefined) return NO_RESULT;
  try {
    return { value: assertJsonPayload(JSON.parse(text) as unknown, 'result'), dropped: null };
  } catch (error) {
    return { value: null, dropped: toError(error).message };
  }
}

/** Most lines of a stored stack: the frames that say where it was thrown, not the runtime's. */
export const MAX_STACK_LINES = 30;

/** Most characters of a stored stack, so a job record and a page of them stay small. */
export const MAX_STACK_CHARS = 4096;

/** The stored shape of a thrown value. */
export function errorInfo(error: unknown): JobErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const info: JobErrorInfo = { name: error.name, message: error.message, code: typeof code === 'string' || typeof code === 'number' ? String(code) : null };
    const stack = trimStack(error.stack);
    if (stack !== null) info.stack = stack;
    return info;
  }
  return { name: 'Error', message: typeof error === 'string' ? error : safeString(error), code: null };
}

/**
 * A stack cut to `MAX_STACK_LINES` lines and `MAX_STACK_CHARS` characters, with a last line saying
 * what was cut; `null` for no stack. A deep recursion's stack would otherwise go into every read
 * of the job and every page of a list.
 */
export function trimStack(stack: unknown): string | null {
  if (typeof stack !== 'string' || stack === '') return null;
  const lines = stack.split('\n');
  let text = lines.length > MAX_STACK_LINES ? lines.slice(0, MAX_STACK_LINES).join('\n') : stack;
  if (text.length > MAX_STACK_CHARS) {
    // Cut at a line end where there is one, so no frame is left half-written.
    const lineEnd = text.lastIndexOf('\n', MAX_STACK_CHARS);
    text = text.slice(0, lineEnd > 0 ? lineEnd : MAX_STACK_CHARS);
  }
  return text.length < stack.length ? `${text}\n    … (${stack.length - text.length} more characters)` : text;
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Any thrown value as an `Error`. */
export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(safeString(error));
}

/** A job's metrics before its attempt has run: only how long it waited, if it started. */
export function jobMetrics(queuedMs: number | null): JobMetrics {
  return { queuedMs, durationMs: null, cpuUserMs: null, cpuSystemMs: null, heapUsedBytes: null, threadWaitMs: null };
}

/** Metrics of an attempt that never ran. */
export function zeroMetrics(): RunMetrics {
  return { durationMs: 0, cpuUserMs: null, cpuSystemMs: null, heapUsedBytes: null, waitMs: null };
}

/** A logger that adds fixed fields to every line. */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  return {
    debug: (fields, message) => logger.debug({ ...bindings, ...fields }, message),
    info: (fields, message) => logger.info({ ...bindings, ...fields }, message),
    warn: (fields, message) => logger.warn({ ...bindings, ...fields }, message),
    error: (fields, message) => logger.error({ ...bindings, ...fields }, message),
  };
}

/** Add to a set-valued index. */
export function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}
