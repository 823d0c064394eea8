/**
 * Public types of the HTTP surfaces: the auth options, logger and error bodies the webhook, the
 * management API and the dashboard share, and the webhook's own (what it needs from a scheduler,
 * its options and its answers), which the shared ones grew from.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
// Node's JsonWebKey rather than jose's JWK: jose is ESM-only, and a type imported from it in the
// published .d.cts stops a CommonJS consumer's type check (TS1479). Both describe RFC 7517 keys.
import type { JsonWebKey, KeyObject } from 'node:crypto';
import type { Job, JsonValue } from '../types.js';

/**
 * What `GET health` answers with. Only `status` is read (to pick 200 or 503); the whole object, with
 * whatever else the scheduler reports, is sent as JSON, so it must be JSON-serializable. No index
 * signature on purpose: a scheduler's own report interface would not be assignable to one.
 */
export interface WebhookHealthReport {
  /** Overall state, e.g. `ok`, `degraded`, `down`. */
  status: string;
}

/**
 * The part of a `Scheduler` the webhook calls. Kept structural so the ingress can be tested, and
 * embedded, without the engine; the real `Scheduler` satisfies it.
 */
export interface WebhookScheduler {
  /**
   * Fire the event triggers listening to `event`. Throws `InvalidArgumentError` for a bad event
   * name or id, `InvalidTriggerConfigError` for a bad payload. The same `eventId` fires at most once.
   */
  publish(event: string, payload?: JsonValue, options?: { eventId?: string }): Promise<Job[]>;
  /**
   * Run a trigger now. Throws `TriggerNotFoundError` for an unknown id, `InvalidArgumentError` for
   * a bad `runId`, `InvalidTriggerConfigError` for a bad payload. The same `runId` runs it at most once.
   */
  runTrigger(id: string, options?: { payload?: JsonValue; runId?: string }): Promise<Job>;
  /** Current health of the scheduler. */
  health(): Promise<WebhookHealthReport>;
}

/** JWS algorithms the webhook accepts in `auth.jwt.algorithms`. `none` is not one of them. */
export type WebhookJwtAlgorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519';

/** Scope (or role) a caller needs per route. */
export interface WebhookScopes {
  /**
   * Needed for `POST events/:name`.
   * @default 'scheduler:publish'
   */
  publish?: string;
  /**
   * Needed for `POST triggers/:id/run`.
   * @default 'scheduler:run'
   */
  run?: string;
  /**
   * Needed for `GET health`.
   * @default undefined (any valid token may read it)
   */
  health?: string;
}

/** Tuning of a remote JWKS (`auth.jwt.jwks` given as a URL). */
export interface WebhookJwksOptions {
  /**
   * Keys older than this are refetched, in ms (`Infinity`: never).
   * @default 600000 (10 minutes)
   */
  cacheMaxAgeMs?: number;
  /**
   * Least time between two fetches caused by an unknown `kid`, in ms.
   * @default 30000
   */
  cooldownMs?: number;
  /**
   * Time limit of one fetch, in ms.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Extra headers of the fetch.
   * @default {}
   * @example headers: { 'User-Agent': 'billing-service' }
   */
  headers?: Record<string, string>;
}

/** A local JSON Web Key Set (RFC 7517 §5): the public keys tokens may be signed with. */
export interface WebhookJwkSet {
  /** The keys; each needs a `kty`, and a `kid` when there is more than one. */
  keys: JsonWebKey[];
}

/**
 * Bearer-token authentication. Give exactly one key source: `secret` (HS* algorithms), `publicKey`
 * or `jwks` (asymmetric algorithms).
 */
export interface WebhookJwtAuth {
  /**
   * Shared secret for HS256/384/512; at least as many bytes as the hash (32, 48, 64).
   * @default undefined (give exactly one of `secret`, `publicKey`, `jwks`)
   */
  secret?: string | Uint8Array;
  /**
   * Public key: PEM (SPKI or X.509 certificate), a public JWK, or a public `KeyObject`.
   * @default undefined (give exactly one of `secret`, `publicKey`, `jwks`)
   */
  publicKey?: string | JsonWebKey | KeyObject;
  /**
   * JWKS URL (fetched, cached, refetched on an unknown `kid`) or a local key set `{ keys }`.
   * @default undefined (give exactly one of `secret`, `publicKey`, `jwks`)
   * @example jwks: 'https://auth.example.com/.well-known/jwks.json'
   */
  jwks?: string | URL | WebhookJwkSet;
  /**
   * Remote JWKS tuning; only with a JWKS URL.
   * @default {} (each field's own default)
   */
  jwksOptions?: WebhookJwksOptions;
  /** Allowed `alg` values. Required, non-empty; symmetric and asymmetric ones cannot be mixed. */
  algorithms: readonly WebhookJwtAlgorithm[];
  /**
   * Required `iss` (one of).
   * @default undefined (any issuer)
   */
  issuer?: string | readonly string[];
  /**
   * Required `aud` (one of).
   * @default undefined (any audience)
   */
  audience?: string | readonly string[];
  /**
   * Leeway for `exp` and `nbf`, in seconds.
   * @default 30
   */
  clockToleranceSec?: number;
  /**
   * Scope needed per route.
   * @default { publish: 'scheduler:publish', run: 'scheduler:run' }
   */
  scopes?: WebhookScopes;
}

