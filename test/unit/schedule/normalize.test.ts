import { describe, expect, it } from 'vitest';
import { assertId, normalizeSchedule, parseDate } from '../../../src/schedule/index.js';
import { configError } from './helpers.js';

const now = new Date('2026-06-01T12:00:00Z');

describe('normalizeSchedule', () => {
  it('cron: collapses whitespace, defaults the zone to UTC', () => {
    expect(normalizeSchedule({ cron: ' 0  9 * * MON-FRI ' }, now)).toEqual({ kind: 'cron', cron: '0 9 * * MON-FRI', timezone: 'UTC' });
    expect(normalizeSchedule({ cron: '0 9 * * *', timezone: 'Europe/Berlin' }, now)).toEqual({
      kind: 'cron',
      cron: '0 9 * * *',
      timezone: 'Europe/Berlin',
    });
  });

  it('cron: errors land on the right field', () => {
    expect(configError(() => normalizeSchedule({ cron: '* * * *' }, now)).field).toBe('schedule.cron');
    const zone = configError(() => normalizeSchedule({ cron: '0 9 * * *', timezone: 'Mars/Olympus' }, now));
    expect(zone.field).toBe('schedule.timezone');
    expect(zone.message).toMatch(/"Mars\/Olympus"/);
    expect(configError(() => normalizeSchedule({ cron: '0 9 * * *', timezone: 'Nope/Nope' }, now, 'patch.schedule')).field).toBe(
      'patch.schedule.timezone',
    );
    expect(configError(() => normalizeSchedule({ cron: 5 }, now)).field).toBe('schedule.cron');
  });

  it('every: ms or duration, startAt defaults to now, endAt optional', () => {
    expect(normalizeSchedule({ every: '30s' }, now)).toEqual({ kind: 'every', every: 30_000, startAt: now, endAt: null });
    expect(
      normalizeSchedule({ every: 5_000, startAt: '2026-06-01T00:00:00Z', endAt: 1_790_000_000_000 }, now),
    ).toEqual({ kind: 'every', every: 5_000, startAt: new Date('2026-06-01T00:00:00Z'), endAt: new Date(1_790_000_000_000) });
  });

  it('every: the minimum interval, 1 s, is accepted', () => {
    expect(normalizeSchedule({ every: 1000 }, now)).toMatchObject({ kind: 'every', every: 1000 });
    expect(normalizeSchedule({ every: '1s' }, now)).toMatchObject({ kind: 'every', every: 1000 });
  });

  it('every: the default startAt is a copy of now', () => {
    const s = normalizeSchedule({ every: '1m' }, now);
    expect(s.kind === 'every' && s.startAt).not.toBe(now);
  });

  it.each([
    [{ every: 0 }, 'schedule.every', /greater than 0/],
    [{ every: -1 }, 'schedule.every', /greater than 0/],
    [{ every: '5 parsecs' }, 'schedule.every', /not a duration/],
    [{ every: true }, 'schedule.every', /expected milliseconds/],
    [{ every: 1 }, 'schedule.every', /below the minimum interval of 1000 ms/],
    [{ every: 999 }, 'schedule.every', /below the minimum interval of 1000 ms/],
    [{ every: '500ms' }, 'schedule.every', /is 500 ms, below the minimum/],
    [{ every: '1m', startAt: 'yesterday' }, 'schedule.startAt', /not a valid date/],
    [{ every: '1m', startAt: '2026-06-02T00:00:00Z', endAt: '2026-06-02T00:00:00Z' }, 'schedule.endAt', /must be after startAt/],
    [{ every: '1m', endAt: '2026-06-01T11:00:00Z' }, 'schedule.endAt', /must be after startAt/],
  ])('every: rejects %j', (input, field, reason) => {
    const err = configError(() => normalizeSchedule(input, now));
    expect(err.field).toBe(field);
    expect(err.message).toMatch(reason);
  });

  it('at: parses and refuses the past', () => {
    expect(normalizeSchedule({ at: '2026-06-02T00:00:00+02:00' }, now)).toEqual({ kind: 'at', at: new Date('2026-06-01T22:00:00Z') });
    expect(normalizeSchedule({ at: now }, now)).toEqual({ kind: 'at', at: now });
    const err = configError(() => normalizeSchedule({ at: '2026-06-01T11:59:59Z' }, now));
    expect(err.field).toBe('schedule.at');
    expect(err.message).toMatch(/is in the past/);
  });

  it('manual: only true', () => {
    expect(normalizeSchedule({ manual: true }, now)).toEqual({ kind: 'manual' });
    expect(configError(() => normalizeSchedule({ manual: 'yes' }, now)).field).toBe('schedule.manual');
  });

  it('event: name and primitive filter', () => {
    expect(normalizeSchedule({ event: 'testrun.finished' }, now)).toEqual({ kind: 'event', event: 'testrun.finished', filter: {} });
    expect(normalizeSchedule({ event: 'x', filter: { suite: 'smoke', n: 1, ok: true, none: null } }, now)).toEqual({
      kind: 'event',
      event: 'x',
      filter: { suite: 'smoke', n: 1, ok: true, none: null },
    });
  });

  it.each([
    [{ event: '' }, 'schedule.event', /non-empty/],
    [{ event: '$where' }, 'schedule.event', /"\$"/],
    [{ event: 'x'.repeat(201) }, 'schedule.event', /at most 200/],
    [{ event: 'x', filter: { $gt: 1 } }, 'schedule.filter.$gt', /must not start with "\$"/],
    [{ event: 'x', filter: { 'a.b': 1 } }, 'schedule.filter.a.b', /contain "\."/],
    [{ event: 'x', filter: { a: { $ne: 1 } } }, 'schedule.filter.a', /expected a string, finite number, boolean or null/],
    [{ event: 'x', filter: { a: [1] } }, 'schedule.filter.a', /got an array/],
    [{ event: 'x', filter: { a: Number.NaN } }, 'schedule.filter.a', /finite number/],
    [{ event: 'x', filter: 'suite=smoke' }, 'schedule.filter', /plain object/],
    [{ event: 'x', filter: new Map() }, 'schedule.filter', /plain object/],
  ])('event: rejects %j', (input, field, reason) => {
    const err = configError(() => normalizeSchedule(input, now));
    expect(err.field).toBe(field);
    expect(err.message).toMatch(reason);
  });

  it('event: a "__proto__" filter key stays plain data', () => {
    const filter = JSON.parse('{"__proto__": "x", "a": 1}') as Record<string, unknown>;
    const s = normalizeSchedule({ event: 'e', filter }, now);
    expect(s.kind === 'event' && Object.getPrototypeOf(s.filter)).toBe(Object.prototype);
    expect(s.kind === 'event' && Object.keys(s.filter)).toEqual(['__proto__', 'a']);
  });

  it('after: id and condition', () => {
    expect(normalizeSchedule({ after: 'build' }, now)).toEqual({ kind: 'after', after: 'build', on: 'success' });
    expect(normalizeSchedule({ after: 'build', on: 'completion' }, now)).toEqual({ kind: 'after', after: 'build', on: 'completion' });
    expect(configError(() => normalizeSchedule({ after: 'a.b' }, now)).field).toBe('schedule.after');
    expect(configError(() => normalizeSchedule({ after: 'build', on: 'done' }, now)).field).toBe('schedule.on');
  });

  it('requires exactly one kind', () => {
    const none = configError(() => normalizeSchedule({}, now));
    expect(none.field).toBe('schedule');
    expect(none.message).toBe('schedule: expected exactly one of cron, every, at, manual, event, after');
    const two = configError(() => normalizeSchedule({ cron: '* * * * *', every: '1m' }, now));
    expect(two.message).toMatch(/expected exactly one of cron, every, at, manual, event, after \(got cron, every\)/);
  });

  it('treats undefined keys as absent', () => {
    expect(normalizeSchedule({ cron: '0 9 * * *', every: undefined, timezone: undefined }, now)).toEqual({
      kind: 'cron',
      cron: '0 9 * * *',
      timezone: 'UTC',
    });
  });

  it('names unknown keys', () => {
    const err = configError(() => normalizeSchedule({ cron: '0 9 * * *', tz: 'UTC', startAt: 1 }, now));
    expect(err.field).toBe('schedule');
    expect(err.message).toMatch(/unknown keys "tz", "startAt" for a cron schedule/);
  });

  it('rejects non-objects', () => {
    for (const bad of [null, undefined, '0 9 * * *', [], 42, new Date()]) {
      expect(configError(() => normalizeSchedule(bad, now)).field).toBe('schedule');
    }
  });
});

