/**
 * `createManagementApi`: a JSON HTTP API to list, inspect and steer triggers and jobs, as a plain
 * `node:http` request listener (also an Express middleware and a Fastify raw handler).
 *
 * Order of work for a request, cheapest refusal first, nothing read from a caller who does not
 * have to be read from:
 *   host and origin (403) → route (404) → method (405) → credentials (401/403; HMAC: header and freshness only)
 *   → read-only (403) → media type, on every write (415) → body, bounded (413) → HMAC MAC (401)
 *   → path parameters, query, JSON body (400) → scheduler call (200/201/204, or a mapped error).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { optionalPositive } from '../engine/input.js';
import { InvalidTriggerConfigError } from '../errors.js';
import type { Scheduler } from '../scheduler.js';
import type { JsonValue } from '../types.js';
import { freshSignature, header, requestTarget, requireScope, verifyBearer, verifySignedRequest } from '../http/auth.js';
import { RequestAbortedError, declaresBody, isJsonContentType, mustClose, parseJsonBody, readBody } from '../http/body.js';
import type { ParsedSignature } from '../http/hmac.js';
import { sendJsonText } from '../http/http.js';
import { DEFAULT_MAX_ANSWER_BYTES, boundedJson } from './answers.js';
import { resolveHttpOptions, type ResolvedHttpOptions } from '../http/options.js';
import { checkOrigin } from '../http/origin.js';
import { pathOnly, segmentsUnder, validateIdempotencyKey } from '../http/paths.js';
import { isRecord, rejectUnknownKeys, requireString } from '../http/validate.js';
import { ManagementHttpError, sendHttpError, toHttpError } from './errors.js';
import { DEFAULT_MAX_STREAMS, DEFAULT_MAX_STREAMS_PER_CALLER, EventHub, type Caller } from './events.js';
import { openApiFor } from './openapi.js';
import { QueryParams } from './query.js';
import { ROUTES, decodeParams, matchRoute, type RouteDef } from './routes.js';
import { hmacSigningInput } from './signing.js';
import type { ManagementApi, ManagementApiOptions } from './types.js';

/** Default JWT scopes. */
export const DEFAULT_MANAGEMENT_SCOPES = { read: 'scheduler:read', write: 'scheduler:write', metrics: 'scheduler:metrics' } as const;

/** Scheduler methods the API calls; checked at creation so a wrong object fails there. */
const SCHEDULER_METHODS = [
  'health',
  'stats',
  'listTriggers',
  'getTrigger',
  'pauseTrigger',
  'resumeTrigger',
  'runTrigger',
  'removeTrigger',
  'listJobs',
  'getJob',
  'cancelJob',
  'retryJob',
  'metrics',
  'on',
  'off',
] as const;

interface ResolvedOptions extends ResolvedHttpOptions {
  readOnly: boolean;
  scopes: { read: string; write: string; metrics: string };
  eventsPollMs: number;
  eventsPingMs: number;
  maxAnswerBytes: number;
  maxStreams: number;
  maxStreamsPerCaller: number;
}

function scopeName(value: unknown, field: string): string {
  const s = requireString(value, field);
  // A scope claim is space-separated, so a scope name with a space could never be granted.
  if (/\s/.test(s)) throw new InvalidTriggerConfigError(field, 'must not contain whitespace');
  return s;
}

