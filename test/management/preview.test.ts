/**
 * DST marks of fire-time previews, against the schedule layer's cronie rule.
 */
import { describe, expect, it } from 'vitest';
import { previews } from '../../src/management/preview.js';
import { nextFireTimes } from '../../src/schedule/index.js';

function preview(cron: string, timezone: string, from: string, count: number) {
  return previews({ kind: 'cron', cron, timezone }, nextFireTimes({ cron, timezone }, { from, count })).map((p) => `${p.at} ${p.local} ${p.dst ?? '-'}`);
}

describe('DST marks', () => {
  it('a fixed time in the skipped hour fires at the jump, marked skipped-hour', () => {
    // New York springs forward on 2026-03-08 at 02:00 EST (07:00Z) to 03:00 EDT.
    expect(preview('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 3)).toEqual([
      '2026-03-08T07:00:00.000Z 2026-03-08 03:00 skipped-hour',
      '2026-03-09T06:30:00.000Z 2026-03-09 02:30 -',
      '2026-03-10T06:30:00.000Z 2026-03-10 02:30 -',
    ]);
  });

  it('a fixed time that exists at the jump instant is not marked', () => {
    expect(preview('0 3 * * *', 'America/New_York', '2026-03-08T00:00:00Z', 1)).toEqual(['2026-03-08T07:00:00.000Z 2026-03-08 03:00 -']);
  });

  it('wildcard entries skip the missing hour and carry no mark', () => {
    expect(preview('*/30 * * * *', 'America/New_York', '2026-03-08T06:30:00Z', 3)).toEqual([
      '2026-03-08T06:30:00.000Z 2026-03-08 01:30 -',
      '2026-03-08T07:00:00.000Z 2026-03-08 03:00 -',
      '2026-03-08T07:30:00.000Z 2026-03-08 03:30 -',
    ]);
  });

  it('times in the repeated hour are marked repeated-hour, on both passes for wildcard entries', () => {
    // New York falls back on 2026-11-01 at 02:00 EDT (06:00Z) to 01:00 EST.
    expect(preview('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2)).toEqual([
      '2026-11-01T05:30:00.000Z 2026-11-01 01:30 repeated-hour',
      '2026-11-02T06:30:00.000Z 2026-11-02 01:30 -',
    ]);
    expect(preview('*/30 * * * *', 'America/New_York', '2026-11-01T04:30:00Z', 6)).toEqual([
      '2026-11-01T04:30:00.000Z 2026-11-01 00:30 -',
      '2026-11-01T05:00:00.000Z 2026-11-01 01:00 repeated-hour',
      '2026-11-01T05:30:00.000Z 2026-11-01 01:30 repeated-hour',
      '2026-11-01T06:00:00.000Z 2026-11-01 01:00 repeated-hour',
      '2026-11-01T06:30:00.000Z 2026-11-01 01:30 repeated-hour',
      '2026-11-01T07:00:00.000Z 2026-11-01 02:00 -',
    ]);
  });

  it('UTC and interval schedules are never marked', () => {
    expect(preview('30 2 * * *', 'UTC', '2026-03-08T00:00:00Z', 1)).toEqual(['2026-03-08T02:30:00.000Z 2026-03-08 02:30 -']);
    const every = previews({ kind: 'every', every: 3_600_000, startAt: new Date('2026-03-08T06:00:00Z'), endAt: null }, [new Date('2026-03-08T07:00:00Z')]);
    expect(every).toEqual([{ at: '2026-03-08T07:00:00.000Z', local: '2026-03-08 07:00', timezone: 'UTC', dst: null }]);
  });
});
