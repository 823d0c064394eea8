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

/** The stored shape of a thrown value. */
export function errorInfo(error: unknown): JobErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, code: typeof code === 'string' || typeof code === 'number' ? String(code) : null };
  }
  return { name: 'Error', message: typeof error === 'string' ? error : safeString(error), code: null };
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
