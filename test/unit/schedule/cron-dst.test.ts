/**
 * DST tables: expected instants were worked out by hand from the zones' 2026 rules (see each block),
 * not produced by the code under test.
 *
 * America/New_York: 2026-03-08 07:00Z EST->EDT (02:00-02:59 local skipped);
 *                   2026-11-01 06:00Z EDT->EST (01:00-01:59 local repeated).
 * Europe/London:    2026-03-29 01:00Z GMT->BST (01:00-01:59 local skipped);
 *                   2026-10-25 01:00Z BST->GMT (01:00-01:59 local repeated).
 * Australia/Lord_Howe: 2026-04-04 15:00Z +11:00->+10:30 (local 2026-04-05 01:30-01:59 repeated);
 *                      2026-10-03 15:30Z +10:30->+11:00 (local 2026-10-04 02:00-02:29 skipped).
 */
import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { compileCron, nextCronSlot } from '../../../src/schedule/index.js';

function slots(expression: string, zone: string, fromIso: string, count: number): string[] {
  const cron = compileCron(expression, zone);
  const out: string[] = [];
  let after = new Date(fromIso);
  for (let i = 0; i < count; i++) {
    const next = nextCronSlot(cron, after);
    if (next === null) break;
    out.push(next.toISOString());
    after = next;
  }
  return out;
}

describe('zone transitions assumed by the tables', () => {
  it.each([
    ['America/New_York', '2026-03-08T07:00:00.000Z', -300, -240],
    ['America/New_York', '2026-11-01T06:00:00.000Z', -240, -300],
    ['Europe/London', '2026-03-29T01:00:00.000Z', 0, 60],
    ['Europe/London', '2026-10-25T01:00:00.000Z', 60, 0],
    ['Australia/Lord_Howe', '2026-04-04T15:00:00.000Z', 660, 630],
    ['Australia/Lord_Howe', '2026-10-03T15:30:00.000Z', 630, 660],
  ])('%s changes offset at %s', (zone, at, before, after) => {
    const z = IANAZone.create(zone);
    const ms = Date.parse(at);
    expect(z.offset(ms - 1)).toBe(before);
    expect(z.offset(ms)).toBe(after);
  });
});

