/**
 * HMAC signing of management requests. The webhook's scheme signs `"<t>.<Idempotency-Key>.<body>"`;
 * management routes also differ by method and path (a bodiless `DELETE /triggers/x` and
 * `GET /health` would otherwise share a signature), so the "body" signed here is
 * `"<METHOD> <path?query>\n"` followed by the raw body bytes.
 */
import { signHmac } from '../http/hmac.js';

/** The bytes the MAC covers for a request. */
export function hmacSigningInput(method: string, target: string, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${method.toUpperCase()} ${target}\n`, 'utf8'), body]);
}

/** What `signManagementRequest` signs. */
export interface ManagementSignInput {
  /** HTTP method, e.g. `POST`. */
  method: string;
  /** Request target exactly as sent: path and query, e.g. `/scheduler/jobs?status=failed`. */
  path: string;
  /**
   * Raw body as it will be sent.
   * @default '' (no body)
   */
  body?: string | Uint8Array;
  /**
   * `Idempotency-Key` header that will be sent, if any.
   * @default undefined (none sent)
   */
  idempotencyKey?: string;
  /**
   * Signing time in unix seconds.
   * @default Math.floor(Date.now() / 1000)
   */
  timestamp?: number;
}

/**
 * The `X-Signature` header value of a management API request, for clients using HMAC auth.
 *
 * @example
 * const signature = signManagementRequest(secret, { method: 'POST', path: '/scheduler/jobs/42/retry' });
 * await fetch(`${base}/scheduler/jobs/42/retry`, { method: 'POST', headers: { 'X-Signature': signature } });
 */
export function signManagementRequest(secret: string | Uint8Array, input: ManagementSignInput): string {
  const body = input.body === undefined ? new Uint8Array() : typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  return signHmac(secret, {
    body: hmacSigningInput(input.method, input.path, body),
    ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
    ...(input.timestamp === undefined ? {} : { timestamp: input.timestamp }),
  });
}
