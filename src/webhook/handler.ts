/**
 * `createWebhookHandler`: HTTP ingress of the scheduler as a plain `node:http` request listener.
 *
 * Order of work for a request, chosen so that the cheapest refusal comes first and nothing is read
 * from an unauthenticated caller that does not have to be:
 *   host and origin (403) → route (404) → method (405) → credentials (401/403; HMAC: header and freshness only)
 *   → media type (415) → body, bounded (413) → HMAC MAC over the raw body (401)
 *   → JSON (400) → names and idempotency key (400) → scheduler call (202/200, or a mapped error).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../types.js';
import {
  RequestAbortedError,
  declaresBody,
  isJsonContentType,
  mustClose,
  parseJsonBody,
  readBody,
} from '../http/body.js';
import { freshSignature, header, requestTarget, requireScope, verifyBearer, verifySignedRequest } from '../http/auth.js';
import { checkOrigin } from '../http/origin.js';
import type { ParsedSignature } from '../http/hmac.js';
import { WebhookHttpError, sendError, sendJson } from '../http/http.js';
import type { JwtAuthenticator } from '../http/jwt.js';
import { resolveHttpOptions, type ResolvedHttpOptions } from '../http/options.js';
import { pathOnly, validateIdempotencyKey } from '../http/paths.js';
import { ROUTE_METHODS, eventNameFrom, matchRoute, triggerIdFrom, type WebhookRoute } from './routes.js';
import type { WebhookHandler, WebhookOptions, WebhookScheduler } from '../http/types.js';
import { isRecord, rejectUnknownKeys } from '../http/validate.js';

/** Health statuses answered with 503, so a load balancer can act on the status code alone. */
const UNHEALTHY_STATUSES: ReadonlySet<string> = new Set(['down', 'unhealthy', 'stopped', 'error', 'fail']);

interface ResolvedOptions extends ResolvedHttpOptions {
  publicHealth: boolean;
}

function resolveOptions(scheduler: unknown, options: unknown): ResolvedOptions {
  if (
    !isRecord(scheduler) ||
    typeof scheduler['publish'] !== 'function' ||
    typeof scheduler['runTrigger'] !== 'function' ||
    typeof scheduler['health'] !== 'function'
  ) {
    // Class instances are records too; only the three methods matter.
    throw new InvalidArgumentError('scheduler', 'must have publish, runTrigger and health methods');
  }
  if (!isRecord(options)) throw new InvalidArgumentError('options', 'must be an object');
  rejectUnknownKeys(options, ['auth', 'basePath', 'maxBodyBytes', 'publicHealth', 'clock', 'logger', 'allowedHosts', 'bodyTimeoutMs'], '');

  const common = resolveHttpOptions(options);

  const publicHealth = options['publicHealth'];
  if (publicHealth !== undefined && typeof publicHealth !== 'boolean') {
    throw new InvalidArgumentError('publicHealth', 'must be a boolean');
  }

  return { ...common, publicHealth: publicHealth === true };
}

function neededScope(auth: JwtAuthenticator, route: WebhookRoute): string | null {
  if (route.kind === 'publish') return auth.scopes.publish;
  if (route.kind === 'run') return auth.scopes.run;
  return auth.scopes.health;
}

/** Credentials that were checked before the body, and what is left to check after it. */
type PreAuth = { kind: 'done'; subject: string | null } | { kind: 'hmac'; signature: ParsedSignature };

async function authenticateBeforeBody(cfg: ResolvedOptions, req: IncomingMessage, route: WebhookRoute): Promise<PreAuth> {
  const auth = cfg.auth;
  if (auth.kind === 'none' || (route.kind === 'health' && cfg.publicHealth)) return { kind: 'done', subject: null };
  if (auth.kind === 'jwt') {
    const principal = await verifyBearer(auth.authenticator, req);
    requireScope(principal, neededScope(auth.authenticator, route));
    return { kind: 'done', subject: principal.subject };
  }
  // HMAC: the MAC needs the body, but a missing, malformed or stale header is refused before it.
  return { kind: 'hmac', signature: freshSignature(req, cfg.now(), auth.toleranceSec) };
}

