/**
 * The dashboard in Chromium at the widths operators use (a 1024–1366 px laptop, a 390 px phone):
 * nothing overflows the page and every button can be reached; times say which zone they are in;
 * a paused trigger says so instead of a next run; a job's error shows its stack (collapsed); an
 * unknown job id shows a not-found state. Screenshots go to test/browser/artifacts/.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import {
  addDemoTriggers,
  launchBrowser,
  registerDemoHandlers,
  screenshot,
  serveDashboard,
  waitForJob,
  watchPageErrors,
  type Served,
} from './harness.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface Rig {
  scheduler: Scheduler;
  served: Served;
  /** A page of the given width (the browser in the given zone). A function property: it does not use `this`. */
  open: (width: number, timezoneId?: string) => Promise<{ page: Page; problems: string[] }>;
}

async function rig(): Promise<Rig> {
  const stores = { triggerStore: new MemoryTriggerStore(), jobStore: new MemoryJobStore(), lockManager: new MemoryLockManager() };
  const scheduler = new Scheduler({ ...stores, instanceId: 'dash-layout', pollIntervalMs: 200 });
  registerDemoHandlers(scheduler);
  await scheduler.start();
  cleanups.push(() => scheduler.stop({ graceful: false }));
  await addDemoTriggers(scheduler);
  // Long words in every column, as real triggers have: these are what pushed the buttons out.
  await scheduler.addTrigger({
    id: 'quarterly-compliance-export-finance',
    name: 'Quarterly compliance export for the finance team',
    handler: 'report',
    schedule: { cron: '*/15 8-18 * * MON-FRI', timezone: 'America/Argentina/Buenos_Aires' },
  });
  const served = await serveDashboard(scheduler, { auth: { none: true } });
  cleanups.push(() => served.close());
  return {
    scheduler,
    served,
    async open(width, timezoneId = 'UTC') {
      const context = await browser.newContext({ viewport: { width, height: 800 }, colorScheme: 'light', timezoneId });
      cleanups.push(() => context.close());
      const page = await context.newPage();
      return { page, problems: watchPageErrors(page) };
    },
  };
}

/** How far the page is wider than the window (0 when nothing overflows). */
function overflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number });
    return doc.document.documentElement.scrollWidth - doc.innerWidth;
  });
}

/**
 * Where the buttons matching `selector` are, and whether each is the element a click at its centre
 * hits once the window is scrolled down to it. The window only moves vertically and no container
 * is scrolled sideways, so a button that a table's own scroll box clips, or that something
 * covers, is not hit.
 */
async function reachable(page: Page, selector: string): Promise<Array<{ left: number; right: number; hit: boolean }>> {
  return page.locator(selector).evaluateAll((nodes) =>
    nodes.map((node) => {
      const win = globalThis as unknown as {
        innerHeight: number;
        scrollBy(x: number, y: number): void;
        document: { elementFromPoint(x: number, y: number): unknown };
      };
      const el = node as unknown as { getBoundingClientRect(): { left: number; right: number; top: number; width: number; height: number }; contains(other: unknown): boolean };
      win.scrollBy(0, el.getBoundingClientRect().top - win.innerHeight / 2);
      const box = el.getBoundingClientRect();
      const hit = win.document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      return { left: box.left, right: box.right, hit: hit === node || el.contains(hit) };
    }),
  );
}

/** The UTC offset of `zone` at `at`, as the page labels it ("UTC", "UTC+1", "UTC-5", "UTC+5:30"). */
function offsetLabel(at: Date, zone: string): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'shortOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName');
  return (part?.value ?? 'GMT').replace(/^GMT/, 'UTC');
}

