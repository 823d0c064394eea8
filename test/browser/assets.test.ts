/**
 * The page's script as the browser gets it: the bundle parses as a classic script, and its pure
 * helpers (client/words.ts, the module the bundle is built from) say the right words.
 */
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { dashboardAssets } from '../../src/dashboard/assets/index.js';
import * as clientWords from '../../src/dashboard/client/words.js';
import { escapeHtml, renderPage } from '../../src/dashboard/assets/page.js';

const { script: SCRIPT_ASSET, style: STYLE_ASSET } = dashboardAssets();

interface Words {
  describeCron(expression: string): string;
  describeSchedule(schedule: unknown, localTime?: (iso: string) => string): string;
  intervalWords(ms: number): string;
  formatDuration(ms: number | null): string;
  formatBytes(n: number | null): string;
  relativeTime(iso: string, now: number): string;
  fmtTime(iso: string | null, zone?: string): string;
  fmtZoned(iso: string | null, zone?: string): string;
  zoneLabel(iso: string, zone?: string): string;
}

function words(): Words {
  return clientWords;
}

describe('dashboard assets', () => {
  it('labels every time with the UTC offset of its zone at that instant (DST included)', () => {
    const w = words();
    // Berlin is UTC+1 in winter and UTC+2 after the jump on 29 March 2026.
    expect(w.fmtZoned('2026-03-29T00:30:00Z', 'Europe/Berlin')).toBe('2026-03-29 01:30:00\u00a0UTC+1');
    expect(w.fmtZoned('2026-03-29T01:30:00Z', 'Europe/Berlin')).toBe('2026-03-29 03:30:00\u00a0UTC+2');
    expect(w.zoneLabel('2026-07-01T12:00:00Z', 'America/New_York')).toBe('UTC-4');
    expect(w.zoneLabel('2026-07-01T12:00:00Z', 'Asia/Kolkata')).toBe('UTC+5:30');
    expect(w.fmtTime('2026-07-01T12:00:00Z', 'Asia/Kolkata')).toBe('2026-07-01 17:30:00');
    expect(w.fmtZoned(null, 'UTC')).toBe('—');
  });

  it('serves a script that parses and names its files by content hash', () => {
    expect(() => new Script(SCRIPT_ASSET.body.toString('utf8'))).not.toThrow();
    expect(SCRIPT_ASSET.file).toMatch(/^dashboard\.[0-9a-f]{12}\.js$/);
    expect(STYLE_ASSET.file).toMatch(/^dashboard\.[0-9a-f]{12}\.css$/);
  });

  it('escapes the title and carries the configuration in data attributes', () => {
    const html = renderPage({
      title: '<b>"ops"</b>',
      scriptFile: 'a.js',
      styleFile: 'a.css',
      iconFile: 'a.svg',
      auth: 'jwt',
      readOnly: true,
    });
    expect(html).toContain('&lt;b&gt;&quot;ops&quot;&lt;/b&gt;');
    expect(html).not.toContain('<b>"ops"</b>');
    expect(html).toContain('data-auth="jwt" data-read-only="true"');
    expect(html).not.toMatch(/<script>|style="/);
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('describes cron expressions in words', () => {
    const w = words();
    expect(w.describeCron('0 9 * * MON-FRI')).toBe('at 09:00, Monday to Friday');
    expect(w.describeCron('30 2 * * *')).toBe('at 02:30, every day');
    expect(w.describeCron('*/5 * * * *')).toBe('every 5 minutes');
    expect(w.describeCron('* * * * *')).toBe('every minute');
    expect(w.describeCron('0 * * * *')).toBe('every hour, on the hour');
    expect(w.describeCron('15 * * * *')).toBe('every hour at 15 minutes past');
    expect(w.describeCron('0 9,17 * * *')).toBe('at 09:00 and at 17:00, every day');
    expect(w.describeCron('0 0 1 * *')).toBe('at 00:00, on the 1st of the month');
    expect(w.describeCron('0 8 * 1,7 SAT')).toBe('at 08:00, on Saturday, in January and July');
    expect(w.describeCron('*/10 * * * * *')).toBe('every 10 seconds');
    expect(w.describeCron('@daily')).toBe('at 00:00, every day');
    expect(w.describeCron('0 12 L * *')).toBe('cron 0 12 L * *');
    expect(w.describeCron('not a cron')).toBe('cron not a cron');
  });

  it('describes every schedule kind', () => {
    const w = words();
    expect(w.describeSchedule({ kind: 'every', every: 30_000 })).toBe('every 30 seconds');
    expect(w.describeSchedule({ kind: 'every', every: 7_200_000 })).toBe('every 2 hours');
    expect(w.describeSchedule({ kind: 'every', every: 1500 })).toBe('every 1500 ms');
    expect(w.describeSchedule({ kind: 'at', at: '2026-03-02T09:00:00.000Z' }, () => 'LOCAL')).toBe('once, LOCAL');
    expect(w.describeSchedule({ kind: 'manual' })).toBe('manually (run now only)');
    expect(w.describeSchedule({ kind: 'event', event: 'testrun.finished', filter: { suite: 'smoke' } })).toBe(
      'on event "testrun.finished" where suite = "smoke"',
    );
    expect(w.describeSchedule({ kind: 'after', after: 'build', on: 'failure' })).toBe('when "build" fails');
    expect(w.describeSchedule(null)).toBe('unknown schedule');
  });

  it('formats durations, bytes and relative times', () => {
    const w = words();
    expect(w.formatDuration(null)).toBe('—');
    expect(w.formatDuration(850)).toBe('850 ms');
    expect(w.formatDuration(1234)).toBe('1.23 s');
    expect(w.formatDuration(125_000)).toBe('2 min 05 s');
    expect(w.formatBytes(512)).toBe('512 B');
    expect(w.formatBytes(1536)).toBe('1.50 KiB');
    expect(w.formatBytes(-2048)).toBe('−2.00 KiB');
    const now = Date.UTC(2026, 0, 1);
    expect(w.relativeTime(new Date(now + 5 * 60_000).toISOString(), now)).toBe('in 5 min');
    expect(w.relativeTime(new Date(now - 3 * 3_600_000).toISOString(), now)).toBe('3 h ago');
  });
});
