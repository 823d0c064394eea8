import { describe, expect, it } from 'vitest';
import {
  firstSlot,
  nextFireTimes,
  nextSlotAfter,
  normalizeSchedule,
  slotsBetween,
  type SlotBounds,
} from '../../../src/schedule/index.js';
import type { NormalizedSchedule } from '../../../src/types.js';
import { configError } from './helpers.js';

const d = (iso: string): Date => new Date(iso);
const iso = (x: Date | null): string | null => (x === null ? null : x.toISOString());
const none: SlotBounds = { startAt: null, endAt: null };

describe('firstSlot', () => {
  const now = d('2026-06-01T12:00:00Z');

  it('cron: a slot exactly at now counts', () => {
    const s = normalizeSchedule({ cron: '0 12 * * *' }, now);
    expect(iso(firstSlot(s, none, now))).toBe('2026-06-01T12:00:00.000Z');
    expect(iso(firstSlot(s, none, d('2026-06-01T12:00:00.001Z')))).toBe('2026-06-02T12:00:00.000Z');
  });

  it('cron: respects startAt and endAt', () => {
    const s = normalizeSchedule({ cron: '0 12 * * *' }, now);
    expect(iso(firstSlot(s, { startAt: d('2026-06-10T00:00:00Z'), endAt: null }, now))).toBe('2026-06-10T12:00:00.000Z');
    expect(firstSlot(s, { startAt: null, endAt: d('2026-06-01T11:59:59Z') }, d('2026-06-01T11:00:00Z'))).toBeNull();
    expect(iso(firstSlot(s, { startAt: null, endAt: d('2026-06-01T12:00:00Z') }, now))).toBe('2026-06-01T12:00:00.000Z');
  });

  it('every: startAt when it is in the future', () => {
    const s = normalizeSchedule({ every: '1h', startAt: '2026-06-01T15:00:00Z' }, now);
    expect(iso(firstSlot(s, none, now))).toBe('2026-06-01T15:00:00.000Z');
  });

  it('every: keeps the phase of a past startAt', () => {
    const s = normalizeSchedule({ every: '1h', startAt: '2026-06-01T08:20:00Z' }, now);
    expect(iso(firstSlot(s, none, now))).toBe('2026-06-01T12:20:00.000Z');
    expect(iso(firstSlot(s, none, d('2026-06-01T12:20:00Z')))).toBe('2026-06-01T12:20:00.000Z');
    expect(iso(firstSlot(s, none, d('2026-06-01T12:20:00.001Z')))).toBe('2026-06-01T13:20:00.000Z');
  });

  it('every: the default startAt is now itself', () => {
    expect(iso(firstSlot(normalizeSchedule({ every: '30s' }, now), none, now))).toBe('2026-06-01T12:00:00.000Z');
  });

  it('every: trigger startAt aligns to the schedule phase, endAt caps', () => {
    const s = normalizeSchedule({ every: '10m', startAt: '2026-06-01T12:05:00Z' }, now);
    expect(iso(firstSlot(s, { startAt: d('2026-06-01T13:00:00Z'), endAt: null }, now))).toBe('2026-06-01T13:05:00.000Z');
    expect(firstSlot(s, { startAt: null, endAt: d('2026-06-01T12:04:59Z') }, now)).toBeNull();
    const ending = normalizeSchedule({ every: '10m', startAt: '2026-06-01T10:00:00Z', endAt: '2026-06-01T11:00:00Z' }, d('2026-06-01T09:00:00Z'));
    expect(firstSlot(ending, none, now)).toBeNull();
  });

  it('at: the instant, within bounds', () => {
    const s = normalizeSchedule({ at: '2026-06-02T00:00:00Z' }, now);
    expect(iso(firstSlot(s, none, now))).toBe('2026-06-02T00:00:00.000Z');
    expect(firstSlot(s, { startAt: d('2026-06-03T00:00:00Z'), endAt: null }, now)).toBeNull();
    expect(firstSlot(s, { startAt: null, endAt: d('2026-06-01T23:00:00Z') }, now)).toBeNull();
    // Recomputed later (e.g. on resume), a passed `at` is still the slot: it is due.
    expect(iso(firstSlot(s, none, d('2026-06-05T00:00:00Z')))).toBe('2026-06-02T00:00:00.000Z');
  });

  it('manual, event and after have no slot', () => {
    for (const input of [{ manual: true }, { event: 'e' }, { after: 'x' }]) {
      expect(firstSlot(normalizeSchedule(input, now), none, now)).toBeNull();
    }
  });
});