function resolveOptions(scheduler: unknown, options: unknown): ResolvedOptions {
  if (typeof scheduler !== 'object' || scheduler === null) throw new InvalidTriggerConfigError('scheduler', 'must be a Scheduler');
  for (const name of SCHEDULER_METHODS) {
    if (typeof (scheduler as Record<string, unknown>)[name] !== 'function') {
      throw new InvalidTriggerConfigError('scheduler', `must be a Scheduler (no ${name} method)`);
    }
  }
  if (!isRecord(options)) throw new InvalidTriggerConfigError('options', 'must be an object');
  rejectUnknownKeys(
    options,
    ['auth', 'readOnly', 'basePath', 'maxBodyBytes', 'scopes', 'logger', 'clock', 'eventsPollMs', 'eventsPingMs', 'allowedHosts', 'maxAnswerBytes', 'maxStreams', 'maxStreamsPerCaller', 'bodyTimeoutMs'],
    '',
  );
  const auth = options['auth'];
  if (isRecord(auth) && isRecord(auth['jwt']) && auth['jwt']['scopes'] !== undefined) {
    // The webhook's scopes (publish/run/health) mean nothing here; silently ignoring them could
    // leave an operator believing writes need a scope they do not.
    throw new InvalidTriggerConfigError('auth.jwt.scopes', 'is the webhook\'s; give the management API\'s as scopes: { read, write }');
  }
  const common = resolveHttpOptions(options);

  const readOnly = options['readOnly'];
  if (readOnly !== undefined && typeof readOnly !== 'boolean') throw new InvalidTriggerConfigError('readOnly', 'must be a boolean');

  let scopes: { read: string; write: string; metrics: string } = { ...DEFAULT_MANAGEMENT_SCOPES };
  const given = options['scopes'];
  if (given !== undefined) {
    if (!isRecord(given)) throw new InvalidTriggerConfigError('scopes', 'must be an object');
    rejectUnknownKeys(given, ['read', 'write', 'metrics'], 'scopes');
    scopes = {
      read: given['read'] === undefined ? scopes.read : scopeName(given['read'], 'scopes.read'),
      write: given['write'] === undefined ? scopes.write : scopeName(given['write'], 'scopes.write'),
      metrics: given['metrics'] === undefined ? scopes.metrics : scopeName(given['metrics'], 'scopes.metrics'),
    };
  }
  return {
    ...common,
    readOnly: readOnly === true,
    scopes,
    eventsPollMs: optionalPositive(options['eventsPollMs'], 'eventsPollMs') ?? 1000,
    eventsPingMs: optionalPositive(options['eventsPingMs'], 'eventsPingMs') ?? 15_000,
    maxAnswerBytes: optionalPositive(options['maxAnswerBytes'], 'maxAnswerBytes') ?? DEFAULT_MAX_ANSWER_BYTES,
    maxStreams: optionalPositive(options['maxStreams'], 'maxStreams') ?? DEFAULT_MAX_STREAMS,
    maxStreamsPerCaller: optionalPositive(options['maxStreamsPerCaller'], 'maxStreamsPerCaller') ?? DEFAULT_MAX_STREAMS_PER_CALLER,
  };
}

/** Who is calling, as far as the credentials say, and until when they hold. */
interface Authenticated {
  signature: ParsedSignature | null;
  caller: Caller;
}

async function authenticate(cfg: ResolvedOptions, req: IncomingMessage, route: RouteDef): Promise<Authenticated> {
  const auth = cfg.auth;
  if (auth.kind === 'none') {
    // Without credentials, the peer address is the only name a caller has.
    return { signature: null, caller: { id: `address:${req.socket.remoteAddress ?? 'unknown'}`, expiresAtMs: null } };
  }
  if (auth.kind === 'jwt') {
    const principal = await verifyBearer(auth.authenticator, req);
    requireScope(principal, route.scope === 'metrics' ? cfg.scopes.metrics : route.write ? cfg.scopes.write : cfg.scopes.read);
    return { signature: null, caller: { id: `subject:${principal.subject ?? ''}`, expiresAtMs: principal.expiresAtMs } };
  }
  return { signature: freshSignature(req, cfg.now(), auth.toleranceSec), caller: { id: 'hmac', expiresAtMs: null } };
}

