/**
 * Routing: which of the three routes a request path names, and validation of the names it carries.
 */
import { WebhookHttpError } from '../http/http.js';
import { segmentsUnder } from '../http/paths.js';

/** The routes of the webhook. */
export type WebhookRoute =
  | { kind: 'publish'; rawEvent: string }
  | { kind: 'run'; rawTriggerId: string }
  | { kind: 'health' };

/** Longest event name or trigger id, as for trigger ids elsewhere in the scheduler. */
export const MAX_NAME_LENGTH = 200;

// C0 controls and DEL: nothing legitimate, and they corrupt logs and keys.
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's job
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Methods each route answers, for `405` and its `Allow` header. */
export const ROUTE_METHODS: Readonly<Record<WebhookRoute['kind'], readonly string[]>> = {
  publish: ['POST'],
  run: ['POST'],
  health: ['GET', 'HEAD'],
};

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