describe('America/New_York', () => {
  const zone = 'America/New_York';

  it('30 2 * * * fires at the jump on the spring day, at 02:30 EDT after', () => {
    expect(slots('30 2 * * *', zone, '2026-03-07T00:00:00Z', 3)).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:00:00.000Z', // 02:30 does not exist -> 03:00 EDT
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
    ]);
  });

  it('30 2 * * * fires once on the fall-back day (02:30 is not repeated)', () => {
    expect(slots('30 2 * * *', zone, '2026-10-31T00:00:00Z', 3)).toEqual([
      '2026-10-31T06:30:00.000Z', // 02:30 EDT
      '2026-11-01T07:30:00.000Z', // 02:30 EST
      '2026-11-02T07:30:00.000Z',
    ]);
  });

  it('0 2 * * * across both transitions', () => {
    expect(slots('0 2 * * *', zone, '2026-03-07T00:00:00Z', 3)).toEqual([
      '2026-03-07T07:00:00.000Z',
      '2026-03-08T07:00:00.000Z', // skipped -> 03:00 EDT
      '2026-03-09T06:00:00.000Z',
    ]);
    expect(slots('0 2 * * *', zone, '2026-10-31T00:00:00Z', 3)).toEqual([
      '2026-10-31T06:00:00.000Z', // 02:00 EDT
      '2026-11-01T07:00:00.000Z', // 02:00 EST (the clock shows 01:00 EST at 06:00Z)
      '2026-11-02T07:00:00.000Z',
    ]);
  });

  it('0,30 2 * * * collapses the skipped times into one slot', () => {
    expect(slots('0,30 2 * * *', zone, '2026-03-07T00:00:00Z', 5)).toEqual([
      '2026-03-07T07:00:00.000Z',
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:00:00.000Z', // 02:00 and 02:30 both -> 03:00 EDT, once
      '2026-03-09T06:00:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
  });

  it('30 1 * * * fires once in the repeated hour, at its first occurrence', () => {
    expect(slots('30 1 * * *', zone, '2026-10-31T00:00:00Z', 3)).toEqual([
      '2026-10-31T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT (first pass); 06:30Z = 01:30 EST is not a slot
      '2026-11-02T06:30:00.000Z', // 01:30 EST
    ]);
  });

  it('*/30 * * * * follows elapsed time across both transitions', () => {
    expect(slots('*/30 * * * *', zone, '2026-03-08T06:00:00Z', 4)).toEqual([
      '2026-03-08T06:30:00.000Z', // 01:30 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT
      '2026-03-08T07:30:00.000Z',
      '2026-03-08T08:00:00.000Z',
    ]);
    expect(slots('*/30 * * * *', zone, '2026-11-01T05:00:00Z', 5)).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T06:00:00.000Z', // 01:00 EST (second pass)
      '2026-11-01T06:30:00.000Z', // 01:30 EST
      '2026-11-01T07:00:00.000Z', // 02:00 EST
      '2026-11-01T07:30:00.000Z',
    ]);
  });

  it('0 * * * * across both transitions', () => {
    expect(slots('0 * * * *', zone, '2026-03-08T05:30:00Z', 3)).toEqual([
      '2026-03-08T06:00:00.000Z', // 01:00 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT (no 02:00)
      '2026-03-08T08:00:00.000Z',
    ]);
    expect(slots('0 * * * *', zone, '2026-11-01T04:30:00Z', 4)).toEqual([
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T06:00:00.000Z', // 01:00 EST
      '2026-11-01T07:00:00.000Z', // 02:00 EST
      '2026-11-01T08:00:00.000Z',
    ]);
  });

  it('6-field form: 30 30 2 * * * fires at the jump, 0 30 1 * * * once on fall back', () => {
    expect(slots('30 30 2 * * *', zone, '2026-03-07T00:00:00Z', 3)).toEqual([
      '2026-03-07T07:30:30.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:30:30.000Z',
    ]);
    expect(slots('0 30 1 * * *', zone, '2026-10-31T12:00:00Z', 2)).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('6-field wildcard seconds follow elapsed time through the repeated hour', () => {
    // `*/20 59 1 * * *`: the wildcard seconds make it a wildcard entry, so 01:59 fires on both passes.
    expect(slots('*/20 59 1 * * *', zone, '2026-11-01T05:58:00Z', 6)).toEqual([
      '2026-11-01T05:59:00.000Z',
      '2026-11-01T05:59:20.000Z',
      '2026-11-01T05:59:40.000Z',
      '2026-11-01T06:59:00.000Z',
      '2026-11-01T06:59:20.000Z',
      '2026-11-01T06:59:40.000Z',
    ]);
  });
});

