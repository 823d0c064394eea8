/**
 * A dashboard with `auth: { none: true }` on 127.0.0.1, attacked by pages of other origins in a real
 * Chromium: a cross-site form, a `no-cors` fetch, and a page under another host name that resolves
 * to 127.0.0.1 (DNS rebinding, simulated with --host-resolver-rules). None of them may change or
 * read anything; the dashboard's own page still can.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/scheduler.js';
import { CHROMIUM, serveDashboard, waitFor, type Served } from './harness.js';

let browser: Browser;
let scheduler: Scheduler;
let dashboard: Served;
let evil: Server;
let evilPort: number;
let dashPort: number;

/** The attacker's page: what it does is in `script`, run on load. */
let evilPage = '';

beforeAll(async () => {
  scheduler = new Scheduler({ instanceId: 'cross-site' });
  scheduler.register('noop', async () => null);
  await scheduler.addTrigger({ id: 'spy', handler: 'noop', schedule: { manual: true } });
  dashboard = await serveDashboard(scheduler, { auth: { none: true } });
  dashPort = Number(new URL(dashboard.url).port);
  evil = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(evilPage);
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  evilPort = (evil.address() as AddressInfo).port;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--host-resolver-rules=MAP rebind.test 127.0.0.1'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  await new Promise<void>((resolve) => evil?.close(() => resolve()));
});

async function unchanged(): Promise<void> {
  const trigger = await scheduler.getTrigger('spy');
  expect(trigger?.status).toBe('active');
  expect((await scheduler.listJobs({ triggerId: 'spy' })).items).toHaveLength(0);
}

describe('cross-site requests against auth none', () => {
  it('a form on another origin (text/plain, empty body) and a no-cors fetch change nothing', async () => {
    const target = `http://127.0.0.1:${dashPort}/api`;
    evilPage = `<!doctype html><body>
      <iframe name="sink"></iframe>
      <form id="f" method="POST" enctype="text/plain" target="sink" action="${target}/triggers/spy/pause"></form>
      <script>
        window.done = Promise.all([
          fetch('${target}/triggers/spy/run', { method: 'POST', mode: 'no-cors' }),
          fetch('${target}/triggers/spy/run', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: '{}' }),
        ]).then(() => { document.getElementById('f').submit(); return new Promise((r) => document.querySelector('iframe').onload = r); });
      </script></body>`;
    // Two origins: the page on localhost (another site), and on 127.0.0.1 with another port (same site).
    for (const origin of [`http://localhost:${evilPort}`, `http://127.0.0.1:${evilPort}`]) {
      const page = await browser.newPage();
      const answers: number[] = [];
      page.on('response', (r) => {
        if (r.url().startsWith(target)) answers.push(r.status());
      });
      await page.goto(`${origin}/`);
      await page.evaluate(() => (globalThis as unknown as { done: Promise<unknown> }).done);
      await waitFor(async () => (answers.length >= 3 ? true : undefined), 'three answers to the attacker page');
      // Opaque no-cors answers show status 0 to the page; the form's is the real one.
      expect(answers.filter((s) => s !== 0).every((s) => s === 403)).toBe(true);
      await page.close();
      await unchanged();
    }
  });

  it('a page under another host name (DNS rebinding) can neither read nor delete', async () => {
    const origin = `http://rebind.test:${dashPort}`;
    const page = await browser.newPage();
    // After the rebind, the attacker's origin is the dashboard's address: any script running under
    // that origin (here, the one the page itself has) reaches the API with a foreign Host.
    await page.goto(`${origin}/`);
    const result = await page.evaluate(async () => {
      const list = await fetch('/api/jobs');
      const del = await fetch('/api/triggers/spy', { method: 'DELETE', headers: { 'Content-Type': 'application/json' } });
      return { list: list.status, listBody: await list.text(), del: del.status };
    });
    await page.close();
    expect(result.list).toBe(403);
    expect(result.listBody).not.toContain('"items"');
    expect(result.del).toBe(403);
    expect(await scheduler.getTrigger('spy')).not.toBeNull();
  });

  it('the dashboard page itself still pauses the trigger', async () => {
    const page = await browser.newPage();
    await page.goto(dashboard.url);
    const status = await page.evaluate(async () => {
      const res = await fetch('api/triggers/spy/pause', { method: 'POST', headers: { 'Content-Type': 'application/json' } });
      return res.status;
    });
    await page.close();
    expect(status).toBe(200);
    expect((await scheduler.getTrigger('spy'))?.status).toBe('paused');
  });
});
