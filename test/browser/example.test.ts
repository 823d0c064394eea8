/**
 * examples/dashboard.ts end to end: it serves the page on 127.0.0.1 and stops on SIGINT; the page
 * shows its demo data (these screenshots are the ones in docs/dashboard.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, watchPageErrors } from './harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

let child: ChildProcess;
let url: string;
let browser: Browser;

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'examples/dashboard.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`example printed no URL: ${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`example exited with ${code}: ${output}`)));
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
});

describe('examples/dashboard.ts', () => {
  it('serves the demo on 127.0.0.1: triggers, jobs, a failed job, timeline and stats', async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, colorScheme: 'light' });
    const page = await context.newPage();
    const problems = watchPageErrors(page);
    // Let the demo run a little, so the timeline and charts have something to show.
    await new Promise((resolve) => setTimeout(resolve, 9000));

    await page.goto(url);
    await expect.poll(() => page.locator('#triggers-table tbody tr').count()).toBe(9);
    expect(await page.locator('tr[data-trigger-id="night-compaction"]').innerText()).toContain('at 02:30, every day');
    expect(await page.locator('tr[data-trigger-id="night-compaction"]').innerText()).toContain('Europe/Berlin');
    await screenshot(page, 'example-triggers');

    await page.goto(`${url}#/jobs`);
    await expect.poll(() => page.locator('#jobs-table tr[data-status="failed"]').count()).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#live').getAttribute('data-state')).toBe('live');
    await screenshot(page, 'example-jobs');

    await page.locator('#jobs-table tr[data-status="failed"] a.mono').first().click();
    await expect.poll(() => page.locator('#job-error').innerText()).toContain('checksum mismatch on shard 3');
    await screenshot(page, 'example-job-detail');

    await page.goto(`${url}#/triggers/export`);
    await expect.poll(() => page.locator('#timeline svg [data-status="skipped"]').count()).toBeGreaterThan(0);
    await screenshot(page, 'example-timeline');

    await page.goto(`${url}#/stats`);
    await expect.poll(() => page.locator('#chart-outcome rect').count()).toBeGreaterThan(0);
    await screenshot(page, 'example-stats');
    await context.close();

    // The dark colour scheme follows the system setting.
    const dark = await browser.newContext({ viewport: { width: 1360, height: 860 }, colorScheme: 'dark' });
    const darkPage = await dark.newPage();
    problems.push(...watchPageErrors(darkPage));
    await darkPage.goto(`${url}#/triggers/backup-verify`);
    await expect.poll(() => darkPage.locator('#timeline svg [data-status="failed"]').count()).toBeGreaterThan(0);
    const background = await darkPage.locator('body').evaluate((body) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(body).backgroundColor);
    expect(background).toBe('rgb(17, 20, 26)');
    await screenshot(darkPage, 'example-dark');
    await dark.close();
    expect(problems).toEqual([]);

    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  }, 60_000);
});