/** Shared-secret request signing with the `X-Signature` header. */
export interface WebhookHmacAuth {
  /** Signing secret (at least 32 bytes); several are all accepted, for rotation. */
  secret: string | readonly string[];
  /**
   * Largest allowed age of the signature's `t`, in seconds; a `t` in the future is allowed only
   * 30 s of clock skew (or `toleranceSec`, if smaller).
   * @default 300
   */
  toleranceSec?: number;
  /**
   * Also accept version 1 signatures (`v1=`), which cover neither method nor path: one captured
   * signature of a bodiless request then authorizes any other bodiless route within its freshness
   * window (once, with the replay cache). Only for migrating senders to `v2`. The management API
   * ignores this: its signatures already cover method and path.
   * @default false
   */
  acceptV1?: boolean;
}

/** How callers authenticate. Exactly one kind; `{ none: true }` must be said explicitly. */
export type WebhookAuth =
  | { jwt: WebhookJwtAuth; hmac?: never; none?: never }
  | { hmac: WebhookHmacAuth; jwt?: never; none?: never }
  | { none: true; jwt?: never; hmac?: never };

/** Where the webhook logs: a pino-shaped logger (only `error` is required). */
export interface WebhookLogger {
  /** Unexpected failures (answered with a generic 500 or 503). */
  error(fields: Record<string, unknown>, message?: string): void;
  /** Refused requests (bad credentials, missing scope). */
  warn?(fields: Record<string, unknown>, message?: string): void;
  /** Accepted requests. */
  debug?(fields: Record<string, unknown>, message?: string): void;
}

/** Options of `createWebhookHandler`. */
export interface WebhookOptions {
  /** Authentication; required. */
  auth: WebhookAuth;
  /**
   * Path prefix of the routes. Express strips its mount path, so keep `/` there.
   * @default '/'
   * @example basePath: '/hooks'
   */
  basePath?: string;
  /**
   * Largest accepted body in bytes.
   * @default 1048576 (1 MiB)
   */
  maxBodyBytes?: number;
  /**
   * Let `GET health` through without credentials.
   * @default false
   */
  publicHealth?: boolean;
  /**
   * Time source in epoch milliseconds; the scheduler's `Clock` fits.
   * @default { now: Date.now }
   */
  clock?: { now(): number };
  /**
   * Where failures are logged.
   * @default undefined (nowhere)
   * @example logger: pino()
   */
  logger?: WebhookLogger;
  /**
   * Host names (no port) the `Host` header may carry; other requests get 403, which stops DNS
   * rebinding. `'any'` turns the check off.
   * @default ['localhost', '127.0.0.1', '[::1]'] with `auth: { none: true }`, else `'any'`
   */
  allowedHosts?: readonly string[] | 'any';
  /**
   * Time a client has to send a whole request body; a slower one gets 408 `ERR_BODY_TIMEOUT` and
   * the connection is closed.
   * @default 10000
   */
  bodyTimeoutMs?: number;
}

/** A `node:http` request listener; also an Express middleware and a Fastify raw handler. */
export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The `code` of every error body the webhook sends. */
export type WebhookErrorCode =
  | 'ERR_ROUTE_NOT_FOUND'
  | 'ERR_METHOD_NOT_ALLOWED'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_FORBIDDEN'
  | 'ERR_PAYLOAD_TOO_LARGE'
  | 'ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_INVALID_JSON'
  | 'ERR_INVALID_NAME'
  | 'ERR_INVALID_IDEMPOTENCY_KEY'
  | 'ERR_INVALID_REQUEST'
  | 'ERR_INVALID_TRIGGER_CONFIG'
  | 'ERR_TRIGGER_NOT_FOUND'
  | 'ERR_SCHEDULER_STOPPED'
  | 'ERR_AUTH_UNAVAILABLE'
  | 'ERR_BODY_CONSUMED'
  | 'ERR_BODY_TIMEOUT'
  | 'ERR_INTERNAL';

/** Body of every error answer. */
export interface WebhookErrorBody {
  /** Machine-readable code and a short message without internals. */
  error: { code: WebhookErrorCode; message: string };
}
