import { describe, expect, it } from 'vitest';
import { backoffDelay, MAX_BACKOFF_DELAY_MS, normalizeRetry, slotJitter } from '../../../src/schedule/index.js';
import type { BackoffPolicy } from '../../../src/types.js';
import { configError } from './helpers.js';
import { seededRandom } from '../../helpers/random.js';

describe('backoffDelay', () => {
  it('fixed, linear, exponential without jitter', () => {
    const at = (policy: BackoffPolicy): number[] => [1, 2, 3, 4].map((n) => backoffDelay(policy, n));
    expect(at({ type: 'fixed', delayMs: 500 })).toEqual([500, 500, 500, 500]);
    expect(at({ type: 'linear', delayMs: 500 })).toEqual([500, 1000, 1500, 2000]);
    expect(at({ type: 'exponential', delayMs: 500 })).toEqual([500, 1000, 2000, 4000]);
  });

  it('caps before jitter', () => {
    expect(backoffDelay({ type: 'exponential', delayMs: 1000, maxDelayMs: 5000 }, 10)).toBe(5000);
    expect(backoffDelay({ type: 'exponential', delayMs: 1000, maxDelayMs: 5000, jitter: 'full' }, 10, () => 0.999999)).toBe(5000);
    expect(backoffDelay({ type: 'exponential', delayMs: 1000, maxDelayMs: 5000, jitter: 'equal' }, 10, () => 0)).toBe(2500);
    expect(backoffDelay({ type: 'exponential', delayMs: 1000 }, 1000)).toBe(MAX_BACKOFF_DELAY_MS);
  });

  it('jitter bounds hold for every draw (property loop)', () => {
    const random = seededRandom(42);
    const types: BackoffPolicy['type'][] = ['fixed', 'linear', 'exponential'];
    let sawLow = false;
    let sawHigh = false;
    for (let i = 0; i < 5_000; i++) {
      const type = types[i % 3]!;
      const delayMs = Math.floor(random() * 10_000);
      const maxDelayMs = delayMs + Math.floor(random() * 100_000);
      const n = 1 + Math.floor(random() * 20);
      const exact = backoffDelay({ type, delayMs, maxDelayMs }, n);
      const expected = Math.min(type === 'fixed' ? delayMs : type === 'linear' ? delayMs * n : delayMs * 2 ** (n - 1), maxDelayMs);
      expect(exact).toBe(Math.floor(expected));

      const full = backoffDelay({ type, delayMs, maxDelayMs, jitter: 'full' }, n, random);
      expect(Number.isInteger(full)).toBe(true);
      expect(full).toBeGreaterThanOrEqual(0);
      expect(full).toBeLessThanOrEqual(exact);

      const equal = backoffDelay({ type, delayMs, maxDelayMs, jitter: 'equal' }, n, random);
      expect(Number.isInteger(equal)).toBe(true);
      expect(equal).toBeGreaterThanOrEqual(exact / 2);
      expect(equal).toBeLessThanOrEqual(exact);
      if (exact > 100 && full < exact * 0.1) sawLow = true;
      if (exact > 100 && full > exact * 0.9) sawHigh = true;
    }
    // The draws really spread over the range rather than sitting at one end.
    expect(sawLow && sawHigh).toBe(true);
  });

  it('stays in range with a misbehaving random source and odd attempt numbers', () => {
    const policy: BackoffPolicy = { type: 'linear', delayMs: 100, jitter: 'full' };
    expect(backoffDelay(policy, 1, () => 1)).toBe(100);
    expect(backoffDelay(policy, 1, () => -3)).toBe(0);
    expect(backoffDelay(policy, 1, () => Number.NaN)).toBe(0);
    expect(backoffDelay({ type: 'linear', delayMs: 100 }, 0)).toBe(100);
    expect(backoffDelay({ type: 'linear', delayMs: 100 }, Number.NaN)).toBe(100);
  });
});

describe('slotJitter', () => {
  it('draws integers in [0, jitterMs)', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 2_000; i++) {
      const jitterMs = 1 + Math.floor(random() * 5_000);
      const j = slotJitter(jitterMs, random);
      expect(Number.isInteger(j)).toBe(true);
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThan(jitterMs);
    }
    expect(slotJitter(1000, () => 0.9999999999999999)).toBe(999);
    expect(slotJitter(0)).toBe(0);
    expect(slotJitter(-5)).toBe(0);
  });
});

describe('normalizeRetry', () => {
  it('fills in the default backoff and jitter', () => {
    expect(normalizeRetry({ attempts: 3 })).toEqual({ attempts: 3, backoff: { type: 'fixed', delayMs: 1000, jitter: 'none' } });
    expect(normalizeRetry({ attempts: 5, backoff: { type: 'exponential', delayMs: 200, maxDelayMs: 10_000 } })).toEqual({
      attempts: 5,
      backoff: { type: 'exponential', delayMs: 200, maxDelayMs: 10_000, jitter: 'none' },
    });
  });

  it.each([
    [null, 'retry', /expected an object/],
    [{}, 'retry.attempts', /1 to 1000/],
    [{ attempts: 0 }, 'retry.attempts', /1 to 1000/],
    [{ attempts: 1001 }, 'retry.attempts', /1 to 1000/],
    [{ attempts: 2.5 }, 'retry.attempts', /1 to 1000/],
    [{ attempts: 3, tries: 2 }, 'retry', /unknown key "tries"/],
    [{ attempts: 3, backoff: { type: 'random', delayMs: 1 } }, 'retry.backoff.type', /fixed, linear, exponential/],
    [{ attempts: 3, backoff: { type: 'fixed', delayMs: -1 } }, 'retry.backoff.delayMs', />= 0/],
    [{ attempts: 3, backoff: { type: 'fixed', delayMs: Number.POSITIVE_INFINITY } }, 'retry.backoff.delayMs', /finite/],
    [{ attempts: 3, backoff: { type: 'fixed', delayMs: 100, maxDelayMs: 50 } }, 'retry.backoff.maxDelayMs', />= delayMs/],
    [{ attempts: 3, backoff: { type: 'fixed', delayMs: 100, jitter: 'some' } }, 'retry.backoff.jitter', /none, full, equal/],
  ])('rejects %j on %s', (input, field, reason) => {
    const err = configError(() => normalizeRetry(input));
    expect(err.field).toBe(field);
    expect(err.message).toMatch(reason);
  });

  it('uses the field prefix it is given', () => {
    expect(configError(() => normalizeRetry({ attempts: 0 }, 'defaults.retry')).field).toBe('defaults.retry.attempts');
  });
});
