/**
 * HMAC request signing: `X-Signature: t=<unix seconds>, v1=<hex HMAC-SHA256>` over
 * `"<t>.<Idempotency-Key or empty>.<raw body>"`.
 *
 * The timestamp bounds how long a captured request can be replayed; the idempotency key is signed
 * so that a captured request cannot be replayed under a fresh key (which would fire it again).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the signature header (Node lower-cases incoming header names). */
export const SIGNATURE_HEADER = 'x-signature';

/** Default of `auth.hmac.toleranceSec`. */
export const DEFAULT_HMAC_TOLERANCE_SEC = 300;

/** What `signHmac` signs. */
export interface HmacSignInput {
  /** Exact raw body bytes as they will be sent (a string is taken as UTF-8). */
  body: string | Uint8Array;
  /** The `Idempotency-Key` header that will be sent, if any. */
  idempotencyKey?: string;
  /** Signing time in unix seconds (default: now). */
  timestamp?: number;
}

/** A parsed `X-Signature` header. */
export interface ParsedSignature {
  /** The `t` field exactly as sent (it is signed as sent). */
  timestampText: string;
  /** `t` as a number of seconds. */
  timestamp: number;
  /** Every `v1` field, decoded (senders may give one per secret while rotating). */
  signatures: Buffer[];
}

function mac(secret: string | Uint8Array, timestampText: string, idempotencyKey: string, body: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${timestampText}.${idempotencyKey}.`).update(body).digest();
}

/**
 * Compute the `X-Signature` header value for a request, for clients of the webhook.
 *
 * @example
 * const body = JSON.stringify({ suite: 'smoke' });
 * const signature = signHmac(secret, { body, idempotencyKey: 'delivery-42' });
 * await fetch(url, { method: 'POST', body, headers: {
 *   'Content-Type': 'application/json', 'Idempotency-Key': 'delivery-42', 'X-Signature': signature } });
 */
export function signHmac(secret: string | Uint8Array, input: HmacSignInput): string {
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError('timestamp must be a non-negative integer number of seconds');
  }
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  const t = String(timestamp);
  return `t=${t}, v1=${mac(secret, t, input.idempotencyKey ?? '', body).toString('hex')}`;
}

/**
 * Parse an `X-Signature` header. Unknown fields are ignored (room for a future `v2`); `null` when
 * `t` or every `v1` is missing or malformed.
 */
export function parseSignatureHeader(header: string): ParsedSignature | null {
  let timestampText: string | null = null;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't') {
      // Two `t`s would make it ambiguous which one was signed.
      if (timestampText !== null || !/^\d{1,12}$/.test(value)) return null;
      timestampText = value;
    } else if (name === 'v1' && /^[0-9a-fA-F]{64}$/.test(value)) {
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestampText === null || signatures.length === 0) return null;
  return { timestampText, timestamp: Number(timestampText), signatures };
}

/** Whether the signature's time is within `toleranceSec` of `nowMs`, in either direction. */
export function isFresh(signature: ParsedSignature, nowMs: number, toleranceSec: number): boolean {
  return Math.abs(nowMs / 1000 - signature.timestamp) <= toleranceSec;
}

/**
 * Whether any `v1` of the header is a valid MAC of the request under any of the secrets. Every
 * comparison is constant-time on equal-length (32-byte) buffers.
 */
export function verifyHmacSignature(
  secrets: readonly (string | Uint8Array)[],
  signature: ParsedSignature,
  idempotencyKey: string | undefined,
  body: Uint8Array,
): boolean {
  let ok = false;
  for (const secret of secrets) {
    const expected = mac(secret, signature.timestampText, idempotencyKey ?? '', body);
    for (const given of signature.signatures) {
      // Lengths are equal by construction (64 hex chars = 32 bytes), as timingSafeEqual requires.
      // No early exit: the time taken does not depend on which pair matched.
      if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
    }
  }
  return ok;
}