// Each test loads several views at two or three widths: more than the default 20 s on a busy machine.
describe('dashboard layout, zones and states in Chromium', { timeout: 120_000 }, () => {
  for (const width of [1024, 1366, 390]) {
    it(`at ${width} px no view overflows the page and every Remove and Run button can be clicked`, async () => {
      const { scheduler, served, open } = await rig();
      const failed = await scheduler.runTrigger('backup-verify');
      await waitForJob(scheduler, failed.id, ['failed']);
      const { page, problems } = await open(width);

      await page.goto(served.url);
      await expect.poll(() => page.locator('#triggers-table tr[data-trigger-id]').count()).toBe(6);
      expect(await overflow(page)).toBeLessThanOrEqual(0);
      const buttons = await reachable(page, '#triggers-table button[data-action="remove"], #triggers-table button[data-action="run"]');
      expect(buttons).toHaveLength(12);
      for (const b of buttons) {
        expect(b.left).toBeGreaterThanOrEqual(0);
        expect(b.right).toBeLessThanOrEqual(width);
        expect(b.hit).toBe(true);
      }
      await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
      await screenshot(page, `layout-triggers-${width}`);

      for (const [hash, ready, name] of [
        ['#/jobs', '#jobs-table tr[data-job-id]', 'jobs'],
        [`#/jobs/${failed.id}`, '#job-error strong', 'job'],
        ['#/triggers/daily-report', '#timeline[data-trigger-id="daily-report"] svg', 'trigger'],
        ['#/stats', '#chart-status svg', 'stats'],
      ] as const) {
        await page.goto(`${served.url}${hash}`);
        await expect.poll(() => page.locator(ready).count()).toBeGreaterThan(0);
        expect(await overflow(page), `${name} at ${width} px`).toBeLessThanOrEqual(0);
        if (name === 'jobs') {
          for (const b of await reachable(page, '#jobs-table button[data-action="retry"]')) expect(b).toMatchObject({ hit: true });
        }
        await screenshot(page, `layout-${name}-${width}`);
      }
      expect(problems).toEqual([]);
    });
  }

  it('labels every time with its zone: jobs in the browser\'s zone, triggers in their own', async () => {
    const { scheduler, served, open } = await rig();
    const job = await scheduler.runTrigger('reindex');
    await waitForJob(scheduler, job.id, ['succeeded']);
    const { page, problems } = await open(1024, 'Asia/Tokyo');

    await page.goto(served.url);
    const row = page.locator('#triggers-table tr[data-trigger-id="daily-report"]');
    await expect.poll(() => row.count()).toBe(1);
    expect(await page.locator('#view-triggers .subtitle').innerText()).toContain("each trigger's own zone");
    const berlinNext = (await scheduler.getTrigger('daily-report'))?.nextRunAt as Date;
    const nextCell = await row.locator('td').nth(3).locator('time').innerText();
    expect(nextCell).toMatch(/^\d{4}-\d\d-\d\d 09:00:00\sUTC\+[12]$/u);
    expect(nextCell.endsWith(offsetLabel(berlinNext, 'Europe/Berlin'))).toBe(true);
    const nyNext = (await scheduler.getTrigger('night-compaction'))?.nextRunAt as Date;
    const nyCell = page.locator('#triggers-table tr[data-trigger-id="night-compaction"] td').nth(3).locator('time');
    expect(await nyCell.innerText()).toMatch(new RegExp(` 02:30:00\\s${offsetLabel(nyNext, 'America/New_York').replace('+', '\\+')}$`));
    // A trigger without a zone of its own is shown in the browser's zone, and says so.
    expect(await page.locator('#triggers-table tr[data-trigger-id="reindex"] td').nth(2).innerText()).toBe('Asia/Tokyo (browser)');

    await page.goto(`${served.url}#/jobs`);
    const jobRow = page.locator(`#jobs-table tr[data-job-id="${job.id}"]`);
    await expect.poll(() => jobRow.count()).toBe(1);
    expect(await page.locator('#jobs-zone').innerText()).toBe("Times are in your browser's zone, Asia/Tokyo (UTC+9).");
    expect(await jobRow.locator('td').nth(3).locator('time').innerText()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\sUTC\+9$/);

    await page.goto(`${served.url}#/jobs/${job.id}`);
    await expect.poll(() => page.locator('#job-props').innerText()).toContain('UTC+9');
    await screenshot(page, 'zones-job-1024');
    expect(problems).toEqual([]);
  });

  it('a paused trigger shows "paused" instead of its next run', async () => {
    const { scheduler, served, open } = await rig();
    await scheduler.addTrigger({ id: 'soon', name: 'Every minute', handler: 'report', schedule: { every: '1m' } });
    await scheduler.pauseTrigger('soon');
    for (const width of [1024, 390]) {
      const { page, problems } = await open(width);
      await page.goto(served.url);
      const next = page.locator('#triggers-table tr[data-trigger-id="soon"] td').nth(3);
      await expect.poll(() => next.count()).toBe(1);
      expect(await next.innerText()).toBe('paused');
      expect(await page.locator('#triggers-table tr[data-trigger-id="daily-report"] td').nth(3).innerText()).toMatch(/in \d+ (min|h|d)/);
      await screenshot(page, `paused-${width}`);
      await page.goto(`${served.url}#/triggers/soon`);
      const card = page.locator('#trigger-cards .card').first();
      await expect.poll(() => card.innerText()).toMatch(/Next run\s+paused/i);
      expect(await page.locator('#trigger-next li').first().innerText()).toMatch(/^Paused: /);
      expect(problems).toEqual([]);
    }
  });

  it('a failed job shows its error with the stack, collapsed until opened', async () => {
    const { scheduler, served, open } = await rig();
    const failed = await scheduler.runTrigger('backup-verify');
    await waitForJob(scheduler, failed.id, ['failed']);
    for (const width of [1024, 390]) {
      const { page, problems } = await open(width);
      await page.goto(`${served.url}#/jobs/${failed.id}`);
      const details = page.locator('#job-error details');
      await expect.poll(() => details.count()).toBe(1);
      expect(await details.evaluate((node) => (node as { open: boolean }).open)).toBe(false);
      expect(await page.locator('#job-error pre').isVisible()).toBe(false);
      expect(await details.locator('summary').innerText()).toBe('Stack trace');
      await details.locator('summary').click();
      await expect.poll(() => page.locator('#job-error pre').isVisible()).toBe(true);
      const stack = await page.locator('#job-error pre').innerText();
      expect(stack).toContain('PermanentJobError: disk full on /var/reports');
      expect(stack).toMatch(/\n\s+at /);
      expect(await overflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, `job-stack-${width}`);
      expect(problems).toEqual([]);
    }
  });

  it('an unknown job id shows a not-found state, not the job seen before, and no actions', async () => {
    const { scheduler, served, open } = await rig();
    const failed = await scheduler.runTrigger('backup-verify');
    await waitForJob(scheduler, failed.id, ['failed']);
    for (const width of [1024, 390]) {
      const { page, problems } = await open(width);
      await page.goto(`${served.url}#/jobs/${failed.id}`);
      await expect.poll(() => page.locator('#job-actions button').count()).toBe(1);
      await page.evaluate(() => {
        (globalThis as unknown as { location: { hash: string } }).location.hash = '#/jobs/no-such-job';
      });
      await expect.poll(() => page.locator('#job-missing').isVisible()).toBe(true);
      expect(await page.locator('#job-title').innerText()).toBe('Job not found');
      expect(await page.locator('#job-missing').innerText()).toContain('no-such-job');
      expect(await page.locator('#job-actions button').count()).toBe(0);
      expect(await page.locator('#job-body').isVisible()).toBe(false);
      expect(await page.locator('#job-error').isVisible()).toBe(false);
      expect(await page.locator('#view-job').innerText()).not.toContain(failed.id);
      expect(await page.locator('#toast').isVisible()).toBe(false);
      await screenshot(page, `job-not-found-${width}`);
      // And back to a real job: its view comes back whole.
      await page.evaluate((id) => {
        (globalThis as unknown as { location: { hash: string } }).location.hash = `#/jobs/${id}`;
      }, failed.id);
      await expect.poll(() => page.locator('#job-title').innerText()).toBe(`Job ${failed.id}`);
      expect(await page.locator('#job-missing').isVisible()).toBe(false);
      expect(await page.locator('#job-body').isVisible()).toBe(true);
      // The API's 404 for the unknown id is the one console line expected.
      expect(problems.filter((p) => !p.includes('status of 404'))).toEqual([]);
    }
  });
});
