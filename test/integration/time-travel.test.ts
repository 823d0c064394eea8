/**
 * The test kit used exactly as an application's tests use it: imported by the package's name
 * (`@intellibrowse/scheduler/testing`, which vitest.config.ts resolves to the sources), a
 * scheduler on the time-travel harness moved through DST nights in Europe/Berlin and a month of
 * cron slots, asserting what ran. docs/testing.md shows the same cases.
 */
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { TimeTravel } from '@intellibrowse/scheduler/testing';

let travel: TimeTravel;
afterEach(async () => {
  await travel.stop();
});

/** Wall time in Berlin with its offset, as a person there reads it: `2026-03-29 03:00 +02:00`. */
const berlin = (date: Date): string => DateTime.fromJSDate(date, { zone: 'Europe/Berlin' }).toFormat('yyyy-MM-dd HH:mm ZZ');

describe('a DST night in Europe/Berlin', () => {
  it('spring forward: 02:30 runs once, right after the jump; the hourly job runs 23 times that day', async () => {
    travel = new TimeTravel({ start: '2026-03-28T12:00:00Z' });
    travel.scheduler.register('backup', () => 'done');
    travel.scheduler.register('ping', () => 'pong');
    await travel.scheduler.addTrigger({ id: 'nightly', handler: 'backup', schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' } });
    await travel.scheduler.addTrigger({ id: 'hourly', handler: 'ping', schedule: { cron: '0 * * * *', timezone: 'Europe/Berlin' } });
    await travel.start();

    await travel.advanceTo('2026-03-30T12:00:00Z');

    const nightly = travel.runs.filter((run) => run.triggerId === 'nightly');
    expect(nightly.map((run) => berlin(run.startedAt))).toEqual(['2026-03-29 03:00 +02:00', '2026-03-30 02:30 +02:00']);
    expect(nightly.every((run) => run.outcome === 'succeeded')).toBe(true);
    const sunday = travel.runs.filter((run) => run.triggerId === 'hourly' && berlin(run.scheduledFor).startsWith('2026-03-29'));
    expect(sunday).toHaveLength(23);
    expect(sunday.map((run) => berlin(run.scheduledFor).slice(11, 13))).not.toContain('02');
  });

  it('fall back: 02:30 runs once although the hour repeats; the hourly job runs 25 times that day', async () => {
    travel = new TimeTravel({ start: '2026-10-24T12:00:00Z' });
    travel.scheduler.register('backup', () => 'done');
    travel.scheduler.register('ping', () => 'pong');
    await travel.scheduler.addTrigger({ id: 'nightly', handler: 'backup', schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' } });
    await travel.scheduler.addTrigger({ id: 'hourly', handler: 'ping', schedule: { cron: '0 * * * *', timezone: 'Europe/Berlin' } });
    await travel.start();

    await travel.advanceTo('2026-10-26T12:00:00Z');

    const nightly = travel.runs.filter((run) => run.triggerId === 'nightly');
    expect(nightly.map((run) => berlin(run.startedAt))).toEqual(['2026-10-25 02:30 +02:00', '2026-10-26 02:30 +01:00']);
    const sunday = travel.runs.filter((run) => run.triggerId === 'hourly' && berlin(run.scheduledFor).startsWith('2026-10-25'));
    expect(sunday).toHaveLength(25);
    // 02:00 twice: once in summer time, once in winter time.
    expect(sunday.map((run) => berlin(run.scheduledFor)).filter((text) => text.slice(11, 13) === '02')).toEqual([
      '2026-10-25 02:00 +02:00',
      '2026-10-25 02:00 +01:00',
    ]);
  });
});

describe('a month of cron slots', () => {
  it('weekdays at 09:00 Berlin in March 2026: 22 runs, each on its slot, with what each handler saw', async () => {
    travel = new TimeTravel({ start: '2026-03-01T00:00:00Z' });
    const seen: string[] = [];
    travel.scheduler.register('report', (ctx) => {
      seen.push(ctx.job.scheduledFor.toISOString());
      return { day: berlin(ctx.job.scheduledFor).slice(0, 10) };
    });
    await travel.scheduler.addTrigger({
      id: 'daily-report',
      handler: 'report',
      schedule: { cron: '0 9 * * MON-FRI', timezone: 'Europe/Berlin' },
    });
    await travel.start();

    await travel.advanceTo('2026-04-01T00:00:00Z');

    expect(travel.runs).toHaveLength(22);
    expect(travel.runs.every((run) => run.startedAt.getTime() === run.scheduledFor.getTime() && run.outcome === 'succeeded')).toBe(true);
    // 09:00 is 08:00Z before the 29th and 07:00Z after it; no Saturday or Sunday.
    expect(seen[0]).toBe('2026-03-02T08:00:00.000Z');
    expect(seen.at(-1)).toBe('2026-03-31T07:00:00.000Z');
    expect(travel.runs.map((run) => new Date(run.scheduledFor).getUTCDay()).filter((day) => day === 0 || day === 6)).toEqual([]);
    const jobs = await travel.jobs({ triggerId: 'daily-report' });
    expect(jobs.map((job) => job.result)).toContainEqual({ day: '2026-03-31' });
    expect(jobs.every((job) => job.status === 'succeeded')).toBe(true);
  });
});
