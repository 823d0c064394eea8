/**
 * Request paths and headers every HTTP surface (webhook, management API, dashboard) reads the same
 * way: the mount path, the path under it, the path for logs, the `Idempotency-Key`.
 */
import { WebhookHttpError } from './http.js';

/** Longest accepted `Idempotency-Key`. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

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
