/**
 * Options every HTTP front end of the scheduler shares (the webhook and the management API):
 * `auth`, `clock`, `basePath`, `maxBodyBytes`, `logger` and `allowedHosts`, validated once at creation so a
 * misconfigured listener fails there, not on its first request.
 */
import { InvalidArgumentError } from '../errors.js';
import { resolveAuth, type ResolvedAuth } from './auth.js';
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES } from './body.js';
import { resolveAllowedHosts, type AllowedHosts } from './origin.js';
import { normalizeBasePath } from './paths.js';
import type { WebhookLogger } from './types.js';
import { isRecord } from './validate.js';

/** The shared options, validated. */
export interface ResolvedHttpOptions {
  /** Credentials check. */
  auth: ResolvedAuth;
  /** Normalized path prefix (`/` or `/x/y`). */
  basePath: string;
  /** Largest accepted body. */
  maxBodyBytes: number;
  /** Clock in epoch milliseconds. */
  now: () => number;
  /** Where failures go, or `null`. */
  logger: WebhookLogger | null;
  /** Host names answered to, or `null` for any. */
  allowedHosts: AllowedHosts;
  /** Time allowed to send a whole body. */
  bodyTimeoutMs: number;
}

/** Validate the shared options of `options` (other keys are the caller's to check). */
export function resolveHttpOptions(options: Record<string, unknown>): ResolvedHttpOptions {
  const clock = options['clock'];
  if (clock !== undefined && !(isRecord(clock) && typeof clock['now'] === 'function')) {
    throw new InvalidArgumentError('clock', 'must have a now() method');
  }
  const now = clock === undefined ? (): number => Date.now() : (): number => (clock as { now(): number }).now();

  const auth = resolveAuth(options['auth'], now);

  let basePath = '/';
  if (options['basePath'] !== undefined) {
    const normalized = typeof options['basePath'] === 'string' ? normalizeBasePath(options['basePath']) : null;
    if (normalized === null) {
      throw new InvalidArgumentError('basePath', 'must be a path starting with "/" (no query, no "//")');
    }
    basePath = normalized;
  }

  let maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
  if (options['maxBodyBytes'] !== undefined) {
    const v = options['maxBodyBytes'];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
      throw new InvalidArgumentError('maxBodyBytes', 'must be a positive integer');
    }
    maxBodyBytes = v;
  }

  const logger = options['logger'];
  if (logger !== undefined && !(isRecord(logger) && typeof logger['error'] === 'function')) {
    throw new InvalidArgumentError('logger', 'must have an error(fields, message) method');
  }

  const allowedHosts = resolveAllowedHosts(options['allowedHosts'], auth.kind === 'none');
  let bodyTimeoutMs = DEFAULT_BODY_TIMEOUT_MS;
  if (options['bodyTimeoutMs'] !== undefined) {
    const v = options['bodyTimeoutMs'];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
      throw new InvalidArgumentError('bodyTimeoutMs', 'must be a positive integer');
    }
    bodyTimeoutMs = v;
  }
  return { auth, basePath, maxBodyBytes, now, logger: (logger as WebhookLogger | undefined) ?? null, allowedHosts, bodyTimeoutMs };
}
