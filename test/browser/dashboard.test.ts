/**
 * The dashboard in a real browser (Debian Chromium, headless) on the memory backend: what the
 * views show, and that the buttons change the store.
 */
import type { Browser, Page } from 'playwright-core';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SchedulerOptions } from '../../src/engine/options.js';
import { Scheduler } from '../../src/scheduler.js';
import type { Weekday } from '../../src/types.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import {
  addDemoTriggers,
  launchBrowser,
  registerDemoHandlers,
  screenshot,
  serveDashboard,
  waitFor,
  waitForJob,
  watchPageErrors,
  type Served,
} from './harness.js';


const JWT_SECRET = 'dashboard-test-secret-0123456789abcdef';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** What the page's sessionStorage is to this test (tsconfig has no DOM lib). */
/** What these tests read of a page element (the tsconfig has no DOM types). */
interface Tagged {
  getAttribute(name: string): string | null;
}

interface Storage {
  length: number;
}

interface Rig {
  scheduler: Scheduler;
  served: Served;
  page: Page;
  problems: string[];
  stores: { triggerStore: MemoryTriggerStore; jobStore: MemoryJobStore; lockManager: MemoryLockManager };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function rig(
  options: Partial<Parameters<typeof serveDashboard>[1]> = {},
  schedulerOptions: SchedulerOptions = {},
): Promise<Rig> {
  const stores = { triggerStore: new MemoryTriggerStore(), jobStore: new MemoryJobStore(), lockManager: new MemoryLockManager() };
  const scheduler = new Scheduler({ ...stores, instanceId: 'dash-1', pollIntervalMs: 200, ...schedulerOptions });
  registerDemoHandlers(scheduler);
  await scheduler.start();
  cleanups.push(() => scheduler.stop({ graceful: false }));
  await addDemoTriggers(scheduler);
  const served = await serveDashboard(scheduler, { auth: { none: true }, ...options });
  cleanups.push(() => served.close());
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: 'light' });
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const problems = watchPageErrors(page);
  return { scheduler, served, page, problems, stores };
}

function triggerRow(page: Page, id: string) {
  return page.locator(`#triggers-table tr[data-trigger-id="${id}"]`);
}

/** An HS256 token for the JWT tests, with the given scopes. */
function tokenWith(scope: string): Promise<string> {
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('test-idp')
    .setAudience('scheduler')
    .setSubject('operator')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(JWT_SECRET));
}

const JWT_AUTH = { jwt: { secret: JWT_SECRET, algorithms: ['HS256' as const], issuer: 'test-idp', audience: 'scheduler' } };

