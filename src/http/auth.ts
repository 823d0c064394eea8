/**
 * Authentication shared by the HTTP front ends (the webhook and the management API): validation of
 * the `auth` option into a ready verifier, and the credential checks that need no body.
 */
import type { IncomingMessage } from 'node:http';
import { InvalidTriggerConfigError } from '../errors.js';
import {
  DEFAULT_HMAC_TOLERANCE_SEC,
  SIGNATURE_HEADER,
  isFresh,
  matchHmacSignature,
  parseSignatureHeader,
  type ParsedSignature,
  type SignedRequest,
} from './hmac.js';
import { WebhookHttpError } from './http.js';
import { ReplayCache } from './replay.js';
import { bearerChallenge, createJwtAuthenticator, type JwtAuthenticator, type JwtPrincipal } from './jwt.js';
import { isRecord, rejectUnknownKeys, requireNumber } from './validate.js';

/** The `auth` option, validated. */
export type ResolvedAuth =
  | { kind: 'none' }
  | { kind: 'hmac'; secrets: Buffer[]; toleranceSec: number; acceptV1: boolean; replay: ReplayCache }
  | { kind: 'jwt'; authenticator: JwtAuthenticator };

/** Least HMAC secret length: 256 bits, the output size of SHA-256. */
const MIN_HMAC_SECRET_BYTES = 32;

function resolveHmac(value: unknown): ResolvedAuth {
  const field = 'auth.hmac';
  if (!isRecord(value)) throw new InvalidTriggerConfigError(field, 'must be an object');
  rejectUnknownKeys(value, ['secret', 'toleranceSec', 'acceptV1'], field);
  const raw = value['secret'];
  const list: unknown[] = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new InvalidTriggerConfigError(`${field}.secret`, 'must not be an empty list');
  const secrets = list.map((s, i) => {
    const name = Array.isArray(raw) ? `${field}.secret.${i}` : `${field}.secret`;
    if (typeof s !== 'string') throw new InvalidTriggerConfigError(name, 'must be a string');
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length < MIN_HMAC_SECRET_BYTES) {
      throw new InvalidTriggerConfigError(name, `must be at least ${MIN_HMAC_SECRET_BYTES} bytes`);
    }
    return bytes;
  });
  const toleranceSec =
    value['toleranceSec'] === undefined
      ? DEFAULT_HMAC_TOLERANCE_SEC
      : requireNumber(value['toleranceSec'], `${field}.toleranceSec`, 0, true);
  const acceptV1 = value['acceptV1'];
  if (acceptV1 !== undefined && typeof acceptV1 !== 'boolean') throw new InvalidTriggerConfigError(`${field}.acceptV1`, 'must be a boolean');
  return { kind: 'hmac', secrets, toleranceSec, acceptV1: acceptV1 === true, replay: new ReplayCache() };
}

/**
 * Validate the `auth` option (`{ jwt }`, `{ hmac }` or, explicitly, `{ none: true }`). Throws
 * `InvalidTriggerConfigError` naming the field. `now` is the clock in epoch milliseconds.
 */
export function resolveAuth(auth: unknown, now: () => number): ResolvedAuth {
  if (!isRecord(auth)) {
    throw new InvalidTriggerConfigError('auth', 'is required: { jwt }, { hmac } or, explicitly, { none: true }');
  }
  rejectUnknownKeys(auth, ['jwt', 'hmac', 'none'], 'auth');
  const kinds = (['jwt', 'hmac', 'none'] as const).filter((k) => auth[k] !== undefined);
  if (kinds.length !== 1) {
    throw new InvalidTriggerConfigError('auth', 'give exactly one of jwt, hmac or none');
  }
  if (kinds[0] === 'none') {
    if (auth['none'] !== true) throw new InvalidTriggerConfigError('auth.none', 'must be true to turn authentication off');
    return { kind: 'none' };
  }
  if (kinds[0] === 'hmac') return resolveHmac(auth['hmac']);
  return {
    kind: 'jwt',
    authenticator: createJwtAuthenticator(auth['jwt'] as Parameters<typeof createJwtAuthenticator>[0], now),
  };
}

/** First value of a header that Node may give as a list. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bearerToken(req: IncomingMessage): string | null {
  const value = header(req, 'authorization');
  if (value === undefined) return null;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(value);
  return match?.[1] ?? null;
}

/** Verify the request's bearer token: a 401 `WebhookHttpError` when it is missing or invalid. */
export async function verifyBearer(authenticator: JwtAuthenticator, req: IncomingMessage): Promise<JwtPrincipal> {
  const token = bearerToken(req);
  if (token === null) {
    throw new WebhookHttpError(401, 'ERR_UNAUTHORIZED', 'missing bearer token', {
      'WWW-Authenticate': bearerChallenge(),
    });
  }
  return authenticator.verify(token);
}

/** A 403 unless the principal holds `scope` (`null`: any valid token will do). */
export function requireScope(principal: JwtPrincipal, scope: string | null): void {
  if (scope === null || principal.scopes.has(scope)) return;
  throw new WebhookHttpError(403, 'ERR_FORBIDDEN', `token lacks the scope "${scope}"`, {
    'WWW-Authenticate': bearerChallenge('insufficient_scope', scope),
  });
}

/** 401 for HMAC: no `WWW-Authenticate`, as there is no registered scheme for it to name. */
export function hmacUnauthorized(message: string): WebhookHttpError {
  return new WebhookHttpError(401, 'ERR_UNAUTHORIZED', message);
}

/**
 * The request's `X-Signature`, checked for presence, form and freshness (the MAC itself needs the
 * body and is checked later). Throws a 401 `WebhookHttpError`.
 */
export function freshSignature(req: IncomingMessage, nowMs: number, toleranceSec: number): ParsedSignature {
  const value = header(req, SIGNATURE_HEADER);
  if (value === undefined) throw hmacUnauthorized('missing X-Signature header');
  const signature = parseSignatureHeader(value);
  if (signature === null) throw hmacUnauthorized('malformed X-Signature header');
  if (!isFresh(signature, nowMs, toleranceSec)) throw hmacUnauthorized('stale X-Signature timestamp');
  return signature;
}

/** The request target as the client sent it (Express strips its mount path from `req.url`). */
export function requestTarget(req: IncomingMessage): string {
  const original = (req as IncomingMessage & { originalUrl?: unknown }).originalUrl;
  return typeof original === 'string' ? original : (req.url ?? '/');
}

/**
 * Check the MAC of a fresh signature over the raw body, and that it was not used before within its
 * freshness window. `request`: what a v2 signature covers (`null`: the caller signs method and
 * target into `body` itself and uses v1). Throws a 401 `WebhookHttpError`.
 */
export function verifySignedRequest(
  auth: Extract<ResolvedAuth, { kind: 'hmac' }>,
  signature: ParsedSignature,
  idempotencyKey: string | undefined,
  body: Uint8Array,
  request: SignedRequest | null,
  nowMs: number,
): void {
  const match = matchHmacSignature(auth.secrets, signature, idempotencyKey, body, request, auth.acceptV1);
  if (match === null) {
    const onlyV1 = request !== null && !auth.acceptV1 && signature.v2.length === 0;
    throw hmacUnauthorized(onlyV1 ? 'signature version v1 is not accepted: sign method and path too (v2)' : 'signature does not match');
  }
  if (!auth.replay.use(match, (signature.timestamp + auth.toleranceSec) * 1000, nowMs)) {
    throw hmacUnauthorized('signature already used: sign every request anew');
  }
}