async function handle(cfg: ResolvedOptions, scheduler: Scheduler, hub: EventHub, req: IncomingMessage, res: ServerResponse): Promise<void> {
  checkOrigin(req, cfg.allowedHosts);
  const url = req.url ?? '/';
  const segments = segmentsUnder(url, cfg.basePath);
  const method = (req.method ?? 'GET').toUpperCase();
  const match = segments === null ? null : matchRoute(segments, method);
  if (match === null) throw new ManagementHttpError(404, 'ERR_ROUTE_NOT_FOUND', 'no such route');
  const route = match.route;
  if (route === null) {
    throw new ManagementHttpError(405, 'ERR_METHOD_NOT_ALLOWED', `use ${match.allowed.join(' or ')}`, {
      headers: { Allow: match.allowed.join(', ') },
    });
  }

  const { signature, caller } = await authenticate(cfg, req, route);
  if (route.write && cfg.readOnly) {
    throw new ManagementHttpError(403, 'ERR_READ_ONLY', 'this API is read-only');
  }

  // Bodies are read on writes only; a body on GET is ignored (and drained by Node). Every write must
  // say JSON, even without a body: an HTML form on another site cannot send that media type, and a
  // script there cannot without a CORS preflight, which this API never grants.
  let raw: Buffer = Buffer.alloc(0);
  if (method !== 'GET') {
    if (!isJsonContentType(header(req, 'content-type'))) {
      throw new ManagementHttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json, even without a body');
    }
    if (declaresBody(req)) raw = await readBody(req, cfg.maxBodyBytes, cfg.bodyTimeoutMs);
  }
  if (signature !== null) {
    if (cfg.auth.kind !== 'hmac') throw new Error('unreachable: an HMAC signature without HMAC config');
    // Method and target are signed inside the v1 input here (see signing.ts).
    const signed = hmacSigningInput(method, requestTarget(req), raw);
    verifySignedRequest(cfg.auth, signature, header(req, 'idempotency-key'), signed, null, cfg.now());
  }

  const rawKey = header(req, 'idempotency-key');
  const params = decodeParams(match.params);
  const query = QueryParams.parse(url, route.query);
  const body: JsonValue | undefined = raw.length === 0 ? undefined : parseJsonBody(raw);
  const answer = await route.handle({
    scheduler,
    params,
    query,
    body,
    res,
    events: hub,
    now: new Date(cfg.now()),
    openapi: () => openApiFor(cfg.basePath),
    idempotencyKey: rawKey === undefined ? undefined : validateIdempotencyKey(rawKey),
    caller,
  });
  if ('stream' in answer) return;
  if ('text' in answer) {
    res.statusCode = answer.status;
    res.setHeader('Content-Type', answer.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.end(answer.text);
    return;
  }
  if (answer.status === 204) {
    res.statusCode = 204;
    res.setHeader('Cache-Control', 'no-store');
    res.end();
    return;
  }
  sendJsonText(res, answer.status, boundedJson('body' in answer ? answer.body : null, cfg.maxAnswerBytes));
}

/**
 * Create the management API listener.
 *
 * Routes (under `basePath`, default `/`): `GET openapi.json`, `GET metrics` (Prometheus text,
 * scope `scheduler:metrics`), `GET health`, `GET stats`,
 * `GET triggers`, `GET triggers/:id`, `GET triggers/:id/next`, `GET triggers/:id/timeline`,
 * `POST triggers/:id/pause|resume|run`, `DELETE triggers/:id`, `GET jobs`, `GET jobs/:id`,
 * `POST jobs/:id/cancel|retry`, `GET next`, `GET events` (Server-Sent Events). See
 * docs/management.md and the served OpenAPI document.
 *
 * Errors are `{ error: { code, message, field? } }`. Options are validated here: a bad option
 * throws `InvalidTriggerConfigError` naming it.
 *
 * @example
 * const api = createManagementApi(scheduler, {
 *   auth: { jwt: { secret: process.env.JWT_SECRET!, algorithms: ['HS256'] } },
 *   basePath: '/scheduler',
 * });
 * http.createServer(api).listen(8080);
 */
export function createManagementApi(scheduler: Scheduler, options: ManagementApiOptions): ManagementApi {
  const cfg = resolveOptions(scheduler, options);
  const hub = new EventHub(scheduler, {
    pollMs: cfg.eventsPollMs,
    pingMs: cfg.eventsPingMs,
    logger: cfg.logger,
    maxStreams: cfg.maxStreams,
    maxStreamsPerCaller: cfg.maxStreamsPerCaller,
    now: cfg.now,
  });
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(cfg, scheduler, hub, req, res).catch((err: unknown) => {
      if (err instanceof RequestAbortedError) {
        // Nobody is left to answer; make sure the socket goes too.
        res.destroy();
        return;
      }
      const failure = toHttpError(err);
      if (failure.status >= 500) {
        cfg.logger?.error(
          { err: failure.cause ?? failure, code: failure.code, method: req.method, path: pathOnly(req.url) },
          'management api: request failed',
        );
      } else if (failure.status === 401 || failure.status === 403) {
        cfg.logger?.warn?.({ code: failure.code, reason: failure.message, method: req.method, path: pathOnly(req.url) }, 'management api: request refused');
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const close = mustClose(req, cfg.maxBodyBytes) && failure.headers['Connection'] === undefined;
      sendHttpError(res, failure, close ? { Connection: 'close' } : {});
    });
  };
  return Object.assign(listener, {
    handles: (url: string): boolean => segmentsUnder(url, cfg.basePath) !== null,
    close: (): void => hub.close(),
    routes: ROUTES,
  });
}
