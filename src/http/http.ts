/**
 * Writing answers. Every answer is JSON, never cached, and an error body carries only a code and a
 * short message: no stack, no cause, nothing from the configuration.
 */
import type { ServerResponse } from 'node:http';
import type { WebhookErrorBody, WebhookErrorCode } from './types.js';

/**
 * A request the webhook refuses, with the HTTP status and headers to answer it with. Thrown inside
 * the pipeline and turned into an answer in one place, so no branch can forget a header.
 */
export class WebhookHttpError extends Error {
  /** HTTP status to answer with. */
  readonly status: number;
  /** Code of the error body. */
  readonly code: WebhookErrorCode;
  /** Extra answer headers such as `WWW-Authenticate` or `Allow`. */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * @param cause what went wrong underneath, for the log only: it never reaches the answer.
   */
  constructor(
    status: number,
    code: WebhookErrorCode,
    message: string,
    headers: Record<string, string> = {},
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'WebhookHttpError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** Send `body` as JSON with `status`. Does nothing when an answer was already started. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** Send `text`, already JSON, with `status`. Does nothing when an answer was already started. */
export function sendJsonText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent || res.writableEnded) return;
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  // Answers describe one delivery (job ids, health at this instant): a cache must never replay them.
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(text);
}

/** Send a `WebhookHttpError` as `{ error: { code, message } }`. */
export function sendError(res: ServerResponse, err: WebhookHttpError): void {
  const body: WebhookErrorBody = { error: { code: err.code, message: err.message } };
  sendJson(res, err.status, body, err.headers);
}