describe('dashboard in Chromium (memory backend)', () => {
  it('lists triggers with the schedule in words, zone and next run; Pause and Resume change the store', async () => {
    const { scheduler, served, page, problems } = await rig();
    await page.goto(served.url);
    const row = triggerRow(page, 'daily-report');
    await expect.poll(() => row.count()).toBe(1);
    const cells = await row.locator('td').allInnerTexts();
    expect(cells[0]).toContain('Daily report');
    expect(cells[1]).toContain('at 09:00, Monday to Friday');
    expect(cells[1]).toContain('0 9 * * MON-FRI');
    expect(cells[2]).toBe('Europe/Berlin');
    const next = (await scheduler.getTrigger('daily-report'))?.nextRunAt ?? null;
    expect(next).not.toBeNull();
    expect(await row.locator('td').nth(3).getAttribute('title')).toBe(next?.toISOString());
    expect(cells[5]).toBe('active');
    expect(await triggerRow(page, 'reindex').locator('td').nth(1).innerText()).toContain('manually');
    expect(await triggerRow(page, 'on-deploy').locator('td').nth(1).innerText()).toContain('on event "deploy.finished" where env = "prod"');
    await screenshot(page, 'triggers');

    await row.getByRole('button', { name: 'Pause Daily report' }).click();
    await waitFor(async () => ((await scheduler.getTrigger('daily-report'))?.status === 'paused' ? true : undefined), 'paused in store');
    await expect.poll(() => row.locator('.badge').innerText()).toBe('paused');
    await row.getByRole('button', { name: 'Resume Daily report' }).click();
    await waitFor(async () => ((await scheduler.getTrigger('daily-report'))?.status === 'active' ? true : undefined), 'active in store');
    await expect.poll(() => row.locator('.badge').innerText()).toBe('active');

    // Remove asks first; accepted, the trigger is gone from the store and from the table.
    const asked: string[] = [];
    page.once('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.accept();
    });
    await triggerRow(page, 'on-deploy').getByRole('button', { name: 'Remove Notify on deploy' }).click();
    await waitFor(async () => ((await scheduler.getTrigger('on-deploy')) === null ? true : undefined), 'removed from store');
    await expect.poll(() => triggerRow(page, 'on-deploy').count()).toBe(0);
    expect(asked[0]).toContain('Notify on deploy');
    expect(problems).toEqual([]);
  });

  it('Run now writes a job to the store; jobs made elsewhere, by this and another instance, appear live', async () => {
    const { scheduler, served, page, problems, stores } = await rig();
    await page.goto(served.url);
    await triggerRow(page, 'reindex').getByRole('button', { name: 'Run Search reindex now' }).click();
    const job = await waitFor(async () => (await scheduler.listJobs({ triggerId: 'reindex' })).items[0], 'a reindex job');
    expect(job.source).toBe('manual');
    await waitForJob(scheduler, job.id, ['succeeded']);

    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    const rowOf = (id: string) => page.locator(`#jobs-table tr[data-job-id="${id}"]`);
    await expect.poll(() => rowOf(job.id).getAttribute('data-status')).toBe('succeeded');

    // Not through the page: the row must come from the event stream, without a reload.
    const local = await scheduler.runTrigger('daily-report');
    await expect.poll(() => rowOf(local.id).getAttribute('data-status'), { timeout: 10_000 }).toBe('succeeded');

    // A second instance on the same store: seen by the API's store polling, not by local events.
    const other = new Scheduler({ ...stores, instanceId: 'dash-2', pollIntervalMs: 200 });
    registerDemoHandlers(other);
    await other.start();
    cleanups.push(() => other.stop({ graceful: false }));
    const remote = await other.runTrigger('night-compaction');
    await expect.poll(() => rowOf(remote.id).getAttribute('data-status'), { timeout: 10_000 }).toMatch(/pending|running|succeeded/);
    await waitForJob(scheduler, remote.id, ['succeeded']);
    await expect.poll(() => rowOf(remote.id).getAttribute('data-status'), { timeout: 10_000 }).toBe('succeeded');
    await expect.poll(() => page.locator('#live').getAttribute('data-state')).toBe('live');
    await screenshot(page, 'jobs');

    // Live updates are announced to screen readers.
    await expect.poll(() => page.locator('#announcer').innerText(), { timeout: 5000 }).toMatch(/Job of|updates/);

    // Filters: one trigger; then a status nothing has; then a time range that holds everything.
    await page.selectOption('#jobs-trigger', 'reindex');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.locator('#jobs-table tbody tr').count()).toBe(1);
    expect(await page.locator(`#jobs-table tr[data-job-id="${job.id}"]`).count()).toBe(1);
    expect(page.url()).toContain('triggerId=reindex');
    await page.selectOption('#jobs-trigger', '');
    await page.selectOption('#jobs-status', 'failed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.locator('#jobs-table td.empty').count()).toBe(1);
    expect(page.url()).toContain('status=failed');
    await page.selectOption('#jobs-status', '');
    const local2 = (d: Date): string => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.fill('#jobs-from', local2(new Date(Date.now() - 3_600_000)));
    await page.fill('#jobs-to', local2(new Date(Date.now() + 3_600_000)));
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.locator('#jobs-table tbody tr[data-job-id]').count()).toBe(3);
    await page.fill('#jobs-to', local2(new Date(Date.now() - 1_800_000)));
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.locator('#jobs-table td.empty').count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it('Retry on a failed job writes a new job; the job detail shows error, history and metrics', async () => {
    const { scheduler, served, page, problems } = await rig();
    const failed = await scheduler.runTrigger('backup-verify');
    await waitForJob(scheduler, failed.id, ['failed']);
    await page.goto(`${served.url}#/jobs/${failed.id}`);
    await expect.poll(() => page.locator('#job-error').innerText()).toContain('disk full on /var/reports');
    expect(await page.locator('#job-error').innerText()).toContain('PermanentJobError');
    const history = await page.locator('#job-history li').evaluateAll((items) => items.map((li) => (li as unknown as Tagged).getAttribute('data-status')));
    expect(history[0]).toBe('pending');
    expect(history.at(-1)).toBe('failed');
    expect(history).toContain('running');
    const metricLabels = await page.locator('#job-metrics .label').allInnerTexts();
    expect(metricLabels.map((l) => l.toLowerCase())).toEqual(['duration', 'queued', 'cpu user', 'cpu system', 'heap']);
    expect(await page.locator('#job-metrics .value').first().innerText()).toMatch(/\d+(\.\d+)? (ms|s)/);
    await screenshot(page, 'job-detail');

    const before = (await scheduler.listJobs({ triggerId: 'backup-verify' })).items.length;
    await page.locator('#job-actions').getByRole('button', { name: `Retry job ${failed.id}` }).click();
    const retried = await waitFor(async () => {
      const items = (await scheduler.listJobs({ triggerId: 'backup-verify' })).items;
      return items.length > before ? items.find((j) => j.id !== failed.id) : undefined;
    }, 'the retried job');
    expect(retried.payload).toEqual(failed.payload);
    // The page follows the new job.
    await expect.poll(() => page.locator('#job-title').innerText()).toBe(`Job ${retried.id}`);
    expect(problems).toEqual([]);
  });

  it('Cancel on a running job asks the store to cancel it; the job ends cancelled', async () => {
    const { scheduler, served, page, problems } = await rig();
    await scheduler.addTrigger({ id: 'slow-export', name: 'Slow export', handler: 'slow', schedule: { manual: true } });
    await page.goto(`${served.url}#/jobs`);
    await expect.poll(() => page.locator('#live').getAttribute('data-state')).toBe('live');
    const running = await scheduler.runTrigger('slow-export');
    const row = page.locator(`#jobs-table tr[data-job-id="${running.id}"]`);
    await expect.poll(() => row.getAttribute('data-status')).toBe('running');
    await row.getByRole('button', { name: `Cancel job ${running.id}` }).click();
    const ended = await waitForJob(scheduler, running.id, ['cancelled']);
    expect(ended.history.at(-1)?.status).toBe('cancelled');
    await expect.poll(() => row.getAttribute('data-status')).toBe('cancelled');
    // A cancelled job can be retried, a running one cannot.
    expect(await row.getByRole('button', { name: `Retry job ${running.id}` }).count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it('the run timeline draws succeeded, failed, skipped, missed and coalesced slots apart, with a legend', async () => {
    // A slot later than 300 ms is a misfire, so a short stop is enough to lose some.
    const { scheduler, served, page, problems } = await rig({}, { misfireGraceMs: 300 });
    await scheduler.addTrigger({ id: 'tick-coalesce', name: 'Tick (run-once)', handler: 'report', schedule: { every: '1s' }, misfire: 'run-once' });
    await scheduler.addTrigger({ id: 'tick-skip', name: 'Tick (skip)', handler: 'report', schedule: { every: '1s' }, misfire: 'skip' });
    // A window that excludes today and tomorrow (UTC): every slot is recorded as a skipped job.
    const today = new Date().getUTCDay();
    const days = [0, 1, 2, 3, 4, 5, 6].filter((d) => d !== today && d !== (today + 1) % 7) as Weekday[];
    await scheduler.addTrigger({ id: 'tick-window', name: 'Tick (window)', handler: 'report', schedule: { every: '1s' }, window: { days, timezone: 'UTC' } });
    await new Promise((resolve) => setTimeout(resolve, 2200));
    // Down for a while: the slots in between are missed (skip) or folded into one run (run-once).
    await scheduler.stop({ graceful: true, timeoutMs: 3000 });
    await new Promise((resolve) => setTimeout(resolve, 3200));
    await scheduler.start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await scheduler.pauseTrigger('tick-coalesce');
    await scheduler.pauseTrigger('tick-skip');
    await scheduler.pauseTrigger('tick-window');
    const failedJob = await scheduler.runTrigger('backup-verify');
    await waitForJob(scheduler, failedJob.id, ['failed']);

    const statusesOn = async (id: string): Promise<string[]> => {
      await page.goto(`${served.url}#/triggers/${id}`);
      await expect.poll(() => page.locator(`#timeline[data-trigger-id="${id}"] svg`).count()).toBe(1);
      await expect.poll(() => page.locator('#timeline-table tbody tr').count()).toBeGreaterThan(0);
      return page.locator('#timeline svg [data-status]').evaluateAll((nodes) => nodes.map((n) => (n as unknown as Tagged).getAttribute('data-status') ?? ''));
    };
    expect(await statusesOn('tick-skip')).toEqual(expect.arrayContaining(['succeeded', 'missed']));
    const windowed = await statusesOn('tick-window');
    expect(windowed).toContain('skipped');
    expect(windowed).not.toContain('succeeded');
    expect(await page.locator('#timeline svg .f-skipped').count()).toBe(windowed.filter((s) => s === 'skipped').length);
    expect(await page.locator('#timeline-table').innerText()).toContain('outside the trigger window');
    expect(await statusesOn('backup-verify')).toEqual(['failed']);
    const coalesced = await statusesOn('tick-coalesce');
    expect(coalesced).toEqual(expect.arrayContaining(['succeeded', 'coalesced']));
    // Drawn distinctly: each kind has its own shape class; the legend names every kind.
    expect(await page.locator('#timeline svg .f-coalesced').count()).toBe(coalesced.filter((s) => s === 'coalesced').length);
    expect(await page.locator('#timeline svg .f-succeeded').count()).toBe(coalesced.filter((s) => s === 'succeeded').length);
    const legend = await page.locator('#timeline-legend li').allInnerTexts();
    for (const word of ['Succeeded', 'Failed', 'Skipped', 'Missed', 'Coalesced']) expect(legend.join('|')).toContain(word);
    expect(await page.locator('#timeline').getAttribute('aria-label')).toMatch(/coalesced/);
    await screenshot(page, 'timeline');
    await page.goto(`${served.url}#/triggers/tick-skip`);
    await expect.poll(() => page.locator('#timeline[data-trigger-id="tick-skip"] svg .f-missed').count()).toBeGreaterThan(0);
    await screenshot(page, 'timeline-missed');
    expect(problems).toEqual([]);
  });

  it('stats charts show per-status counts and per-trigger outcomes from the store', async () => {
    const { scheduler, served, page, problems } = await rig();
    for (let i = 0; i < 3; i += 1) await waitForJob(scheduler, (await scheduler.runTrigger('reindex')).id, ['succeeded']);
    await waitForJob(scheduler, (await scheduler.runTrigger('daily-report')).id, ['succeeded']);
    for (let i = 0; i < 2; i += 1) await waitForJob(scheduler, (await scheduler.runTrigger('backup-verify')).id, ['failed']);
    await page.goto(`${served.url}#/stats`);
    const bar = (chart: string, key: string) => page.locator(`#${chart} rect[data-key="${key}"]`);
    await expect.poll(() => bar('chart-status', 'succeeded').getAttribute('data-value')).toBe('4');
    expect(await bar('chart-status', 'failed').getAttribute('data-value')).toBe('2');
    expect(await page.locator('#chart-outcome').getAttribute('aria-label')).toContain('Backup verification 0 succeeded, 2 failed');
    expect(await page.locator('#chart-outcome').getAttribute('aria-label')).toContain('Search reindex 3 succeeded, 0 failed');
    expect(await page.locator('#chart-duration rect[data-key="p95"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#stats-cards').innerText()).toContain('66.7 %');
    await screenshot(page, 'stats');
    expect(problems).toEqual([]);
  });

  it('readOnly shows no write buttons, and the API behind it refuses writes', async () => {
    const { scheduler, served, page, problems } = await rig({ readOnly: true });
    const failed = await scheduler.runTrigger('backup-verify');
    await waitForJob(scheduler, failed.id, ['failed']);
    await page.goto(served.url);
    await expect.poll(() => triggerRow(page, 'daily-report').count()).toBe(1);
    expect(await page.locator('.mode').innerText()).toBe('Read-only');
    expect(await page.locator('#triggers-table button').count()).toBe(0);
    expect(await page.locator('#triggers-table a', { hasText: 'Timeline' }).count()).toBeGreaterThan(0);
    await page.goto(`${served.url}#/jobs/${failed.id}`);
    await expect.poll(() => page.locator('#job-error').innerText()).toContain('disk full');
    expect(await page.locator('#job-actions button').count()).toBe(0);
    await page.goto(`${served.url}#/triggers/daily-report`);
    await expect.poll(() => page.locator('#trigger-title').innerText()).toBe('Daily report');
    expect(await page.locator('#trigger-actions button').count()).toBe(0);
    const refused = await page.evaluate(async () => (await fetch('api/triggers/daily-report/pause', { method: 'POST' })).status);
    expect(refused).toBe(403);
    expect((await scheduler.getTrigger('daily-report'))?.status).toBe('active');
    await screenshot(page, 'read-only');
    expect(problems).toEqual([]);
  });

  it('with JWT the page refuses without a token and works with one (fetch and event stream)', async () => {
    const { scheduler, served, page, problems } = await rig({ auth: JWT_AUTH });
    await page.goto(served.url);
    await expect.poll(() => page.locator('#view-login').isVisible()).toBe(true);
    expect(await page.locator('#view-triggers').isVisible()).toBe(false);
    const anonymous = await page.evaluate(async () => (await fetch('api/triggers')).status);
    expect(anonymous).toBe(401);
    await screenshot(page, 'sign-in');

    await page.getByLabel('Bearer token').fill('not-a-jwt');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#login-error').isVisible()).toBe(true);

    const token = await tokenWith('scheduler:read scheduler:write');
    await page.getByLabel('Bearer token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = triggerRow(page, 'daily-report');
    await expect.poll(() => row.count()).toBe(1);
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: Storage }).sessionStorage.length)).toBe(1);
    await row.getByRole('button', { name: 'Pause Daily report' }).click();
    await waitFor(async () => ((await scheduler.getTrigger('daily-report'))?.status === 'paused' ? true : undefined), 'paused in store');
    // The event stream carries the token too (fetch streaming): a job made outside the page shows up.
    await expect.poll(() => page.locator('#live').getAttribute('data-state')).toBe('live');
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    const job = await scheduler.runTrigger('reindex');
    await expect.poll(() => page.locator(`#jobs-table tr[data-job-id="${job.id}"]`).count(), { timeout: 10_000 }).toBe(1);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.locator('#view-login').isVisible()).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: Storage }).sessionStorage.length)).toBe(0);
    expect(problems).toEqual([]);
  });

  it('with a read-only token the page shows everything, and a button answers with the refusal', async () => {
    const { scheduler, served, page, problems } = await rig({ auth: JWT_AUTH });
    await page.goto(served.url);
    await page.getByLabel('Bearer token').fill(await tokenWith('scheduler:read'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = triggerRow(page, 'daily-report');
    await expect.poll(() => row.count()).toBe(1);
    await row.getByRole('button', { name: 'Pause Daily report' }).click();
    await expect.poll(() => page.locator('#toast').innerText()).toContain('Not allowed');
    expect(await page.locator('#toast').getAttribute('data-kind')).toBe('error');
    expect((await scheduler.getTrigger('daily-report'))?.status).toBe('active');
    expect(problems).toEqual([]);
  });

  it('the health badge names a handler that no live instance runs, with its pending jobs', async () => {
    const r = await rig({}, { remoteHandlers: ['emails.send'] });
    await r.scheduler.addTrigger({ id: 'mail', handler: 'emails.send', schedule: { manual: true } });
    await r.scheduler.runTrigger('mail');
    await r.page.goto(r.served.url);
    const badge = r.page.locator('#health');
    await waitFor(async () => (((await badge.textContent()) ?? '').includes('emails.send') ? true : undefined), 'the health badge to name the handler');
    expect(await badge.textContent()).toBe('dash-1: ok · no live instance runs emails.send (1 pending, 1 active triggers)');
    expect(await badge.getAttribute('class')).toBe('badge s-missed');
    expect(r.problems).toEqual([]);
  });

  it('pages the jobs table with Load more', async () => {
    const { scheduler, served, page, problems } = await rig();
    const ids: string[] = [];
    for (let i = 0; i < 55; i += 1) ids.push((await scheduler.runTrigger('reindex')).id);
    await waitFor(async () => ((await scheduler.listJobs({ status: 'succeeded', limit: 100 })).items.length === 55 ? true : undefined), '55 jobs done');
    await page.goto(`${served.url}#/jobs`);
    await expect.poll(() => page.locator('#jobs-table tbody tr[data-job-id]').count()).toBe(50);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => page.locator('#jobs-table tbody tr[data-job-id]').count()).toBe(55);
    expect(await page.getByRole('button', { name: 'Load more' }).isVisible()).toBe(false);
    const shown = await page.locator('#jobs-table tbody tr[data-job-id]').evaluateAll((rows) => rows.map((r) => (r as unknown as Tagged).getAttribute('data-job-id')));
    expect(new Set(shown)).toEqual(new Set(ids));
    expect(problems).toEqual([]);
  });
});