describe('assertId', () => {
  it('accepts ordinary ids', () => {
    expect(assertId('reports-daily_01', 'id')).toBe('reports-daily_01');
    expect(assertId('x'.repeat(200), 'id')).toHaveLength(200);
  });

  it.each([
    ['', /must not be empty/],
    ['x'.repeat(201), /at most 200/],
    ['a.b', /"\$" or "\."/],
    ['$where', /"\$" or "\."/],
    [42, /expected a string id, got 42/],
    [{ $gt: '' }, /expected a string id/],
  ])('rejects %j', (value, reason) => {
    const err = configError(() => assertId(value, 'id'));
    expect(err.field).toBe('id');
    expect(err.message).toMatch(reason);
  });
});

describe('parseDate', () => {
  it('reads Dates, ISO strings and epoch ms', () => {
    const d = new Date('2026-01-02T03:04:05.678Z');
    expect(parseDate(d, 'f')).toEqual(d);
    expect(parseDate(d, 'f')).not.toBe(d);
    expect(parseDate('2026-01-02T03:04:05.678Z', 'f')).toEqual(d);
    expect(parseDate('2026-01-02T04:04:05.678+01:00', 'f')).toEqual(d);
    expect(parseDate(d.getTime(), 'f')).toEqual(d);
  });

  it('reads ISO strings without an offset as UTC, whatever the host zone', () => {
    expect(parseDate('2026-01-02T03:04', 'f').toISOString()).toBe('2026-01-02T03:04:00.000Z');
    expect(parseDate('2026-01-02', 'f').toISOString()).toBe('2026-01-02T00:00:00.000Z');
  });

  it.each([
    ['not a date'],
    ['March 7, 2026'],
    ['2026-02-30'],
    ['07:00'],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [9e15],
    [new Date('nope')],
    [null],
    [{}],
  ])('rejects %j', (value) => {
    expect(configError(() => parseDate(value, 'schedule.at')).field).toBe('schedule.at');
  });
});
