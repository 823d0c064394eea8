/**
 * HMAC request signing: `X-Signature: t=<unix seconds>, v2=<hex HMAC-SHA256>` over
 * `"v2\n<t>\n<METHOD>\n<request target>\n<Idempotency-Key or empty>\n<raw body>"`.
 *
 * The timestamp bounds how long a captured request can be replayed (and a cache of signatures seen
 * refuses a second use within that time); method and target are signed so that a captured request
 * cannot be sent to another route; the idempotency key is signed so that it cannot be replayed under
 * a fresh key (which would fire it again).
 *
 * Version 1 (`v1=`, over `"<t>.<Idempotency-Key>.<raw body>"`) covers neither method nor path: the
 * webhook accepts it only when `auth.hmac.acceptV1` says so. The management API puts method and
 * target into what it signs with v1 itself (see management/signing.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the signature header (Node lower-cases incoming header names). */
export const SIGNATURE_HEADER = 'x-signature';

/** Default of `auth.hmac.toleranceSec`. */
export const DEFAULT_HMAC_TOLERANCE_SEC = 300;

/**
 * Largest accepted distance of a signature's `t` into the future: clock skew between sender and
 * receiver, not a licence to pre-sign requests for later.
 */
export const MAX_FUTURE_SKEW_SEC = 30;

/** What `signHmac` signs. */
export interface HmacSignInput {
  /** Exact raw body bytes as they will be sent (a string is taken as UTF-8). */
  body: string | Uint8Array;
  /**
   * The `Idempotency-Key` header that will be sent, if any.
   * @default undefined (none sent)
   */
  idempotencyKey?: string;
  /**
   * Signing time in unix seconds.
   * @default Math.floor(Date.now() / 1000)
   */
  timestamp?: number;
  /**
   * HTTP method, e.g. `POST`. With `path`, the signature is version 2, which the webhook requires
   * (unless `auth.hmac.acceptV1`); without, version 1.
   * @default undefined (a version 1 signature)
   */
  method?: string;
  /**
   * Request target exactly as it will be sent: path and query, e.g. `/hooks/triggers/x/run`.
   * @default undefined (a version 1 signature)
   */
  path?: string;
}

/** A parsed `X-Signature` header. */
export interface ParsedSignature {
  /** The `t` field exactly as sent (it is signed as sent). */
  timestampText: string;
  /** `t` as a number of seconds. */
  timestamp: number;
  /** Every `v1` field, decoded (senders may give one per secret while rotating). */
  signatures: Buffer[];
  /** Every `v2` field, decoded. */
  v2: Buffer[];
}

/** What a version 2 signature covers besides the timestamp, key and body. */
export interface SignedRequest {
  /** HTTP method, upper case. */
  method: string;
  /** Request target as the client sent it. */
  target: string;
}

function mac(secret: string | Uint8Array, timestampText: string, idempotencyKey: string, body: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${timestampText}.${idempotencyKey}.`).update(body).digest();
}

function macV2(secret: string | Uint8Array, timestampText: string, request: SignedRequest, idempotencyKey: string, body: Uint8Array): Buffer {
  // Newlines cannot occur in a method, a request target, a timestamp or a (visible ASCII) key, so
  // the fields cannot be shifted into one another.
  return createHmac('sha256', secret)
    .update(`v2\n${timestampText}\n${request.method.toUpperCase()}\n${request.target}\n${idempotencyKey}\n`)
    .update(body)
    .digest();
}

/**
 * Compute the `X-Signature` header value for a request, for clients of the webhook.
 *
 * @example
 * const body = JSON.stringify({ suite: 'smoke' });
 * const signature = signHmac(secret, { method: 'POST', path: '/hooks/events/build.done', body, idempotencyKey: 'delivery-42' });
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
  if (input.method !== undefined && input.path !== undefined) {
    const request = { method: input.method, target: input.path };
    return `t=${t}, v2=${macV2(secret, t, request, input.idempotencyKey ?? '', body).toString('hex')}`;
  }
  return `t=${t}, v1=${mac(secret, t, input.idempotencyKey ?? '', body).toString('hex')}`;
}

/**
 * Parse an `X-Signature` header. Unknown fields are ignored (room for a future version); `null`
 * when `t` is missing or malformed, or there is no well-formed `v1` or `v2`.
 */
export function parseSignatureHeader(header: string): ParsedSignature | null {
  let timestampText: string | null = null;
  const signatures: Buffer[] = [];
  const v2: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't') {
      // Two `t`s would make it ambiguous which one was signed.
      if (timestampText !== null || !/^\d{1,12}$/.test(value)) return null;
      timestampText = value;
    } else if ((name === 'v1' || name === 'v2') && /^[0-9a-fA-F]{64}$/.test(value)) {
      (name === 'v1' ? signatures : v2).push(Buffer.from(value, 'hex'));
    }
  }
  if (timestampText === null || signatures.length + v2.length === 0) return null;
  return { timestampText, timestamp: Number(timestampText), signatures, v2 };
}

/**
 * Whether the signature's time is at most `toleranceSec` in the past, and at most
 * `MAX_FUTURE_SKEW_SEC` (or `toleranceSec`, if smaller) in the future.
 */
export function isFresh(signature: ParsedSignature, nowMs: number, toleranceSec: number): boolean {
  const age = nowMs / 1000 - signature.timestamp;
  return age <= toleranceSec && -age <= Math.min(toleranceSec, MAX_FUTURE_SKEW_SEC);
}

/**
 * The MAC of the header that is valid for the request under one of the secrets, or `null`: a `v2`
 * over `request`, or (when `request` is `null`, or `acceptV1`) a `v1`. Every comparison is
 * constant-time on equal-length (32-byte) buffers. The match identifies the signature for the
 * replay cache.
 */
export function matchHmacSignature(
  secrets: readonly (string | Uint8Array)[],
  signature: ParsedSignature,
  idempotencyKey: string | undefined,
  body: Uint8Array,
  request: SignedRequest | null,
  acceptV1: boolean,
): Buffer | null {
  let match: Buffer | null = null;
  const key = idempotencyKey ?? '';
  for (const secret of secrets) {
    const candidates: Array<[Buffer[], Buffer]> = [];
    if (request !== null) candidates.push([signature.v2, macV2(secret, signature.timestampText, request, key, body)]);
    if (request === null || acceptV1) candidates.push([signature.signatures, mac(secret, signature.timestampText, key, body)]);
    for (const [given, expected] of candidates) {
      for (const one of given) {
        // Lengths are equal by construction (64 hex chars = 32 bytes), as timingSafeEqual requires.
        // No early exit: the time taken does not depend on which pair matched.
        if (one.length === expected.length && timingSafeEqual(one, expected)) match = one;
      }
    }
  }
  return match;
}