/** The body of `POST triggers/:id/run`: nothing, or `{ payload }`. */
function runOptions(body: JsonValue | undefined): { payload?: JsonValue } | undefined {
  if (body === undefined) return undefined;
  if (!isRecord(body)) {
    throw new WebhookHttpError(400, 'ERR_INVALID_REQUEST', 'body must be a JSON object like {"payload": ...}');
  }
  for (const key of Object.keys(body)) {
    // Strict on purpose: a misspelled "paylaod" would otherwise run the trigger without its payload.
    if (key !== 'payload') throw new WebhookHttpError(400, 'ERR_INVALID_REQUEST', `unknown body field "${key}"`);
  }
  const payload = body['payload'];
  return payload === undefined ? {} : { payload };
}

/** Map what the scheduler threw to an answer; unknown failures become a generic 500. */
function schedulerFailure(err: unknown, route: WebhookRoute): WebhookHttpError {
  // Duck-typed on `code`: a second copy of this package (ESM next to CJS) has its own error classes.
  const code = isRecord(err) || err instanceof Error ? (err as { code?: unknown }).code : undefined;
  const message = err instanceof Error ? err.message : '';
  if (code === 'ERR_TRIGGER_NOT_FOUND') {
    return new WebhookHttpError(404, 'ERR_TRIGGER_NOT_FOUND', 'trigger not found');
  }
  if (code === 'ERR_INVALID_TRIGGER_CONFIG') {
    // The scheduler's validation message names the field and the reason, about input the caller sent.
    return new WebhookHttpError(400, 'ERR_INVALID_TRIGGER_CONFIG', message || 'invalid input');
  }
  if (code === 'ERR_INVALID_ARGUMENT') {
    // An argument the caller sent that is not trigger input (an event name or id, a run id).
    return new WebhookHttpError(400, 'ERR_INVALID_REQUEST', message || 'invalid input');
  }
  if (code === 'ERR_SCHEDULER_STOPPED') {
    return new WebhookHttpError(503, 'ERR_SCHEDULER_STOPPED', 'scheduler is not running', { 'Retry-After': '5' });
  }
  return new WebhookHttpError(500, 'ERR_INTERNAL', 'internal error', {}, err ?? new Error(`${route.kind} failed`));
}

async function handle(
  cfg: ResolvedOptions,
  scheduler: WebhookScheduler,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  checkOrigin(req, cfg.allowedHosts);
  const route = matchRoute(req.url ?? '/', cfg.basePath);
  if (route === null) throw new WebhookHttpError(404, 'ERR_ROUTE_NOT_FOUND', 'no such route');
  const method = (req.method ?? 'GET').toUpperCase();
  const allowed = ROUTE_METHODS[route.kind];
  if (!allowed.includes(method)) {
    throw new WebhookHttpError(405, 'ERR_METHOD_NOT_ALLOWED', `use ${allowed.join(' or ')}`, {
      Allow: allowed.join(', '),
    });
  }

  const pre = await authenticateBeforeBody(cfg, req, route);

  // Only POST bodies are read; a body on GET is ignored (and drained by Node). Without credentials,
  // a bodiless POST must still say JSON: a cross-site HTML form cannot send that media type.
  let raw: Buffer = Buffer.alloc(0);
  if (method === 'POST' && (declaresBody(req) || cfg.auth.kind === 'none')) {
    if (!isJsonContentType(header(req, 'content-type'))) {
      throw new WebhookHttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
    }
    raw = await readBody(req, cfg.maxBodyBytes, cfg.bodyTimeoutMs);
  }

  const rawKey = header(req, 'idempotency-key');
  let subject: string | null = null;
  if (pre.kind === 'hmac') {
    if (cfg.auth.kind !== 'hmac') throw new Error('unreachable: HMAC pre-auth without HMAC config');
    // The key is part of the signed string exactly as received, before any validation of ours.
    verifySignedRequest(cfg.auth, pre.signature, rawKey, raw, { method, target: requestTarget(req) }, cfg.now());
  } else {
    subject = pre.subject;
  }

  const idempotencyKey = rawKey === undefined ? undefined : validateIdempotencyKey(rawKey);
  const body = raw.length === 0 ? undefined : parseJsonBody(raw);

  if (route.kind === 'health') {
    let report: unknown;
    try {
      report = await scheduler.health();
    } catch (err) {
      throw schedulerFailure(err, route);
    }
    const status = isRecord(report) && typeof report['status'] === 'string' ? report['status'] : '';
    sendJson(res, UNHEALTHY_STATUSES.has(status.toLowerCase()) ? 503 : 200, report);
    return;
  }

  if (route.kind === 'publish') {
    const event = eventNameFrom(route.rawEvent);
    let jobs;
    try {
      jobs = await scheduler.publish(event, body, idempotencyKey === undefined ? {} : { eventId: idempotencyKey });
    } catch (err) {
      throw schedulerFailure(err, route);
    }
    cfg.logger?.debug?.({ event, subject, jobs: jobs.length }, 'webhook: event published');
    sendJson(res, 202, { jobs: jobs.map((job) => ({ id: job.id, triggerId: job.triggerId })) });
    return;
  }

  const triggerId = triggerIdFrom(route.rawTriggerId);
  // The Idempotency-Key makes the run idempotent, as it does a publish: a retried delivery
  // answers with the job of the first one.
  const given = runOptions(body);
  const options = idempotencyKey === undefined ? given : { ...given, runId: idempotencyKey };
  let job;
  try {
    job = await scheduler.runTrigger(triggerId, options);
  } catch (err) {
    throw schedulerFailure(err, route);
  }
  cfg.logger?.debug?.({ triggerId, subject, jobId: job.id }, 'webhook: trigger run');
  sendJson(res, 202, { job: { id: job.id } });
}