describe('nextSlotAfter', () => {
  const now = d('2026-06-01T12:00:00Z');

  it('every: previous + every, independent of the phase and of now', () => {
    const s = normalizeSchedule({ every: 90_000, startAt: '2026-06-01T12:00:00Z' }, now);
    expect(iso(nextSlotAfter(s, none, d('2026-06-01T12:00:00Z')))).toBe('2026-06-01T12:01:30.000Z');
    expect(iso(nextSlotAfter(s, none, d('2026-06-01T12:00:07Z')))).toBe('2026-06-01T12:01:37.000Z');
  });

  it('every: null past the schedule endAt or trigger endAt (endAt inclusive)', () => {
    const s = normalizeSchedule({ every: '1m', startAt: '2026-06-01T12:00:00Z', endAt: '2026-06-01T12:02:00Z' }, now);
    expect(iso(nextSlotAfter(s, none, d('2026-06-01T12:01:00Z')))).toBe('2026-06-01T12:02:00.000Z');
    expect(nextSlotAfter(s, none, d('2026-06-01T12:02:00Z'))).toBeNull();
    const open = normalizeSchedule({ every: '1m', startAt: '2026-06-01T12:00:00Z' }, now);
    expect(nextSlotAfter(open, { startAt: null, endAt: d('2026-06-01T12:00:59Z') }, d('2026-06-01T12:00:00Z'))).toBeNull();
  });

  it('cron: the following slot, skipping to startAt', () => {
    const s = normalizeSchedule({ cron: '*/20 * * * *' }, now);
    expect(iso(nextSlotAfter(s, none, d('2026-06-01T12:00:00Z')))).toBe('2026-06-01T12:20:00.000Z');
    expect(iso(nextSlotAfter(s, { startAt: d('2026-06-01T14:00:00Z'), endAt: null }, d('2026-06-01T12:00:00Z')))).toBe(
      '2026-06-01T14:00:00.000Z',
    );
    expect(nextSlotAfter(s, { startAt: null, endAt: d('2026-06-01T12:19:59Z') }, d('2026-06-01T12:00:00Z'))).toBeNull();
  });

  it('cron: follows the DST layer (New York spring forward)', () => {
    const s = normalizeSchedule({ cron: '30 2 * * *', timezone: 'America/New_York' }, now);
    expect(iso(nextSlotAfter(s, none, d('2026-03-07T07:30:00Z')))).toBe('2026-03-08T07:00:00.000Z');
  });

  it('at, manual, event, after: nothing follows', () => {
    const schedules: NormalizedSchedule[] = [
      { kind: 'at', at: d('2026-06-02T00:00:00Z') },
      { kind: 'manual' },
      { kind: 'event', event: 'e', filter: {} },
      { kind: 'after', after: 'x', on: 'success' },
    ];
    for (const s of schedules) expect(nextSlotAfter(s, none, d('2026-06-02T00:00:00Z'))).toBeNull();
  });
});

