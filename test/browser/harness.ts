/**
 * Browser test harness: a real Scheduler with demo triggers, the dashboard on 127.0.0.1 (port 0),
 * and Debian's Chromium driven by playwright-core (never a downloaded browser).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createDashboard, type DashboardOptions } from '../../src/dashboard/index.js';
import { PermanentJobError } from '../../src/errors.js';
import type { Scheduler } from '../../src/scheduler.js';
import type { Job, JobStatus } from '../../src/types.js';

/** Debian's Chromium, installed by `.ci/run` with apt. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where screenshots are kept (git-ignored; CI keeps them as artifacts). */
export const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

/**
 * Start Chromium headless, without sandbox (containers), GPU or background traffic. A missing
 * browser fails the suite rather than skipping it: CI always has one (.ci/run installs it).
 */
export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    return Promise.reject(new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)`));
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** A served dashboard. */
export interface Served {
  /** The page's URL, ending in `/`. */
  url: string;
  /** Stop the server (open event streams included). */
  close(): Promise<void>;
}

/** Serve `createDashboard(scheduler, options)` on 127.0.0.1 with a free port. */
export async function serveDashboard(scheduler: Scheduler, options: DashboardOptions): Promise<Served> {
  const handler = createDashboard(scheduler, { eventsPollMs: 200, ...options });
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const base = options.basePath === undefined || options.basePath === '/' ? '/' : `${options.basePath.replace(/\/$/, '')}/`;
  return {
    url: `http://127.0.0.1:${port}${base}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Register the demo handlers: `report` succeeds, `broken` always fails for good, `slow` takes 1.5 s. */
export function registerDemoHandlers(scheduler: Scheduler): void {
  scheduler.register('report', async (ctx) => ({ rows: 42, team: (ctx.payload as { team?: string } | null)?.team ?? null }));
  scheduler.register('broken', async () => {
    throw new PermanentJobError('disk full on /var/reports');
  });
  scheduler.register('slow', async (ctx) => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1500);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return { done: true };
  });
}

/** Add the demo triggers used by most tests (none of them fires during a test by itself). */
export async function addDemoTriggers(scheduler: Scheduler): Promise<void> {
  await scheduler.addTrigger({
    id: 'daily-report',
    name: 'Daily report',
    handler: 'report',
    schedule: { cron: '0 9 * * MON-FRI', timezone: 'Europe/Berlin' },
    payload: { team: 'qa' },
  });
  await scheduler.addTrigger({
    id: 'night-compaction',
    name: 'Night compaction',
    handler: 'report',
    schedule: { cron: '30 2 * * *', timezone: 'America/New_York' },
  });
  await scheduler.addTrigger({ id: 'reindex', name: 'Search reindex', handler: 'report', schedule: { manual: true } });
  await scheduler.addTrigger({
    id: 'backup-verify',
    name: 'Backup verification',
    handler: 'broken',
    schedule: { manual: true },
    retry: { attempts: 1 },
  });
  await scheduler.addTrigger({
    id: 'on-deploy',
    name: 'Notify on deploy',
    handler: 'report',
    schedule: { event: 'deploy.finished', filter: { env: 'prod' } },
  });
}

/** Poll `probe` until it returns a value other than `undefined` (or fail after `timeoutMs`). */
export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Wait until the job `id` has one of `statuses` in the store. */
export function waitForJob(scheduler: Scheduler, id: string, statuses: readonly JobStatus[]): Promise<Job> {
  return waitFor(async () => {
    const job = await scheduler.getJob(id);
    return job !== null && statuses.includes(job.status) ? job : undefined;
  }, `job ${id} to be ${statuses.join('/')}`);
}

/** Save a full-page screenshot as `artifacts/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** Fail the test on any script error or CSP violation in the page. */
export function watchPageErrors(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of (401|403)/.test(msg.text())) {
      problems.push(`console: ${msg.text()}`);
    }
  });
  return problems;
}