describe('Europe/London', () => {
  const zone = 'Europe/London';

  it('30 1 * * *: skipped on the spring day -> at the jump; repeated in the autumn -> once', () => {
    expect(slots('30 1 * * *', zone, '2026-03-28T00:00:00Z', 3)).toEqual([
      '2026-03-28T01:30:00.000Z', // 01:30 GMT
      '2026-03-29T01:00:00.000Z', // 01:30 does not exist -> 02:00 BST
      '2026-03-30T00:30:00.000Z', // 01:30 BST
    ]);
    expect(slots('30 1 * * *', zone, '2026-10-24T00:00:00Z', 3)).toEqual([
      '2026-10-24T00:30:00.000Z', // 01:30 BST
      '2026-10-25T00:30:00.000Z', // 01:30 BST, first occurrence only
      '2026-10-26T01:30:00.000Z', // 01:30 GMT
    ]);
  });

  it('30 2 * * * and 0 2 * * * exist on both days (London skips/repeats 01:xx)', () => {
    expect(slots('30 2 * * *', zone, '2026-03-28T00:00:00Z', 3)).toEqual([
      '2026-03-28T02:30:00.000Z',
      '2026-03-29T01:30:00.000Z', // 02:30 BST
      '2026-03-30T01:30:00.000Z',
    ]);
    expect(slots('30 2 * * *', zone, '2026-10-24T00:00:00Z', 3)).toEqual([
      '2026-10-24T01:30:00.000Z',
      '2026-10-25T02:30:00.000Z', // 02:30 GMT
      '2026-10-26T02:30:00.000Z',
    ]);
    expect(slots('0 2 * * *', zone, '2026-03-28T00:00:00Z', 3)).toEqual([
      '2026-03-28T02:00:00.000Z',
      '2026-03-29T01:00:00.000Z', // 02:00 BST is the first instant after the jump
      '2026-03-30T01:00:00.000Z',
    ]);
    expect(slots('0 2 * * *', zone, '2026-10-24T00:00:00Z', 3)).toEqual([
      '2026-10-24T01:00:00.000Z', // 02:00 BST
      '2026-10-25T02:00:00.000Z', // 02:00 GMT
      '2026-10-26T02:00:00.000Z',
    ]);
  });

  it('0,30 1 * * * is one slot on the spring day; 0,30 2 * * * is two', () => {
    expect(slots('0,30 1 * * *', zone, '2026-03-28T12:00:00Z', 3)).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
    expect(slots('0,30 2 * * *', zone, '2026-03-28T12:00:00Z', 2)).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01:30:00.000Z',
    ]);
  });

  it('*/30 * * * * and 0 * * * * follow elapsed time', () => {
    expect(slots('*/30 * * * *', zone, '2026-03-29T00:00:00Z', 3)).toEqual([
      '2026-03-29T00:30:00.000Z', // 00:30 GMT
      '2026-03-29T01:00:00.000Z', // 02:00 BST
      '2026-03-29T01:30:00.000Z',
    ]);
    expect(slots('*/30 * * * *', zone, '2026-10-25T00:00:00Z', 4)).toEqual([
      '2026-10-25T00:30:00.000Z', // 01:30 BST
      '2026-10-25T01:00:00.000Z', // 01:00 GMT
      '2026-10-25T01:30:00.000Z', // 01:30 GMT
      '2026-10-25T02:00:00.000Z',
    ]);
    expect(slots('0 * * * *', zone, '2026-03-29T00:00:00Z', 2)).toEqual([
      '2026-03-29T01:00:00.000Z', // 02:00 BST
      '2026-03-29T02:00:00.000Z',
    ]);
    expect(slots('0 * * * *', zone, '2026-10-24T23:30:00Z', 3)).toEqual([
      '2026-10-25T00:00:00.000Z', // 01:00 BST
      '2026-10-25T01:00:00.000Z', // 01:00 GMT
      '2026-10-25T02:00:00.000Z',
    ]);
  });
});

