import { CronExpressionParser } from 'cron-parser';
import { IANAZone } from 'luxon';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidTriggerConfigError } from '../../../src/errors.js';
import { cronCacheStats, resetCronCaches } from '../../../src/schedule/cron.js';
import { compileCron, nextCronSlot } from '../../../src/schedule/index.js';

function rejection(fn: () => unknown): InvalidTriggerConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidTriggerConfigError);
    return err as InvalidTriggerConfigError;
  }
  throw new Error('expected an InvalidTriggerConfigError');
}

describe('compileCron validation', () => {
  it.each([
    ['* * * *', /expected 5 or 6 fields.*got 4/],
    ['0 0 1 1 * 2030', /second field|day-of-week field|invalid/],
    ['* * * * * * *', /expected 5 or 6 fields.*got 7/],
    ['a b c d e', /minute field "a"/],
    ['60 * * * *', /minute field "60".*0-59/],
    ['0 24 * * *', /hour field "24".*0-23/],
    ['0 0 32 * *', /day-of-month field "32"/],
    ['0 0 1 13 *', /month field "13"/],
    ['0 0 * * 8', /day-of-week field "8"/],
    ['*/0 * * * *', /minute field/],
    ['5-1 * * * *', /minute field "5-1"/],
    ['0 0 30 2 *', /never fire/],
    ['H * * * *', /hashed "H"/],
    ['? * * * *', /"\?" is only allowed/],
    ['@reboot', /unsupported macro "@reboot"/],
    ['', /must not be empty/],
  ])('rejects %j', (expression, message) => {
    const err = rejection(() => compileCron(expression, 'UTC'));
    expect(err.code).toBe('ERR_INVALID_TRIGGER_CONFIG');
    expect(err.field).toBe('schedule.cron');
    expect(err.message.startsWith('schedule.cron: ')).toBe(true);
    expect(err.message).toMatch(message);
  });

  it('6 fields reject a year column (7 values are 7 fields)', () => {
    expect(rejection(() => compileCron('0 0 0 1 1 * 2030', 'UTC')).message).toMatch(/got 7/);
  });

  it('names the field passed in', () => {
    expect(rejection(() => compileCron('* * * *', 'UTC', 'patch.schedule.cron')).field).toBe('patch.schedule.cron');
  });

  it('rejects an unknown zone on the timezone field, naming the zone', () => {
    const err = rejection(() => compileCron('0 * * * *', 'Mars/Olympus'));
    expect(err.field).toBe('schedule.timezone');
    expect(err.message).toBe('schedule.timezone: unknown time zone "Mars/Olympus"');
  });

  it('rejects a non-string expression', () => {
    expect(rejection(() => compileCron(42 as unknown as string, 'UTC')).message).toMatch(/expected a cron expression string, got 42/);
  });

  it('accepts 5- and 6-field forms, names, L and #, and collapses whitespace', () => {
    expect(compileCron('  0   9 * *   MON-FRI ', 'Europe/Berlin').expression).toBe('0 9 * * MON-FRI');
    expect(compileCron('30 0 9 * * *', 'UTC').hasSeconds).toBe(true);
    expect(compileCron('0 9 * * *', 'UTC').hasSeconds).toBe(false);
    expect(nextCronSlot(compileCron('0 12 L * *', 'UTC'), new Date('2026-02-01T00:00:00Z'))?.toISOString()).toBe(
      '2026-02-28T12:00:00.000Z',
    );
    expect(nextCronSlot(compileCron('0 12 * * 1#2', 'UTC'), new Date('2026-01-01T00:00:00Z'))?.toISOString()).toBe(
      '2026-01-12T12:00:00.000Z',
    );
  });

  it('expands Vixie macros', () => {
    expect(nextCronSlot(compileCron('@daily', 'UTC'), new Date('2026-01-01T10:00:00Z'))?.toISOString()).toBe(
      '2026-01-02T00:00:00.000Z',
    );
    expect(nextCronSlot(compileCron('@HOURLY', 'UTC'), new Date('2026-01-01T10:00:00Z'))?.toISOString()).toBe(
      '2026-01-01T11:00:00.000Z',
    );
    expect(compileCron('@hourly', 'UTC').fixedTime).toBe(false);
    expect(compileCron('@weekly', 'UTC').fixedTime).toBe(true);
  });

  it('classifies entries like cronie: a minute, hour (or seconds) field beginning with * is wildcard', () => {
    const fixed = ['30 2 * * *', '0,30 1-3 * * *', '0-59 0-23 * * *', '0 0 * * *', '0 30 2 * * *'];
    const wild = ['* 2 * * *', '0 * * * *', '*/15 * * * *', '0 */2 * * *', '* * * * *', '*/10 30 2 * * *'];
    for (const e of fixed) expect(compileCron(e, 'UTC').fixedTime, e).toBe(true);
    for (const e of wild) expect(compileCron(e, 'UTC').fixedTime, e).toBe(false);
  });

  it('returns the same compiled object for the same (expression, zone)', () => {
    expect(compileCron('0 9 * * *', 'Europe/Paris')).toBe(compileCron(' 0 9 * * * ', 'Europe/Paris'));
    expect(compileCron('0 9 * * *', 'Europe/Paris')).not.toBe(compileCron('0 9 * * *', 'Europe/Rome'));
  });
});

