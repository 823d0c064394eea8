/**
 * The mounting snippets of docs/dashboard.md, in Chromium: the page under a mount path in Express
 * and in Fastify loads its files and its API (relative URLs), streams, and its buttons work.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../../src/dashboard/index.js';
import { Scheduler } from '../../src/scheduler.js';
import { addDemoTriggers, launchBrowser, registerDemoHandlers, waitFor, watchPageErrors } from './harness.js';


let browser: Browser;
const cleanups: Array<() => Promise<void>> = [];
beforeAll(async () => {
  browser = await launchBrowser();
});
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});
afterAll(async () => {
  await browser?.close();
});

async function demoScheduler(): Promise<Scheduler> {
  const scheduler = new Scheduler({ instanceId: 'fw-1', pollIntervalMs: 200 });
  registerDemoHandlers(scheduler);
  await scheduler.start();
  cleanups.push(() => scheduler.stop({ graceful: false }));
  await addDemoTriggers(scheduler);
  return scheduler;
}

/** Open `url`, check the live stream and the triggers table, pause a trigger, check the store. */
async function drive(url: string, scheduler: Scheduler): Promise<void> {
  const context = await browser.newContext();
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const problems = watchPageErrors(page);
  await page.goto(url);
  expect(new URL(page.url()).pathname).toBe('/ops/');
  const row = page.locator('#triggers-table tr[data-trigger-id="daily-report"]');
  await expect.poll(() => row.count()).toBe(1);
  await expect.poll(() => page.locator('#live').getAttribute('data-state')).toBe('live');
  await row.getByRole('button', { name: 'Pause Daily report' }).click();
  await waitFor(async () => ((await scheduler.getTrigger('daily-report'))?.status === 'paused' ? true : undefined), 'paused');
  expect(problems).toEqual([]);
}

describe('dashboard mounted in frameworks', () => {
  it('Express: app.use("/ops", dashboard) with basePath "/"; "/ops" redirects to "/ops/"', async () => {
    const scheduler = await demoScheduler();
    const app = express();
    app.use('/ops', createDashboard(scheduler, { auth: { none: true }, eventsPollMs: 200 }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    await drive(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ops`, scheduler);
  });

  it('Fastify: onRequest hands the raw request over, basePath "/ops"', async () => {
    const scheduler = await demoScheduler();
    const app = Fastify();
    const dashboard = createDashboard(scheduler, { auth: { none: true }, basePath: '/ops', eventsPollMs: 200 });
    for (const url of ['/ops', '/ops/*']) {
      app.all(url, {
        onRequest: (request, reply) => {
          reply.hijack();
          dashboard(request.raw, reply.raw);
        },
        handler: () => undefined, // never reached
      });
    }
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(async () => {
      app.server.closeAllConnections();
      await app.close();
    });
    await drive(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/ops`, scheduler);
  });
});
