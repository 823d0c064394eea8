import { describe, expect, it } from 'vitest';
import { isInWindow, normalizeWindow } from '../../../src/schedule/index.js';
import type { TimeWindow } from '../../../src/types.js';
import { configError } from './helpers.js';

const at = (iso: string): Date => new Date(iso);

describe('normalizeWindow', () => {
  it('resolves days, between and zone', () => {
    expect(normalizeWindow({ days: ['FRI', 1, 'mon', 'SUN'], between: ['09:00', '17:30'] } as unknown as TimeWindow, 'Europe/Berlin')).toEqual({
      days: [0, 1, 5],
      between: [540, 1050],
      timezone: 'Europe/Berlin',
    });
    expect(normalizeWindow({ timezone: 'America/New_York' }, 'UTC')).toEqual({
      days: [0, 1, 2, 3, 4, 5, 6],
      between: null,
      timezone: 'America/New_York',
    });
    expect(normalizeWindow({ between: ['22:00', '24:00'] }, 'UTC').between).toEqual([1320, 1440]);
  });

  it.each([
    [{ days: [] }, 'window.days', /must not be empty/],
    [{ days: ['MON', 'XYZ'] }, 'window.days[1]', /day name/],
    [{ days: [7] }, 'window.days[0]', /0\.\.6/],
    [{ days: 'MON' }, 'window.days', /array/],
    [{ between: ['9:00', '17:00'] }, 'window.between[0]', /'HH:mm'/],
    [{ between: ['09:00', '17:60'] }, 'window.between[1]', /'HH:mm'/],
    [{ between: ['09:00', '24:01'] }, 'window.between[1]', /'HH:mm'/],
    [{ between: ['24:00', '09:00'] }, 'window.between[0]', /only allowed as the end/],
    [{ between: ['09:00', '09:00'] }, 'window.between', /must differ/],
    [{ between: ['09:00'] }, 'window.between', /expected/],
    [{ timezone: 'Mars/Olympus' }, 'window.timezone', /unknown time zone "Mars\/Olympus"/],
    [{ hours: [1] }, 'window', /unknown key "hours"/],
  ])('rejects %j on %s', (input, field, reason) => {
    const err = configError(() => normalizeWindow(input as unknown as TimeWindow, 'UTC'));
    expect(err.field).toBe(field);
    expect(err.message).toMatch(reason);
  });

  it('uses the field prefix it is given', () => {
    expect(configError(() => normalizeWindow({ days: [] }, 'UTC', 'patch.window')).field).toBe('patch.window.days');
  });
});

describe('isInWindow', () => {
  it('start is inclusive, end exclusive', () => {
    const w = normalizeWindow({ between: ['09:00', '17:00'] }, 'UTC');
    expect(isInWindow(w, at('2026-05-04T08:59:59Z'))).toBe(false);
    expect(isInWindow(w, at('2026-05-04T09:00:00Z'))).toBe(true);
    expect(isInWindow(w, at('2026-05-04T16:59:59Z'))).toBe(true);
    expect(isInWindow(w, at('2026-05-04T17:00:00Z'))).toBe(false);
  });

  it('reads days and times in the window zone', () => {
    // 2026-05-04 is a Monday. 23:30Z Sunday is 01:30 Monday in Berlin (CEST, +02:00).
    const w = normalizeWindow({ days: ['MON'], between: ['01:00', '02:00'], timezone: 'Europe/Berlin' }, 'UTC');
    expect(isInWindow(w, at('2026-05-03T23:30:00Z'))).toBe(true);
    expect(isInWindow(w, at('2026-05-04T01:30:00Z'))).toBe(false); // 03:30 Berlin
    expect(isInWindow(w, at('2026-05-10T23:30:00Z'))).toBe(true); // next Monday 01:30
    expect(isInWindow(w, at('2026-05-05T23:30:00Z'))).toBe(false); // Wednesday 01:30
  });

  it('wraps midnight, with the day taken from the instant itself', () => {
    const w = normalizeWindow({ days: ['FRI'], between: ['22:00', '06:00'] }, 'UTC');
    expect(isInWindow(w, at('2026-05-08T23:00:00Z'))).toBe(true); // Friday 23:00
    expect(isInWindow(w, at('2026-05-08T03:00:00Z'))).toBe(true); // Friday 03:00
    expect(isInWindow(w, at('2026-05-08T06:00:00Z'))).toBe(false); // Friday 06:00 (end exclusive)
    expect(isInWindow(w, at('2026-05-08T12:00:00Z'))).toBe(false); // Friday noon
    expect(isInWindow(w, at('2026-05-09T03:00:00Z'))).toBe(false); // Saturday 03:00
  });

  it('days only', () => {
    const w = normalizeWindow({ days: [0, 6] }, 'America/New_York');
    expect(isInWindow(w, at('2026-05-09T12:00:00Z'))).toBe(true); // Saturday
    expect(isInWindow(w, at('2026-05-11T03:00:00Z'))).toBe(true); // Sunday 23:00 in New York
    expect(isInWindow(w, at('2026-05-11T05:00:00Z'))).toBe(false); // Monday 01:00 in New York
  });

  it('24:00 as the end covers the last minute of the day', () => {
    const w = normalizeWindow({ between: ['23:00', '24:00'] }, 'UTC');
    expect(isInWindow(w, at('2026-05-04T23:59:59Z'))).toBe(true);
    expect(isInWindow(w, at('2026-05-05T00:00:00Z'))).toBe(false);
  });
});
