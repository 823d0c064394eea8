/**
 * Public types of the management API: its options, the records it answers with beyond the
 * scheduler's own, and its error body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { JOB_STATUSES } from '../types.js';
import type { WebhookAuth, WebhookLogger } from '../http/types.js';

/** JWT scopes the management API asks for. */
export interface ManagementScopes {
  /**
   * Needed for every `GET`.
   * @default 'scheduler:read'
   */
  read?: string;
  /**
   * Needed for every write: `POST`, `DELETE`.
   * @default 'scheduler:write'
   */
  write?: string;
  /**
   * Needed for `GET /metrics`, and enough for it alone, so a scraper's token reads nothing else.
   * @default 'scheduler:metrics'
   */
  metrics?: string;
}

/** Options of `createManagementApi`. */
export interface ManagementApiOptions {
  /**
   * Authentication, required, as for the webhook: `{ jwt }`, `{ hmac }` or, explicitly,
   * `{ none: true }`. With JWT the scopes come from `scopes`, not `auth.jwt.scopes`. With HMAC the
   * signed body is `"<METHOD> <path?query>\n<body>"` (see `signManagementRequest`).
   */
  auth: WebhookAuth;
  /**
   * Refuse every write route with 403 `ERR_READ_ONLY`.
   * @default false
   */
  readOnly?: boolean;
  /**
   * Path prefix of the routes. Express strips its mount path, so keep `/` there.
   * @default '/'
   * @example basePath: '/scheduler'
   */
  basePath?: string;
  /**
   * Largest accepted request body in bytes.
   * @default 1048576 (1 MiB)
   */
  maxBodyBytes?: number;
  /**
   * JWT scopes for reads and writes.
   * @default { read: 'scheduler:read', write: 'scheduler:write', metrics: 'scheduler:metrics' }
   */
  scopes?: ManagementScopes;
  /**
   * Where failures are logged.
   * @default undefined (nowhere)
   */
  logger?: WebhookLogger;
  /**
   * Time source in epoch milliseconds, for token expiry and HMAC freshness.
   * @default { now: Date.now }
   */
  clock?: { now(): number };
  /**
   * How often `GET /events` polls the store for changes made by other instances, in ms.
   * @default 1000
   */
  eventsPollMs?: number;
  /**
   * How often `GET /events` sends a `: ping` comment, in ms.
   * @default 15000
   */
  eventsPingMs?: number;
  /**
   * Host names (no port) the `Host` header may carry; other requests get 403, which stops DNS
   * rebinding. `'any'` turns the check off.
   * @default ['localhost', '127.0.0.1', '[::1]'] with `auth: { none: true }`, else `'any'`
   */
  allowedHosts?: readonly string[] | 'any';
  /**
   * Largest answer in bytes; a bigger one is refused with 422 `ERR_ANSWER_TOO_LARGE` (ask for a
   * smaller `limit` or fewer `fields`).
   * @default 33554432 (32 MiB)
   */
  maxAnswerBytes?: number;
  /**
   * Most `GET /events` streams open at once; more get 429 `ERR_TOO_MANY_STREAMS`.
   * @default 100
   */
  maxStreams?: number;
  /**
   * Most `GET /events` streams one caller may hold (a JWT subject; with HMAC all callers are one;
   * without authentication, a peer address); more get 429 `ERR_TOO_MANY_STREAMS`.
   * @default 10
   */
  maxStreamsPerCaller?: number;
  /**
   * Time a client has to send a whole request body; a slower one gets 408 `ERR_BODY_TIMEOUT` and
   * the connection is closed.
   * @default 10000
   */
  bodyTimeoutMs?: number;
}

/**
 * The management request listener: a `node:http` listener, an Express middleware, a Fastify raw
 * handler. `handles(url)` tells whether a request target is under its `basePath`, for hosts that
 * serve other things on the same server.
 */
export interface ManagementApi {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Whether `url` (a request target) lies under the API's `basePath`. */
  handles(url: string): boolean;
  /** End every open `GET /events` stream (before `server.close()`, which waits for them). */
  close(): void;
  /** The route table, for hosts that list or proxy the routes. */
  readonly routes: readonly ManagementRoute[];
}

/** One route of the management API. */
export interface ManagementRoute {
  /** HTTP method. */
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Path under `basePath`, with `:name` parameters. */
  readonly path: string;
  /** OpenAPI `operationId`. */
  readonly operationId: string;
  /** Whether it writes (refused in `readOnly`; needs the write scope). */
  readonly write: boolean;
}

/** DST situation of a fire time's local wall-clock time. */
export type DstMark = 'skipped-hour' | 'repeated-hour';

/** One previewed fire time. */
export interface FirePreview {
  /** The instant, ISO-8601 UTC. */
  at: string;
  /** Wall-clock time in the schedule's zone, `YYYY-MM-DD HH:mm`. */
  local: string;
  /** Time zone `local` is in. */
  timezone: string;
  /**
   * `skipped-hour`: a fixed time that does not exist that day (clocks jumped forward) fires at the
   * jump; `repeated-hour`: the local time occurs twice that day (clocks went back); else `null`.
   */
  dst: DstMark | null;
}

/**
 * What a slot of a trigger's timeline can become: its job's status, or `missed` / `coalesced` for a
 * past slot without a job of its own.
 */
export const TIMELINE_STATUSES = [...JOB_STATUSES, 'missed', 'coalesced'] as const;

/** What a slot of a trigger's timeline became (one of `TIMELINE_STATUSES`). */
export type TimelineStatus = (typeof TIMELINE_STATUSES)[number];

/** One entry of `GET /triggers/:id/timeline`. */
export interface TimelineSlot {
  /** The slot (or the instant of a manual, event or dependency run), ISO-8601. */
  scheduledFor: string;
  /** The job's status, or `missed` / `coalesced` for a past slot that has no job. */
  status: TimelineStatus;
  /** The job of the slot; for `coalesced`, the job it was folded into; `null` for `missed`. */
  jobId: string | null;
  /** Why, in words: the job's last history note, or how the slot was lost. */
  reason: string | null;
  /** The job's source; `null` for a slot without a job. */
  source: string | null;
}

/** The `code` of every error body the management API sends. */
export type ManagementErrorCode =
  | 'ERR_ROUTE_NOT_FOUND'
  | 'ERR_METHOD_NOT_ALLOWED'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_FORBIDDEN'
  | 'ERR_READ_ONLY'
  | 'ERR_PAYLOAD_TOO_LARGE'
  | 'ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_INVALID_JSON'
  | 'ERR_INVALID_REQUEST'
  | 'ERR_TRIGGER_NOT_FOUND'
  | 'ERR_JOB_NOT_FOUND'
  | 'ERR_JOB_NOT_RETRYABLE'
  | 'ERR_PREVIEW_BUDGET'
  | 'ERR_TOO_MANY_STREAMS'
  | 'ERR_INVALID_IDEMPOTENCY_KEY'
  | 'ERR_ANSWER_TOO_LARGE'
  | 'ERR_SCHEDULER_STOPPED'
  | 'ERR_STORE'
  | 'ERR_AUTH_UNAVAILABLE'
  | 'ERR_BODY_CONSUMED'
  | 'ERR_BODY_TIMEOUT'
  | 'ERR_INTERNAL';

/** Body of every error answer. */
export interface ManagementErrorBody {
  /** Machine-readable code, a short message and, for bad input, the offending field. */
  error: { code: ManagementErrorCode; message: string; field?: string };
}
