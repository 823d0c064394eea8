import { describe, expect, it } from 'vitest';
import { assertTimeZone, parseDuration } from '../../../src/schedule/index.js';
import { configError } from './helpers.js';

describe('parseDuration', () => {
  it.each([
    [1, 1],
    [30_000, 30_000],
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1d 2h 3m 4s 5ms', 93_784_005],
    ['1.5h', 5_400_000],
    ['0.5s', 500],
    [' 10s ', 10_000],
  ])('%j -> %i ms', (input, ms) => {
    expect(parseDuration(input, 'schedule.every')).toBe(ms);
  });

  it.each([
    [0, /greater than 0/],
    [-5, /greater than 0/],
    [Number.NaN, /not a finite/],
    [Number.POSITIVE_INFINITY, /not a finite/],
    [1.5, /whole number of milliseconds/],
    [2 ** 60, /too large/],
    ['', /must not be empty/],
    ['0s', /greater than 0/],
    ['1500', /has no unit/],
    ['ten seconds', /not a duration/],
    ['5 minutes', /not a duration/],
    ['1.5ms', /whole number/],
    ['30m1h', /largest first/],
    ['1h1h', /largest first/],
    ['-5s', /not a duration/],
    ['5w', /not a duration/],
  ])('rejects %j', (input, reason) => {
    const err = configError(() => parseDuration(input, 'schedule.every'));
    expect(err.field).toBe('schedule.every');
    expect(err.message).toMatch(reason);
  });

  it('rejects non-string, non-number values from untyped callers', () => {
    expect(configError(() => parseDuration(null as unknown as string, 'x')).message).toMatch(/got null/);
  });
});

describe('assertTimeZone', () => {
  it('accepts IANA names and UTC', () => {
    for (const zone of ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Etc/GMT+5']) {
      expect(() => assertTimeZone(zone, 'tz')).not.toThrow();
    }
  });

  it('names the unknown zone and the field', () => {
    const err = configError(() => assertTimeZone('Mars/Olympus', 'schedule.timezone'));
    expect(err.field).toBe('schedule.timezone');
    expect(err.message).toBe('schedule.timezone: unknown time zone "Mars/Olympus"');
  });

  it('rejects empty and non-string zones', () => {
    expect(configError(() => assertTimeZone('', 'tz')).message).toMatch(/expected an IANA time zone name/);
    expect(configError(() => assertTimeZone(3 as unknown as string, 'tz')).message).toMatch(/got 3/);
  });
});
