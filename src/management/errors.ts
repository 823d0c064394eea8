/**
 * Refusals of the management API and how the scheduler's errors map onto HTTP answers.
 */
import type { ServerResponse } from 'node:http';
import { WebhookHttpError, sendJson } from '../http/http.js';
import type { ManagementErrorBody, ManagementErrorCode } from './types.js';

/** A request the API refuses: status, code, message, the offending field, extra headers. */
export class ManagementHttpError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Code of the error body. */
  readonly code: ManagementErrorCode;
  /** Query, path or body field at fault, for 400s. */
  readonly field: string | null;
  /** Extra answer headers (`Allow`, `WWW-Authenticate`, ...). */
  readonly headers: Readonly<Record<string, string>>;

  /** @param cause what went wrong underneath, for the log only. */
  constructor(
    status: number,
    code: ManagementErrorCode,
    message: string,
    options: { field?: string; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ManagementHttpError';
    this.status = status;
    this.code = code;
    this.field = options.field ?? null;
    this.headers = options.headers ?? {};
  }
}

/** A 400 naming `field`. */
export function badRequest(field: string, reason: string): ManagementHttpError {
  return new ManagementHttpError(400, 'ERR_INVALID_REQUEST', `${field}: ${reason}`, { field });
}

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

/**
 * What a failure becomes on the wire. Duck-typed on `code`, because an ESM and a CJS copy of this
 * package each have their own error classes. Unknown failures become a generic 500.
 */
export function toHttpError(err: unknown): ManagementHttpError {
  if (err instanceof ManagementHttpError) return err;
  if (err instanceof WebhookHttpError) {
    // The shared auth and body modules speak the webhook's codes, which are a subset of ours.
    return new ManagementHttpError(err.status, err.code as ManagementErrorCode, err.message, {
      headers: { ...err.headers },
      ...(err.cause === undefined ? {} : { cause: err.cause }),
    });
  }
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : 'failed';
  switch (code) {
    case 'ERR_INVALID_TRIGGER_CONFIG':
    case 'ERR_HANDLER_NOT_FOUND': {
      const field = (err as { field?: unknown }).field;
      return new ManagementHttpError(400, 'ERR_INVALID_REQUEST', message, typeof field === 'string' ? { field } : {});
    }
    case 'ERR_TRIGGER_NOT_FOUND':
      return new ManagementHttpError(404, 'ERR_TRIGGER_NOT_FOUND', message);
    case 'ERR_JOB_NOT_FOUND':
      return new ManagementHttpError(404, 'ERR_JOB_NOT_FOUND', message);
    case 'ERR_JOB_NOT_RETRYABLE':
      return new ManagementHttpError(409, 'ERR_JOB_NOT_RETRYABLE', message);
    case 'ERR_PREVIEW_BUDGET':
      // Well-formed, but more work than one request may cost: ask for fewer fire times.
      return new ManagementHttpError(422, 'ERR_PREVIEW_BUDGET', message, { field: 'count' });
    case 'ERR_SCHEDULER_STOPPED':
      return new ManagementHttpError(503, 'ERR_SCHEDULER_STOPPED', 'scheduler is stopping', { headers: { 'Retry-After': '5' } });
    case 'ERR_STORE':
      // The backend's message can hold host names or query details: log it, do not send it.
      return new ManagementHttpError(503, 'ERR_STORE', 'the store is unavailable, retry later', {
        headers: { 'Retry-After': '5' },
        cause: err,
      });
    default:
      return new ManagementHttpError(500, 'ERR_INTERNAL', 'internal error', { cause: err ?? new Error('unknown failure') });
  }
}

/** Send `err` as `{ error: { code, message, field? } }`. */
export function sendHttpError(res: ServerResponse, err: ManagementHttpError, extraHeaders: Record<string, string> = {}): void {
  const body: ManagementErrorBody = { error: { code: err.code, message: err.message } };
  if (err.field !== null) body.error.field = err.field;
  sendJson(res, err.status, body, { ...err.headers, ...extraHeaders });
}
