/**
 * The dashboard's late and failing badges, and the start lag and missed slots of a trigger, in a
 * real browser (Debian Chromium, headless) on the memory backend.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import { launchBrowser, serveDashboard, waitFor, watchPageErrors } from './harness.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('dashboard alerts', () => {
  it('marks late and failing triggers in the list and the detail, and shows start lag and missed slots', async () => {
    const stores = { triggerStore: new MemoryTriggerStore(), jobStore: new MemoryJobStore(), lockManager: new MemoryLockManager() };
    const scheduler = new Scheduler({ ...stores, instanceId: 'dash-alerts', pollIntervalMs: 100, leaseMs: 3000 });
    // Another service's handler: this instance never runs its slots, so they go late.
    const elsewhere = new Scheduler({ ...stores, instanceId: 'elsewhere' });
    elsewhere.register('elsewhere', () => undefined);
    scheduler.register('boom', () => {
      throw new Error('always fails');
    });
    scheduler.register('slow', () => new Promise((resolve) => setTimeout(resolve, 1500)));
    await scheduler.start();
    const served = await serveDashboard(scheduler, { auth: { none: true } });
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    try {
      await elsewhere.addTrigger({ id: 'quiet', handler: 'elsewhere', schedule: { every: 60_000, startAt: new Date(Date.now() + 200) }, alertAfterMs: 500 });
      await scheduler.addTrigger({ id: 'broken', handler: 'boom', schedule: { every: 1000 } });
      await scheduler.addTrigger({ id: 'busy', handler: 'slow', schedule: { every: 1000 }, overlap: 'skip' });
      await waitFor(async () => {
        // A fresh read, which the page's health() call then reuses.
        const view = await scheduler.clusterView(0);
        return view.late.some((t) => t.triggerId === 'quiet') && view.failing.includes('broken') ? true : undefined;
      }, 'quiet late and broken failing', 15_000);
      const page = await context.newPage();
      const problems = watchPageErrors(page);
      await page.goto(served.url);
      const row = (id: string) => page.locator(`#triggers-table tr[data-trigger-id="${id}"]`);
      await row('quiet').locator('.badge.s-late').waitFor();
      await row('broken').locator('.badge.s-failing').waitFor();
      expect(await row('busy').locator('.alerts .badge').count()).toBe(0);
      await page.goto(`${served.url}#/triggers/busy`);
      const cards = page.locator('#trigger-cards');
      await cards.getByText('Missed slots').waitFor();
      const text = await cards.innerText();
      expect(text).toMatch(/p95 start lag/i);
      expect(Number(/Missed slots\s*(\d+)/i.exec(text)?.[1])).toBeGreaterThan(0);
      await page.goto(`${served.url}#/triggers/broken`);
      await page.locator('#trigger-schedule .badge.s-failing').waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await served.close();
      await scheduler.stop({ graceful: false });
    }
  });
});