/**
 * Create the webhook request listener.
 *
 * Routes (under `basePath`, default `/`):
 * - `POST events/:name` — JSON body is the payload (empty body: no payload); `Idempotency-Key`
 *   becomes the event id. Answers 202 `{ jobs: [{ id, triggerId }] }`.
 * - `POST triggers/:id/run` — optional body `{ "payload": ... }`. Answers 202 `{ job: { id } }`.
 * - `GET health` — answers the scheduler's health report, 200 (503 when its status is down).
 *
 * Errors are `{ error: { code, message } }` with 400, 401, 403, 404, 405, 413, 415, 500 or 503.
 * Options are validated here: a bad option throws `InvalidArgumentError` naming it.
 *
 * @example
 * const server = http.createServer(createWebhookHandler(scheduler, {
 *   auth: { jwt: { jwks: 'https://idp.example/.well-known/jwks.json', algorithms: ['RS256'],
 *                  issuer: 'https://idp.example/', audience: 'scheduler' } },
 * }));
 */
export function createWebhookHandler(scheduler: WebhookScheduler, options: WebhookOptions): WebhookHandler {
  const cfg = resolveOptions(scheduler, options);
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(cfg, scheduler, req, res).catch((err: unknown) => {
      if (err instanceof RequestAbortedError) {
        // Nobody is left to answer; make sure the socket goes too.
        res.destroy();
        return;
      }
      let failure: WebhookHttpError;
      if (err instanceof WebhookHttpError) {
        failure = err;
      } else {
        failure = new WebhookHttpError(500, 'ERR_INTERNAL', 'internal error', {}, err);
      }
      if (failure.status >= 500) {
        cfg.logger?.error(
          { err: failure.cause ?? failure, code: failure.code, method: req.method, path: pathOnly(req.url) },
          'webhook: request failed',
        );
      } else if (failure.status === 401 || failure.status === 403) {
        cfg.logger?.warn?.({ code: failure.code, reason: failure.message, method: req.method, path: pathOnly(req.url) }, 'webhook: request refused');
      }
      const headers =
        mustClose(req, cfg.maxBodyBytes) && failure.headers['Connection'] === undefined
          ? { ...failure.headers, Connection: 'close' }
          : failure.headers;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, new WebhookHttpError(failure.status, failure.code, failure.message, headers));
    });
  };
}
