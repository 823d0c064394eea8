/**
 * What an attempt in a worker thread came to, as the engine sees it: a worker's reply turned into
 * a `RunOutcome`, its errors rebuilt in this thread (a `PermanentJobError` stays one, so it is not
 * retried), the errors of a module that cannot load or a thread that exited, and the metrics
 * measured on this side when no reply came.
 */
import { PermanentJobError } from '../errors.js';
import type { RunMetrics, RunOutcome } from '../ports.js';
import type { JsonValue } from '../types.js';
import { reviveErrorFields, type RunReply, type SerializedError, type SerializedLoadFailure } from './protocol.js';

export function outcomeFromReply(reply: RunReply): RunOutcome {
  const m = reply.metrics;
  const metrics: RunMetrics = {
    durationMs: m.durationMs,
    cpuUserMs: m.cpuUserMs,
    cpuSystemMs: m.cpuSystemMs,
    heapUsedBytes: m.peakHeapBytes,
    waitMs: m.waitMs,
  };
  if (reply.status === 'ok') {
    // Structured-clone-safe is all the worker guarantees; the engine stores it as JSON would.
    if (typeof reply.droppedResult === 'string') return { ok: true, result: null, metrics, droppedResult: reply.droppedResult };
    return { ok: true, result: reply.result as JsonValue | null, metrics };
  }
  if (reply.status === 'error') return { ok: false, error: reviveError(reply.error), metrics };
  return { ok: false, error: loadFailureError(reply.failure.field, reply.failure.reason, reply.failure), metrics };
}

/**
 * Rebuild a worker's error in this thread with the same `name`, `message`, `code` and `stack`. A
 * `PermanentJobError` (recognised by name or by its code, so worker modules can define their own
 * class without importing the scheduler) becomes a real `PermanentJobError` instance, which is
 * what keeps the engine from retrying it.
 */
export function reviveError(serialized: SerializedError): Error {
  if (serialized.name === 'PermanentJobError' || serialized.code === 'ERR_PERMANENT_JOB') {
    return reviveErrorFields(serialized, new PermanentJobError(serialized.message));
  }
  return reviveErrorFields(serialized);
}

/**
 * A module that cannot be loaded (missing, failing at import, no such export) fails the attempt
 * permanently: retrying would load the same file again, and ESM even caches failed evaluations.
 */
export function loadFailureError(
  field: SerializedLoadFailure['field'],
  reason: string,
  failure: SerializedLoadFailure | null,
): PermanentJobError {
  const cause = failure?.cause ? reviveError(failure.cause) : undefined;
  return new PermanentJobError(`cannot load handler: ${field}: ${reason}`, cause === undefined ? undefined : { cause });
}

export function threadExitedError(): Error {
  const error = new Error(
    'the worker thread exited while running the job (did the handler call process.exit()?); the pool replaced the thread',
  );
  return Object.assign(error, { name: 'WorkerExitedError', code: 'ERR_WORKER_EXITED' });
}

/**
 * Metrics measured on this side, for attempts that ended without a worker reply (aborted,
 * killed, crashed): wall time since the worker started the attempt (0 if it never did), and the
 * wait reported by the worker, or the time waited so far when it never started.
 */
export function mainMetrics(startedAt: number | null, waitMs: number | null, submitted: number): RunMetrics {
  const now = performance.now();
  return {
    durationMs: startedAt === null ? 0 : Math.max(0, now - startedAt),
    cpuUserMs: null,
    cpuSystemMs: null,
    heapUsedBytes: null,
    waitMs: waitMs ?? Math.max(0, now - submitted),
  };
}
