/**
 * Retry backoff and start jitter. Randomness is injected so tests (and property checks) can pin it.
 */
import { InvalidTriggerConfigError } from '../errors.js';
import type { BackoffPolicy, RetryPolicy } from '../types.js';
import { asObject, describe } from './describe.js';

/** Backoff used when a retry policy names none: 1 s between attempts, no jitter. */
export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ type: 'fixed', delayMs: 1_000, jitter: 'none' });

/**
 * Ceiling of any backoff delay (one year): without `maxDelayMs`, exponential growth would otherwise
 * leave the range of a `Date` after a thousand attempts.
 */
export const MAX_BACKOFF_DELAY_MS = 365 * 86_400_000;

const MAX_ATTEMPTS = 1_000;
const BACKOFF_TYPES: readonly BackoffPolicy['type'][] = ['fixed', 'linear', 'exponential'];
const JITTERS: readonly NonNullable<BackoffPolicy['jitter']>[] = ['none', 'full', 'equal'];
const RETRY_KEYS = new Set(['attempts', 'backoff']);
const BACKOFF_KEYS = new Set(['type', 'delayMs', 'maxDelayMs', 'jitter']);

/**
 * Delay before the attempt that follows failed attempt number `failedAttempt` (1 = the first attempt
 * failed).
 *
 * `fixed`: `delayMs`; `linear`: `delayMs * n`; `exponential`: `delayMs * 2^(n-1)`; then capped by
 * `maxDelayMs` (and {@link MAX_BACKOFF_DELAY_MS}); then jitter: `full` draws from [0, d], `equal`
 * from [d/2, d]. Always a non-negative integer.
 *
 * @param policy the backoff policy
 * @param failedAttempt number of the attempt that failed, from 1
 * @param random uniform source in [0, 1)
 */
export function backoffDelay(policy: BackoffPolicy, failedAttempt: number, random: () => number = Math.random): number {
  const n = Number.isFinite(failedAttempt) ? Math.max(1, Math.floor(failedAttempt)) : 1;
  const base = Math.max(0, Number.isFinite(policy.delayMs) ? policy.delayMs : 0);
  let delay: number;
  switch (policy.type) {
    case 'linear':
      delay = base * n;
      break;
    case 'exponential':
      delay = base * 2 ** (n - 1);
      break;
    default:
      delay = base;
  }
  const cap = Math.min(policy.maxDelayMs ?? Number.POSITIVE_INFINITY, MAX_BACKOFF_DELAY_MS);
  const d = Math.floor(Math.min(delay, Math.max(0, cap)));
  switch (policy.jitter ?? 'none') {
    case 'full':
      return Math.floor(unit(random) * (d + 1));
    case 'equal': {
      const low = Math.ceil(d / 2);
      return low + Math.floor(unit(random) * (d - low + 1));
    }
    default:
      return d;
  }
}

/**
 * A random start delay for one slot: an integer in [0, jitterMs), or 0 when `jitterMs` is not
 * positive.
 *
 * @param jitterMs exclusive upper bound in milliseconds
 * @param random uniform source in [0, 1)
 */
export function slotJitter(jitterMs: number, random: () => number = Math.random): number {
  if (!(jitterMs > 0) || !Number.isFinite(jitterMs)) return 0;
  return Math.min(Math.floor(unit(random) * jitterMs), Math.ceil(jitterMs) - 1);
}

/** A caller-supplied random source is not trusted to stay in [0, 1). */
function unit(random: () => number): number {
  const r = random();
  return Number.isFinite(r) ? Math.min(Math.max(r, 0), 1 - Number.EPSILON) : 0;
}

/**
 * Validate a retry policy and fill in its defaults (backoff {@link DEFAULT_BACKOFF}, jitter `none`).
 *
 * @param input the caller's policy (untrusted)
 * @param field dotted path prefix named in errors, e.g. `retry.backoff.delayMs`
 * @throws InvalidTriggerConfigError naming the offending field
 */
export function normalizeRetry(input: unknown, field = 'retry'): RetryPolicy {
  const record = asObject(input, field, RETRY_KEYS);
  const attempts = record.attempts;
  if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 1 || attempts > MAX_ATTEMPTS) {
    throw new InvalidTriggerConfigError(`${field}.attempts`, `expected an integer from 1 to ${MAX_ATTEMPTS}, got ${describe(attempts)}`);
  }
  const backoff = record.backoff === undefined ? { ...DEFAULT_BACKOFF } : normalizeBackoff(record.backoff, `${field}.backoff`);
  return { attempts, backoff };
}

function normalizeBackoff(input: unknown, field: string): BackoffPolicy {
  const record = asObject(input, field, BACKOFF_KEYS);
  const type = record.type;
  if (typeof type !== 'string' || !(BACKOFF_TYPES as readonly string[]).includes(type)) {
    throw new InvalidTriggerConfigError(`${field}.type`, `expected one of ${BACKOFF_TYPES.join(', ')}, got ${describe(type)}`);
  }
  const delayMs = record.delayMs;
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
    throw new InvalidTriggerConfigError(`${field}.delayMs`, `expected a finite number >= 0, got ${describe(delayMs)}`);
  }
  const jitter = record.jitter ?? 'none';
  if (typeof jitter !== 'string' || !(JITTERS as readonly string[]).includes(jitter)) {
    throw new InvalidTriggerConfigError(`${field}.jitter`, `expected one of ${JITTERS.join(', ')}, got ${describe(jitter)}`);
  }
  const out: BackoffPolicy = {
    type: type as BackoffPolicy['type'],
    delayMs,
    jitter: jitter as NonNullable<BackoffPolicy['jitter']>,
  };
  const maxDelayMs = record.maxDelayMs;
  if (maxDelayMs !== undefined) {
    if (typeof maxDelayMs !== 'number' || !Number.isFinite(maxDelayMs) || maxDelayMs < delayMs) {
      throw new InvalidTriggerConfigError(`${field}.maxDelayMs`, `expected a finite number >= delayMs (${delayMs}), got ${describe(maxDelayMs)}`);
    }
    out.maxDelayMs = maxDelayMs;
  }
  return out;
}
