/**
 * Routing: which of the three routes a request path names, and validation of the names it carries.
 */
import { WebhookHttpError } from './http.js';

/** The routes of the webhook. */
export type WebhookRoute =
  | { kind: 'publish'; rawEvent: string }
  | { kind: 'run'; rawTriggerId: string }
  | { kind: 'health' };

/** Longest event name or trigger id, as for trigger ids elsewhere in the scheduler. */
export const MAX_NAME_LENGTH = 200;

/** Longest accepted `Idempotency-Key`. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

// C0 controls and DEL: nothing legitimate, and they corrupt logs and keys.
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's job
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Methods each route answers, for `405` and its `Allow` header. */
export const ROUTE_METHODS: Readonly<Record<WebhookRoute['kind'], readonly string[]>> = {
  publish: ['POST'],
  run: ['POST'],
  health: ['GET', 'HEAD'],
};

/**
 * Normalize `basePath`: leading `/`, no trailing `/` except for the root. Returns `null` when it is
 * not a plain path.
 */
export function normalizeBasePath(basePath: string): string | null {
  if (!basePath.startsWith('/') || /[?#\s]/.test(basePath) || basePath.includes('//')) return null;
  return basePath.length > 1 && basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
}

/**
 * The path of a request target without its query or fragment, for logs: a query may carry a
 * credential (`?access_token=...`) that must never reach a log line.
 */
export function pathOnly(url: string | undefined): string {
  const target = url ?? '/';
  const q = target.search(/[?#]/);
  return q < 0 ? target : target.slice(0, q);
}

/**
 * Split the request target into path segments under `basePath`, still percent-encoded, so an
 * encoded `/` stays inside its segment. `null` when the path is outside `basePath`.
 */
export function segmentsUnder(url: string, basePath: string): string[] | null {
  const q = url.search(/[?#]/);
  const path = q < 0 ? url : url.slice(0, q);
  let rest: string;
  if (basePath === '/') {
    rest = path;
  } else if (path === basePath || path.startsWith(`${basePath}/`)) {
    rest = path.slice(basePath.length);
  } else {
    return null;
  }
  if (!rest.startsWith('/')) return null;
  return rest.slice(1).split('/');
}

function decodeSegment(segment: string, what: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new WebhookHttpError(400, 'ERR_INVALID_NAME', `${what} is not valid percent-encoding`);
  }
}

/**
 * Decode and validate an event name from the path: non-empty, at most 200 chars, no control chars,
 * no leading `$`.
 */
export function eventNameFrom(rawSegment: string): string {
  const name = decodeSegment(rawSegment, 'event name');
  // Dots are allowed: event names are namespaced like `testrun.finished`. A leading `$` is refused
  // because names end up in store queries where `$` starts an operator.
  if (name.length === 0) throw new WebhookHttpError(400, 'ERR_INVALID_NAME', 'event name is empty');
  if (name.length > MAX_NAME_LENGTH)
    throw new WebhookHttpError(400, 'ERR_INVALID_NAME', `event name is longer than ${MAX_NAME_LENGTH} characters`);
  if (name.startsWith('$')) throw new WebhookHttpError(400, 'ERR_INVALID_NAME', 'event name must not start with "$"');
  if (CONTROL_CHARS.test(name))
    throw new WebhookHttpError(400, 'ERR_INVALID_NAME', 'event name contains control characters');
  return name;
}

/** Decode and validate a trigger id from the path: no `$`, no `.`, at most 200 chars. */
export function triggerIdFrom(rawSegment: string): string {
  const id = decodeSegment(rawSegment, 'trigger id');
  if (id.length === 0) throw new WebhookHttpError(400, 'ERR_INVALID_NAME', 'trigger id is empty');
  if (id.length > MAX_NAME_LENGTH)
    throw new WebhookHttpError(400, 'ERR_INVALID_NAME', `trigger id is longer than ${MAX_NAME_LENGTH} characters`);
  if (id.includes('$') || id.includes('.'))
    throw new WebhookHttpError(400, 'ERR_INVALID_NAME', 'trigger id must not contain "$" or "."');
  if (CONTROL_CHARS.test(id))
    throw new WebhookHttpError(400, 'ERR_INVALID_NAME', 'trigger id contains control characters');
  return id;
}

/**
 * Validate an `Idempotency-Key`: 1 to 200 visible ASCII characters. It becomes an event id and is
 * part of the HMAC signing string, where a `.` inside it is harmless because `t` cannot hold one.
 */
export function validateIdempotencyKey(key: string): string {
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw new WebhookHttpError(
      400,
      'ERR_INVALID_IDEMPOTENCY_KEY',
      `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters`,
    );
  }
  return key;
}

/**
 * Find the route of a request target, or `null` when no route matches. Names stay raw (encoded) here:
 * they are decoded and validated after authentication, so an anonymous caller learns nothing but 401.
 */
export function matchRoute(url: string, basePath: string): WebhookRoute | null {
  const segments = segmentsUnder(url, basePath);
  if (segments === null) return null;
  const [first, second, third, ...more] = segments;
  if (more.length > 0) return null;
  if (first === 'health' && second === undefined) return { kind: 'health' };
  if (first === 'events' && second !== undefined && third === undefined) {
    return { kind: 'publish', rawEvent: second };
  }
  if (first === 'triggers' && second !== undefined && third === 'run') {
    return { kind: 'run', rawTriggerId: second };
  }
  return null;
}
