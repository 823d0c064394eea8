/**
 * The dashboard's own answers over HTTP (no browser): page, files, headers, redirects, and the
 * management API mounted under `api/`.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP, createDashboard } from '../../src/dashboard/index.js';
import { dashboardAssets } from '../../src/dashboard/assets/index.js';
import { Scheduler } from '../../src/scheduler.js';
import { serveDashboard, type Served } from './harness.js';

const { script: SCRIPT_ASSET, style: STYLE_ASSET } = dashboardAssets();

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function served(options: Parameters<typeof serveDashboard>[1]): Promise<Served> {
  const scheduler = new Scheduler({ instanceId: 'http-1' });
  scheduler.register('noop', async () => null);
  await scheduler.start();
  cleanups.push(() => scheduler.stop({ graceful: false }));
  await scheduler.addTrigger({ id: 'manual', handler: 'noop', schedule: { manual: true } });
  const s = await serveDashboard(scheduler, options);
  cleanups.push(() => s.close());
  return s;
}

describe('dashboard over HTTP', () => {
  it('serves the page with a strict CSP, no-cache and an ETag; 304 on a match', async () => {
    const s = await served({ auth: { none: true } });
    const page = await get(s.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).not.toContain('unsafe');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain(`assets/${SCRIPT_ASSET.file}`);
    expect(page.body).toContain('data-auth="none" data-read-only="false"');
    const again = await get(s.url, { 'If-None-Match': String(page.headers['etag']) });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    const head = await get(s.url, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('serves its files with their content types, cached for a year', async () => {
    const s = await served({ auth: { none: true } });
    const js = await get(`${s.url}assets/${SCRIPT_ASSET.file}`);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // The bundle of src/dashboard/client/ (its words module included), byte for byte.
    expect(js.body).toBe(SCRIPT_ASSET.body.toString('utf8'));
    expect(js.body).toContain('describeCron');
    const css = await get(`${s.url}assets/${STYLE_ASSET.file}`);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get(`${s.url}assets/dashboard.000000000000.js`)).status).toBe(404);
    expect((await get(`${s.url}nope`)).status).toBe(404);
    const post = await get(s.url, {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
  });

  it('mounts the management API under api/, at a basePath too, and redirects the bare basePath', async () => {
    const s = await served({ auth: { none: true }, basePath: '/ops' });
    expect(s.url.endsWith('/ops/')).toBe(true);
    const bare = await get(s.url.slice(0, -1) + '?x=1');
    expect(bare.status).toBe(308);
    expect(bare.headers['location']).toBe('/ops/?x=1');
    const triggers = await get(`${s.url}api/triggers`);
    expect(triggers.status).toBe(200);
    expect((JSON.parse(triggers.body) as { items: Array<{ id: string }> }).items.map((t) => t.id)).toEqual(['manual']);
    expect((await get(`${s.url}api/openapi.json`)).status).toBe(200);
    expect((await get(`${s.url.replace('/ops/', '/')}`)).status).toBe(404);
  });

  it('marks the page read-only and JWT-protected in data attributes; the page itself needs no token', async () => {
    const s = await served({
      auth: { jwt: { secret: 'dashboard-test-secret-0123456789abcdef', algorithms: ['HS256'] } },
      readOnly: true,
    });
    const page = await get(s.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-auth="jwt" data-read-only="true"');
    expect((await get(`${s.url}api/triggers`)).status).toBe(401);
  });

  it('refuses bad options by name', () => {
    const scheduler = new Scheduler();
    expect(() => createDashboard(scheduler, { auth: { hmac: { secret: 'x'.repeat(40) } } } as never)).toThrow(/auth\.hmac/);
    expect(() => createDashboard(scheduler, { auth: { none: true }, basePath: 'ops' })).toThrow(/basePath/);
    expect(() => createDashboard(scheduler, { auth: { none: true }, title: '' })).toThrow(/title/);
    expect(() => createDashboard(scheduler, { auth: { none: true }, bogus: 1 } as never)).toThrow(/bogus/);
  });
});
