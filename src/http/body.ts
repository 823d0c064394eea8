/**
 * Request bodies: media type check, bounded reading and JSON parsing that cannot pollute prototypes.
 */
import type { IncomingMessage } from 'node:http';
import { MAX_JSON_DEPTH } from '../engine/json.js';
import type { JsonValue } from '../types.js';
import { WebhookHttpError } from './http.js';

/** Default of `maxBodyBytes`: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Default of `bodyTimeoutMs`: 10 s to send a whole body. */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/**
 * Keys dropped from parsed payloads. `JSON.parse` itself only creates own properties, but payloads are
 * later merged, filtered and copied by code that may use `obj[key] = value`; a `__proto__` key there
 * would rewrite a prototype. Dropping them at the door makes every later copy safe.
 */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The client went away before its body was complete; there is nobody left to answer. */
export class RequestAbortedError extends Error {
  constructor() {
    super('request aborted by the client');
    this.name = 'RequestAbortedError';
  }
}

/** Whether the request declares a body (a non-zero `Content-Length` or any `Transfer-Encoding`). */
export function declaresBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length.trim() !== '0';
}

/**
 * Whether a `Content-Type` header is `application/json`, optionally with a UTF-8 charset (JSON has
 * no other encoding on the wire, RFC 8259 §8.1). Other parameters are ignored.
 */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [essence, ...params] = header.split(';');
  if (essence === undefined || essence.trim().toLowerCase() !== 'application/json') return false;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    const name = param.slice(0, eq).trim().toLowerCase();
    const value = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (name === 'charset' && value !== 'utf-8' && value !== 'utf8') return false;
  }
  return true;
}

function tooLarge(limit: number): WebhookHttpError {
  // `Connection: close`: the rest of the body is never read, so the connection cannot be reused.
  return new WebhookHttpError(413, 'ERR_PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`, {
    Connection: 'close',
  });
}

/**
 * Read the whole body, but never more than `limit` bytes: a declared `Content-Length` above it is
 * refused before reading anything, and a streamed body is abandoned at the first chunk that crosses
 * it. A body not complete within `timeoutMs` is abandoned too (a slow sender would otherwise hold
 * the connection for Node's default request timeout of 300 s). Rejects with a 413 or 408
 * `WebhookHttpError`, a 500 one when a framework already consumed the stream, or
 * `RequestAbortedError`.
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs = DEFAULT_BODY_TIMEOUT_MS): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const length = Number(declared);
    if (Number.isFinite(length) && length > limit) return Promise.reject(tooLarge(limit));
  }
  // A framework body parser (express.json, Fastify's parsers) drains the stream before we run; the
  // raw bytes are gone, and HMAC needs exactly those bytes. That is a mounting mistake, not a client
  // error, so it is a 500 that says what to fix.
  if (req.readableEnded || req.readableFlowing === true) {
    return Promise.reject(
      new WebhookHttpError(
        500,
        'ERR_BODY_CONSUMED',
        'the request body was consumed before the webhook handler; mount it without a body parser',
      ),
    );
  }

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;

    // I/O time, not scheduler time: a real timer, not the injected clock.
    const timer = setTimeout(() => {
      cleanup();
      req.pause();
      reject(
        new WebhookHttpError(408, 'ERR_BODY_TIMEOUT', `request body not received within ${timeoutMs} ms`, {
          Connection: 'close',
        }),
      );
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      size += buf.length;
      if (size > limit) {
        cleanup();
        // Stop pulling from the socket: whatever else the client sends is never buffered by us.
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (): void => {
      cleanup();
      reject(new RequestAbortedError());
    };
    const onClose = (): void => {
      // 'close' before 'end' means the client hung up mid-body.
      cleanup();
      reject(new RequestAbortedError());
    };

    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Drop the forbidden keys at every depth, and refuse nesting deeper than `MAX_JSON_DEPTH`. An
 * explicit stack, not recursion: a body nested 20,000 levels deep gets a 400, not a stack overflow.
 */
function scrub(root: unknown): void {
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_JSON_DEPTH) {
      throw new WebhookHttpError(400, 'ERR_INVALID_JSON', `request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
    }
    if (Array.isArray(value)) {
      for (const item of value) stack.push([item, depth + 1]);
      continue;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      // An own "__proto__" from JSON.parse is deleted as the data property it is.
      if (FORBIDDEN_KEYS.has(key)) delete record[key];
      else stack.push([record[key], depth + 1]);
    }
  }
}

/**
 * Parse a UTF-8 JSON body. Keys `__proto__`, `constructor` and `prototype` are dropped at every
 * depth. Throws a 400 `WebhookHttpError` (`ERR_INVALID_JSON`) for bad UTF-8, bad JSON or nesting
 * deeper than `MAX_JSON_DEPTH`.
 */
export function parseJsonBody(raw: Uint8Array): JsonValue {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new WebhookHttpError(400, 'ERR_INVALID_JSON', 'request body is not valid UTF-8');
  }
  let value: unknown;
  try {
    // JSON.parse itself is not recursive in V8 and takes any depth; a reviver would be.
    value = JSON.parse(text);
  } catch {
    // The parser's message can quote the body; a fixed text leaks nothing.
    throw new WebhookHttpError(400, 'ERR_INVALID_JSON', 'request body is not valid JSON');
  }
  scrub(value);
  // JSON.parse only ever yields JSON values, so the cast states a fact rather than assumes one.
  return value as JsonValue;
}

/**
 * Whether the answer must close the connection: the client declared a body that was not read, and
 * letting Node drain it for keep-alive could mean reading an unbounded amount.
 */
export function mustClose(req: IncomingMessage, maxBodyBytes: number): boolean {
  if (req.readableEnded || !declaresBody(req)) return false;
  const raw = req.headers['content-length'];
  const length = Number(raw);
  return !(raw !== undefined && Number.isFinite(length) && length <= maxBodyBytes);
}