describe('slotsBetween', () => {
  const now = d('2026-06-01T12:00:00Z');

  it('lists missed slots after previous up to and including until', () => {
    const s = normalizeSchedule({ cron: '*/15 * * * *' }, now);
    expect(slotsBetween(s, none, d('2026-06-01T12:00:00Z'), d('2026-06-01T13:00:00Z'), 100).map(iso)).toEqual([
      '2026-06-01T12:15:00.000Z',
      '2026-06-01T12:30:00.000Z',
      '2026-06-01T12:45:00.000Z',
      '2026-06-01T13:00:00.000Z',
    ]);
  });

  it('stops at limit and at endAt', () => {
    const s = normalizeSchedule({ every: '1m', startAt: '2026-06-01T12:00:00Z' }, now);
    expect(slotsBetween(s, none, d('2026-06-01T12:00:00Z'), d('2026-06-01T13:00:00Z'), 3)).toHaveLength(3);
    expect(
      slotsBetween(s, { startAt: null, endAt: d('2026-06-01T12:02:30Z') }, d('2026-06-01T12:00:00Z'), d('2026-06-01T13:00:00Z'), 100).map(iso),
    ).toEqual(['2026-06-01T12:01:00.000Z', '2026-06-01T12:02:00.000Z']);
    expect(slotsBetween(s, none, d('2026-06-01T12:00:00Z'), d('2026-06-01T12:00:59Z'), 100)).toEqual([]);
  });
});

describe('nextFireTimes', () => {
  it('previews cron in its zone', () => {
    const times = nextFireTimes({ cron: '0 9 * * MON-FRI', timezone: 'Europe/Berlin' }, { from: '2026-03-27T00:00:00Z', count: 3 });
    // Friday 09:00 CET, then Monday and Tuesday 09:00 CEST (Berlin changes on 2026-03-29).
    expect(times.map(iso)).toEqual(['2026-03-27T08:00:00.000Z', '2026-03-30T07:00:00.000Z', '2026-03-31T07:00:00.000Z']);
  });

  it('defaults to 5 fire times', () => {
    expect(nextFireTimes({ every: '1h', startAt: '2026-01-01T00:00:00Z' }, { from: '2026-01-01T00:30:00Z' }).map(iso)).toEqual([
      '2026-01-01T01:00:00.000Z',
      '2026-01-01T02:00:00.000Z',
      '2026-01-01T03:00:00.000Z',
      '2026-01-01T04:00:00.000Z',
      '2026-01-01T05:00:00.000Z',
    ]);
  });

  it('defaults from to the current time', () => {
    const before = Date.now();
    const [first] = nextFireTimes({ cron: '* * * * * *' }, { count: 1 });
    expect(first).toBeDefined();
    expect(first!.getTime()).toBeGreaterThanOrEqual(Math.ceil(before / 1000) * 1000);
    expect(first!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('at: one time, or none once it has passed', () => {
    expect(nextFireTimes({ at: '2026-02-01T00:00:00Z' }, { from: '2026-01-01T00:00:00Z' }).map(iso)).toEqual(['2026-02-01T00:00:00.000Z']);
    expect(nextFireTimes({ at: '2026-02-01T00:00:00Z' }, { from: '2026-03-01T00:00:00Z' })).toEqual([]);
  });

  it('manual, event and after have no fire times', () => {
    expect(nextFireTimes({ manual: true })).toEqual([]);
    expect(nextFireTimes({ event: 'e' })).toEqual([]);
    expect(nextFireTimes({ after: 'x' })).toEqual([]);
  });

  it('stops at endAt', () => {
    const times = nextFireTimes(
      { every: '10m', startAt: '2026-01-01T00:00:00Z', endAt: '2026-01-01T00:25:00Z' },
      { from: '2026-01-01T00:00:00Z', count: 10 },
    );
    expect(times.map(iso)).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-01T00:10:00.000Z', '2026-01-01T00:20:00.000Z']);
  });

  it('validates the schedule and the options', () => {
    expect(configError(() => nextFireTimes({ cron: '* * * *' })).field).toBe('schedule.cron');
    expect(configError(() => nextFireTimes({ cron: '* * * * *' }, { count: 1001 })).field).toBe('count');
    expect(configError(() => nextFireTimes({ cron: '* * * * *' }, { count: 1.5 })).field).toBe('count');
    expect(configError(() => nextFireTimes({ cron: '* * * * *' }, { from: 'soon' })).field).toBe('from');
    expect(nextFireTimes({ cron: '* * * * *' }, { count: 0 })).toEqual([]);
    expect(nextFireTimes({ cron: '* * * * *' }, { count: 1000, from: 0 })).toHaveLength(1000);
  });
});
