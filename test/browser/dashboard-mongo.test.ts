/**
 * The dashboard in Chromium on the MongoDB backend (FerretDB in CI, via MONGODB_URI): the page is
 * served by one instance and a second instance on the same database does the work, so everything
 * the page shows and changes goes through the shared store.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/scheduler.js';
import { createMongoBackend } from '../../src/stores/mongo/index.js';
import { stopSharedMongo, withTestDb, type TestDb } from '../helpers/mongo.js';
import {
  addDemoTriggers,
  launchBrowser,
  registerDemoHandlers,
  screenshot,
  serveDashboard,
  waitFor,
  waitForJob,
  watchPageErrors,
} from './harness.js';


let browser: Browser;
let db: TestDb | null = null;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  browser = await launchBrowser();
});
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
  await db?.close();
  db = null;
});
afterAll(async () => {
  await browser?.close();
  await stopSharedMongo();
});

function instance(test: TestDb, instanceId: string): Scheduler {
  const backend = createMongoBackend({ db: test.db, collectionPrefix: 'dash_' });
  const scheduler = new Scheduler({ ...backend, instanceId, pollIntervalMs: 200 });
  registerDemoHandlers(scheduler);
  cleanups.push(() => scheduler.stop({ graceful: false }));
  return scheduler;
}

describe('dashboard in Chromium (MongoDB backend, two instances)', () => {
  it('pause, run now and retry act on the shared store; the other instance’s jobs show up live', async () => {
    db = await withTestDb('dashboard');
    await createMongoBackend({ db: db.db, collectionPrefix: 'dash_' }).ensureIndexes();
    const web = instance(db, 'web');
    const worker = instance(db, 'worker');
    await web.start();
    await worker.start();
    await addDemoTriggers(worker);
    const served = await serveDashboard(web, { auth: { none: true } });
    cleanups.push(() => served.close());
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    cleanups.push(() => context.close());
    const page = await context.newPage();
    const problems = watchPageErrors(page);

    await page.goto(served.url);
    const row = page.locator('#triggers-table tr[data-trigger-id="daily-report"]');
    await expect.poll(() => row.count()).toBe(1);
    await row.getByRole('button', { name: 'Pause Daily report' }).click();
    // Seen by the other instance: the pause is in the database, not in the serving process.
    await waitFor(async () => ((await worker.getTrigger('daily-report'))?.status === 'paused' ? true : undefined), 'paused for the worker');
    await expect.poll(() => row.locator('.badge').innerText()).toBe('paused');

    await page.locator('#triggers-table tr[data-trigger-id="reindex"]').getByRole('button', { name: 'Run Search reindex now' }).click();
    const run = await waitFor(async () => (await worker.listJobs({ triggerId: 'reindex' })).items[0], 'the reindex job');
    await waitForJob(worker, run.id, ['succeeded']);

    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await expect.poll(() => page.locator(`#jobs-table tr[data-job-id="${run.id}"]`).getAttribute('data-status'), { timeout: 10_000 }).toBe('succeeded');
    const failed = await worker.runTrigger('backup-verify');
    await waitForJob(worker, failed.id, ['failed']);
    const failedRow = page.locator(`#jobs-table tr[data-job-id="${failed.id}"]`);
    await expect.poll(() => failedRow.getAttribute('data-status'), { timeout: 10_000 }).toBe('failed');
    expect(await failedRow.locator('td').nth(7).innerText()).toBe('worker');

    await failedRow.getByRole('button', { name: `Retry job ${failed.id}` }).click();
    const retry = await waitFor(async () => {
      const items = (await worker.listJobs({ triggerId: 'backup-verify' })).items;
      return items.find((j) => j.id !== failed.id);
    }, 'the retried job in the database');
    await waitForJob(worker, retry.id, ['failed']);
    await expect.poll(() => page.locator(`#jobs-table tr[data-job-id="${retry.id}"]`).getAttribute('data-status'), { timeout: 10_000 }).toBe('failed');

    await page.goto(`${served.url}#/stats`);
    await expect.poll(() => page.locator('#chart-status rect[data-key="failed"]').getAttribute('data-value')).toBe('2');
    await screenshot(page, 'mongo-stats');
    expect(problems).toEqual([]);
  }, 60_000);
});