describe('nextCronSlot', () => {
  beforeEach(() => resetCronCaches());

  it('is strictly after `after`', () => {
    const cron = compileCron('0 9 * * *', 'UTC');
    expect(nextCronSlot(cron, new Date('2026-01-01T09:00:00Z'))?.toISOString()).toBe('2026-01-02T09:00:00.000Z');
    expect(nextCronSlot(cron, new Date('2026-01-01T08:59:59.999Z'))?.toISOString()).toBe('2026-01-01T09:00:00.000Z');
  });

  it('finds rare slots years ahead (29 February, 5th Monday of February)', () => {
    expect(nextCronSlot(compileCron('0 0 29 2 *', 'UTC'), new Date('2096-03-01T00:00:00Z'))?.toISOString()).toBe(
      '2104-02-29T00:00:00.000Z',
    );
    expect(nextCronSlot(compileCron('0 0 * 2 1#5', 'Europe/Berlin'), new Date('2026-01-01T00:00:00Z'))?.toISOString()).toBe(
      '2044-02-28T23:00:00.000Z',
    );
  });

  it('returns null at the end of the Date range instead of looping', () => {
    const cron = compileCron('0 0 1 1 *', 'UTC');
    expect(nextCronSlot(cron, new Date(8.64e15))).toBeNull();
    expect(nextCronSlot(cron, new Date('+275760-01-02T00:00:00Z'))).toBeNull();
  });

  it('memoizes by (expression, zone, after) and hands out fresh Date copies', () => {
    const cron = compileCron('*/5 * * * *', 'America/New_York');
    const after = new Date('2026-05-01T10:02:00Z');
    const first = nextCronSlot(cron, after);
    const second = nextCronSlot(cron, after);
    expect(first?.toISOString()).toBe('2026-05-01T10:05:00.000Z');
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    expect(cronCacheStats()).toEqual({ computations: 1, hits: 1 });
    first?.setTime(0);
    expect(nextCronSlot(cron, after)?.toISOString()).toBe('2026-05-01T10:05:00.000Z');
  });

  it('computes a herd of 10,000 triggers due at the same instant once', () => {
    const after = new Date('2026-05-01T10:00:00Z');
    const results = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      // Each trigger compiles its own schedule; the caches make them share the work.
      const next = nextCronSlot(compileCron('*/15 * * * *', 'Europe/Berlin'), after);
      results.add(next?.getTime() ?? -1);
    }
    expect([...results]).toEqual([Date.parse('2026-05-01T10:15:00Z')]);
    expect(cronCacheStats()).toEqual({ computations: 1, hits: 9_999 });
  });

  it('accepts a structurally equal CompiledCron that did not come from compileCron', () => {
    const foreign = { expression: '0 9 * * *', timezone: 'UTC', hasSeconds: false, fixedTime: true };
    expect(nextCronSlot(foreign, new Date('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2026-01-01T09:00:00.000Z');
  });
});

/**
 * A literal model of cronie's main loop (src/cron.c): one wake-up per real minute; the local
 * minute count is compared with a virtual clock and classified as normal (+1), small (<= 5), medium
 * (<= 3 h: wildcard jobs for the current minute, fixed jobs for every skipped minute), negative
 * (only wildcard jobs, virtual time waits) or large. Our slot computation must fire exactly where
 * this model fires, minute for minute, around every transition.
 */
function cronieModel(expression: string, zone: string, fromMs: number, toMs: number): string[] {
  const { fields } = CronExpressionParser.parse(expression);
  const wildcard = /^\*/.test(expression.split(' ')[0] ?? '') || /^\*/.test(expression.split(' ')[1] ?? '');
  const z = IANAZone.create(zone);
  const localMinute = (ms: number): number => Math.floor((ms + z.offset(ms) * 60_000) / 60_000);
  const matches = (minute: number): boolean => {
    const d = new Date(minute * 60_000);
    return (
      fields.minute.values.includes(d.getUTCMinutes() as never) &&
      fields.hour.values.includes(d.getUTCHours() as never) &&
      fields.dayOfMonth.values.includes(d.getUTCDate() as never) &&
      fields.month.values.includes((d.getUTCMonth() + 1) as never)
    );
  };
  const fired = new Set<number>();
  const run = (at: number, minute: number, wild: boolean, nonWild: boolean): void => {
    if (matches(minute) && ((wild && wildcard) || (nonWild && !wildcard))) fired.add(at);
  };
  let virtual = localMinute(fromMs);
  for (let at = fromMs + 60_000; at <= toMs; at += 60_000) {
    const running = localMinute(at);
    const diff = running - virtual;
    if (diff === 1) {
      virtual = running;
      run(at, virtual, true, true);
    } else if (diff > 180 || diff < -180) {
      virtual = running;
      run(at, running, true, true);
    } else if (diff > 5) {
      run(at, running, true, false);
      while (virtual < running) run(at, ++virtual, false, true);
    } else if (diff > 0) {
      while (virtual < running) run(at, ++virtual, true, true);
    } else {
      run(at, running, true, false);
    }
  }
  return [...fired].sort((a, b) => a - b).map((ms) => new Date(ms).toISOString());
}

function ours(expression: string, zone: string, fromMs: number, toMs: number): string[] {
  const cron = compileCron(expression, zone);
  const out: string[] = [];
  for (let slot = nextCronSlot(cron, new Date(fromMs)); slot !== null && slot.getTime() <= toMs; slot = nextCronSlot(cron, slot)) {
    out.push(slot.toISOString());
  }
  return out;
}

describe('agreement with a model of cronie around every 2026 transition', () => {
  const transitions: [string, string][] = [
    ['America/New_York', '2026-03-08T07:00:00Z'],
    ['America/New_York', '2026-11-01T06:00:00Z'],
    ['Europe/London', '2026-03-29T01:00:00Z'],
    ['Europe/London', '2026-10-25T01:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
    ['Australia/Lord_Howe', '2026-10-03T15:30:00Z'],
  ];
  const expressions = [
    '30 2 * * *', '0 2 * * *', '0,30 2 * * *', '30 1 * * *', '0,15,30,45 1-3 * * *', '59 1 * * *',
    '0 3 * * *', '*/30 * * * *', '0 * * * *', '*/7 * * * *', '* 2 * * *', '15 */2 * * *',
  ];
  for (const [zone, at] of transitions) {
    it(`${zone} ${at}`, () => {
      const from = Date.parse(at) - 30 * 3_600_000;
      const to = Date.parse(at) + 30 * 3_600_000;
      for (const expression of expressions) {
        const expected = cronieModel(expression, zone, from, to);
        expect(expected.length, expression).toBeGreaterThan(0);
        expect(ours(expression, zone, from, to), `${expression} in ${zone}`).toEqual(expected);
      }
    });
  }
});