describe('Australia/Lord_Howe (30-minute shifts)', () => {
  const zone = 'Australia/Lord_Howe';

  it('0 2 * * * fires once on both transition days', () => {
    expect(slots('0 2 * * *', zone, '2026-04-03T00:00:00Z', 3)).toEqual([
      '2026-04-03T15:00:00.000Z', // 04-04 02:00 +11:00
      '2026-04-04T15:30:00.000Z', // 04-05 02:00 +10:30 (the clock went 02:00 -> 01:30 at 15:00Z)
      '2026-04-05T15:30:00.000Z',
    ]);
    expect(slots('0 2 * * *', zone, '2026-10-02T00:00:00Z', 3)).toEqual([
      '2026-10-02T15:30:00.000Z', // 10-03 02:00 +10:30
      '2026-10-03T15:30:00.000Z', // 10-04 02:00 skipped -> 02:30 +11:00
      '2026-10-04T15:00:00.000Z', // 10-05 02:00 +11:00
    ]);
  });

  it('0 2 * * * fires exactly once on every local day of 2026', () => {
    const all = slots('0 2 * * *', zone, '2025-12-31T00:00:00Z', 400).filter(
      (iso) => iso >= '2025-12-31T13:00:00.000Z' && iso < '2026-12-31T13:00:00.000Z',
    );
    const z = IANAZone.create(zone);
    const days = all.map((iso) => {
      const ms = Date.parse(iso);
      return new Date(ms + z.offset(ms) * 60_000).toISOString().slice(0, 10);
    });
    expect(days).toHaveLength(365);
    expect(new Set(days).size).toBe(365);
    expect(days[0]).toBe('2026-01-01');
    expect(days[364]).toBe('2026-12-31');
  });

  it('30 2 * * * on both transition days', () => {
    expect(slots('30 2 * * *', zone, '2026-04-03T00:00:00Z', 2)).toEqual([
      '2026-04-03T15:30:00.000Z', // 04-04 02:30 +11:00
      '2026-04-04T16:00:00.000Z', // 04-05 02:30 +10:30
    ]);
    expect(slots('30 2 * * *', zone, '2026-10-02T12:00:00Z', 3)).toEqual([
      '2026-10-02T16:00:00.000Z', // 10-03 02:30 +10:30
      '2026-10-03T15:30:00.000Z', // 10-04 02:30 +11:00 exists: it is the jump instant
      '2026-10-04T15:30:00.000Z',
    ]);
  });

  it('0,30 2 * * * is one slot on the October day', () => {
    expect(slots('0,30 2 * * *', zone, '2026-10-03T12:00:00Z', 3)).toEqual([
      '2026-10-03T15:30:00.000Z',
      '2026-10-04T15:00:00.000Z',
      '2026-10-04T15:30:00.000Z',
    ]);
  });

  it('30 1 * * * fires once in the repeated half hour', () => {
    expect(slots('30 1 * * *', zone, '2026-04-03T00:00:00Z', 3)).toEqual([
      '2026-04-03T14:30:00.000Z', // 04-04 01:30 +11:00
      '2026-04-04T14:30:00.000Z', // 04-05 01:30 +11:00 (first pass; 15:00Z is the second)
      '2026-04-05T15:00:00.000Z', // 04-06 01:30 +10:30
    ]);
  });

  it('*/30 * * * * follows elapsed time', () => {
    expect(slots('*/30 * * * *', zone, '2026-04-04T14:00:00Z', 3)).toEqual([
      '2026-04-04T14:30:00.000Z', // 01:30 +11:00
      '2026-04-04T15:00:00.000Z', // 01:30 +10:30 (second pass)
      '2026-04-04T15:30:00.000Z', // 02:00 +10:30
    ]);
    expect(slots('*/30 * * * *', zone, '2026-10-03T15:00:00Z', 2)).toEqual([
      '2026-10-03T15:30:00.000Z', // 02:30 +11:00 (02:00 skipped)
      '2026-10-03T16:00:00.000Z',
    ]);
  });

  it('0 * * * * across both transitions', () => {
    expect(slots('0 * * * *', zone, '2026-04-04T13:30:00Z', 3)).toEqual([
      '2026-04-04T14:00:00.000Z', // 01:00 +11:00 (01:00 is not in the repeated half hour)
      '2026-04-04T15:30:00.000Z', // 02:00 +10:30
      '2026-04-04T16:30:00.000Z',
    ]);
    expect(slots('0 * * * *', zone, '2026-10-03T14:00:00Z', 2)).toEqual([
      '2026-10-03T14:30:00.000Z', // 01:00 +10:30
      '2026-10-03T16:00:00.000Z', // 03:00 +11:00 (02:00 does not exist; wildcard entries skip it)
    ]);
  });
});
