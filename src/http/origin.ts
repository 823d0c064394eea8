/**
 * Browser-origin checks shared by the HTTP front ends: refuse requests that a page on another
 * origin made the user's browser send (cross-site forms, `no-cors` fetches), and requests whose
 * `Host` is not a name this server answers to (DNS rebinding).
 *
 * A server-to-server caller sends neither `Origin` nor `Sec-Fetch-Site`, so these checks only ever
 * bite on browsers, which always send them on the requests that matter (every non-GET carries
 * `Origin`; Chromium, Firefox and Safari send `Sec-Fetch-Site` on every request).
 */
import type { IncomingMessage } from 'node:http';
import { InvalidTriggerConfigError } from '../errors.js';
import { WebhookHttpError } from './http.js';

/** Host names allowed by default when `auth` is `{ none: true }`: the loopback names. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** The validated `allowedHosts` option: lower-case host names, or `null` for any host. */
export type AllowedHosts = ReadonlySet<string> | null;

/**
 * Validate `allowedHosts`: a list of host names (no port; IPv6 in brackets), or `'any'`. When it is
 * not given the default is the loopback names for `{ none: true }` and any host otherwise.
 */
export function resolveAllowedHosts(value: unknown, authNone: boolean): AllowedHosts {
  if (value === undefined) return authNone ? new Set(LOOPBACK_HOSTS) : null;
  if (value === 'any') return null;
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidTriggerConfigError('allowedHosts', 'must be a non-empty array of host names, or "any"');
  }
  return new Set(
    value.map((host: unknown, i) => {
      if (typeof host !== 'string' || !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/.test(host)) {
        throw new InvalidTriggerConfigError(`allowedHosts.${i}`, 'must be a host name without port, e.g. "ops.example.com" or "[::1]"');
      }
      return host.toLowerCase();
    }),
  );
}

/** The host name of a `Host` header value (port removed, lower case); `null` when malformed. */
export function hostName(hostHeader: string): string | null {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$/.exec(hostHeader.trim());
  return match === null ? null : match[1]!.toLowerCase();
}

function forbidden(message: string): WebhookHttpError {
  return new WebhookHttpError(403, 'ERR_FORBIDDEN', message);
}

/**
 * Refuse, with a 403, a request whose `Host` is not allowed, or that a browser sent on behalf of a
 * page of another origin: `Sec-Fetch-Site` `cross-site` or `same-site` (another port or sub-domain),
 * or an `Origin` whose host differs from the request's `Host` (`Origin: null` included).
 */
export function checkOrigin(req: IncomingMessage, allowedHosts: AllowedHosts): void {
  const host = req.headers.host;
  if (allowedHosts !== null) {
    const name = host === undefined ? null : hostName(host);
    if (name === null || !allowedHosts.has(name)) {
      throw forbidden('Host is not one this server answers to (see the allowedHosts option)');
    }
  }
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') throw forbidden('cross-site requests are refused');
  const origin = req.headers.origin;
  if (origin === undefined) return;
  // A reverse proxy may rewrite Host; it names the public host in X-Forwarded-Host. A page cannot
  // set that header on a request it sends without a CORS preflight, so trusting it here is safe.
  const forwarded = req.headers['x-forwarded-host'];
  const forwardedHost = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  let originHost: string | null = null;
  try {
    originHost = origin === 'null' ? null : new URL(origin).host.toLowerCase();
  } catch {
    originHost = null;
  }
  if (originHost === null || (originHost !== host?.trim().toLowerCase() && originHost !== forwardedHost)) {
    throw forbidden('cross-origin requests are refused');
  }
}
