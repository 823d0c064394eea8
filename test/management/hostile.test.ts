/**
 * The management API against a hostile page or caller: cross-site writes, DNS rebinding, prototype
 * keys, costly previews, oversized lists, long-lived streams, leaky logs and abusive bodies.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { PreviewBudgetError } from '../../src/errors.js';
import { nextFireTimes } from '../../src/schedule/index.js';
import { createManagementApi } from '../../src/management/index.js';
import { Scheduler } from '../../src/scheduler.js';
import { cloneJson } from '../../src/util/clone.js';
import { signManagementRequest } from '../../src/management/index.js';
import { createWebhookHandler, signHmac } from '../../src/webhook/index.js';
import { startServer } from '../unit/webhook/fixtures.js';
import { SignJWT } from 'jose';
import { JWT_SECRET, closeAll, errorOf, send, serve } from './helpers.js';
import { openStream, type SseStream } from './sse.js';

afterEach(closeAll);

async function rig(): Promise<Scheduler> {
  const scheduler = new Scheduler({ instanceId: 'hostile' });
  scheduler.register('noop', async () => null);
  await scheduler.addTrigger({ id: 'spy', handler: 'noop', schedule: { manual: true } });
  return scheduler;
}

describe('cross-site writes and DNS rebinding (auth none)', () => {
  it('a write without Content-Type: application/json is refused even with an empty body', async () => {
    const scheduler = await rig();
    const { port } = await serve(scheduler);
    for (const headers of [{}, { 'Content-Type': 'text/plain' }, { 'Content-Type': 'application/x-www-form-urlencoded' }]) {
      const reply = await send(port, { method: 'POST', path: '/triggers/spy/pause', headers });
      expect(reply.status).toBe(415);
    }
    expect((await scheduler.getTrigger('spy'))?.status).toBe('active');
  });

  it('refuses Sec-Fetch-Site cross-site and same-site, and a foreign or null Origin', async () => {
    const scheduler = await rig();
    const http = await serve(scheduler);
    const json = { 'Content-Type': 'application/json' };
    const refused = [
      { ...json, 'Sec-Fetch-Site': 'cross-site' },
      { ...json, 'Sec-Fetch-Site': 'same-site' },
      { ...json, Origin: 'http://evil.example' },
      { ...json, Origin: `http://127.0.0.1:${http.port + 1}` },
      { ...json, Origin: 'null' },
    ];
    for (const headers of refused) {
      const reply = await send(http.port, { method: 'POST', path: '/triggers/spy/run', headers });
      expect(reply.status).toBe(403);
      expect(errorOf(reply).code).toBe('ERR_FORBIDDEN');
    }
    expect((await scheduler.listJobs({ triggerId: 'spy' })).items).toHaveLength(0);
    // The page's own origin, and a script or server that sends neither header, pass.
    const own = await send(http.port, { method: 'POST', path: '/triggers/spy/pause', headers: { ...json, Origin: `http://127.0.0.1:${http.port}`, 'Sec-Fetch-Site': 'same-origin' } });
    expect(own.status).toBe(200);
    // Behind a proxy that rewrites Host, X-Forwarded-Host names the public host.
    const proxied = await send(http.port, { method: 'POST', path: '/triggers/spy/resume', headers: { ...json, Origin: 'https://ops.example', 'X-Forwarded-Host': 'ops.example' } });
    expect(proxied.status).toBe(200);
  });

  it('answers only to loopback Host names by default with auth none; allowedHosts widens it', async () => {
    const scheduler = await rig();
    const http = await serve(scheduler);
    const rebound = await send(http.port, { path: '/jobs', headers: { Host: `rebind.example:${http.port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.text).not.toContain('items');
    for (const host of [`localhost:${http.port}`, `127.0.0.1:${http.port}`, `[::1]:${http.port}`]) {
      expect((await send(http.port, { path: '/jobs', headers: { Host: host } })).status).toBe(200);
    }
    const wide = await serve(scheduler, { auth: { none: true }, allowedHosts: ['ops.internal'] });
    expect((await send(wide.port, { path: '/jobs', headers: { Host: 'ops.internal:8080' } })).status).toBe(200);
    expect((await send(wide.port, { path: '/jobs', headers: { Host: `127.0.0.1:${wide.port}` } })).status).toBe(403);
    const any = await serve(scheduler, { auth: { none: true }, allowedHosts: 'any' });
    expect((await send(any.port, { path: '/jobs', headers: { Host: 'anything.example' } })).status).toBe(200);
  });

  it('validates allowedHosts at creation', () => {
    const scheduler = new Scheduler({ instanceId: 'hosts' });
    expect(() => createManagementApi(scheduler, { auth: { none: true }, allowedHosts: [] })).toThrow(/allowedHosts/);
    expect(() => createManagementApi(scheduler, { auth: { none: true }, allowedHosts: ['host:80'] })).toThrow(/allowedHosts\.0/);
  });
});

describe('prototype keys and unsafe names', () => {
  it('refuses __proto__, constructor, prototype, control and bidi characters as ids, handler and event names', async () => {
    const scheduler = await rig();
    for (const bad of ['__proto__', 'constructor', 'prototype', 'a\u0007b', 'a\u009bb', 'invoice\u202egnp.exe', 'x\u2066y']) {
      await expect(scheduler.addTrigger({ id: bad, handler: 'noop', schedule: { manual: true } })).rejects.toMatchObject({ field: 'id' });
      expect(() => scheduler.register(bad, async () => null)).toThrow(expect.objectContaining({ field: 'name' }));
      await expect(scheduler.publish(bad)).rejects.toMatchObject({ field: 'event' });
      await expect(scheduler.addTrigger({ id: 'ok', handler: 'noop', schedule: { event: bad } })).rejects.toMatchObject({ field: 'schedule.event' });
    }
    expect((await scheduler.listTriggers()).items.map((t) => t.id)).toEqual(['spy']);
    const http = await serve(scheduler);
    const reply = await send(http.port, { path: '/stats?triggerId=__proto__' });
    expect(reply.status).toBe(400);
    expect(errorOf(reply).field).toBe('triggerId');
  });

  it('copies keep a "__proto__" payload key as data and never change a prototype', () => {
    const payload = JSON.parse('{"__proto__":{"polluted":true},"n":1}') as Record<string, unknown>;
    const copy = cloneJson(payload as never) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({ polluted: true });
  });
});

/** The largest event-loop delay, in ms, seen while `work` runs. */
async function maxLoopDelay(work: () => Promise<void>): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  try {
    await work();
  } finally {
    histogram.disable();
  }
  return histogram.max / 1e6;
}

/** CPU time (user + system) spent by this process while `work` runs, in ms. */
async function cpuMs(work: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

describe('preview work is bounded', () => {
  const leap = encodeURIComponent('0 0 0 29 2 *');

  it('a sparse cron asked for too many fire times answers 422 ERR_PREVIEW_BUDGET, fast', async () => {
    const scheduler = await rig();
    await scheduler.addTrigger({ id: 'leap', handler: 'noop', schedule: { cron: '0 0 0 29 2 *', timezone: 'America/New_York' } });
    const { port } = await serve(scheduler);
    const reply = await send(port, { path: `/next?cron=${leap}&count=100` });
    expect(reply.status).toBe(422);
    expect(errorOf(reply)).toMatchObject({ code: 'ERR_PREVIEW_BUDGET', field: 'count' });
    expect(errorOf(reply).message).toMatch(/only 1 of the 100 fire times .* horizon of 5 years; ask for at most 1/);
    expect((await send(port, { path: `/triggers/leap/next?count=100` })).status).toBe(422);
    // One fire time fits the horizon; the trigger's page shows what the horizon holds.
    expect((await send(port, { path: `/next?cron=${leap}&count=1&from=2026-01-01T00:00:00Z` })).json).toMatchObject({ items: [{ at: '2028-02-29T00:00:00.000Z' }] });
    const detail = (await send(port, { path: '/triggers/leap' })).json as { next: unknown[] };
    expect(detail.next.length).toBeGreaterThanOrEqual(1);
    expect(detail.next.length).toBeLessThanOrEqual(2);
  });

  it('no preview request costs more than 50 ms of CPU, nor blocks the loop for seconds', async () => {
    const scheduler = await rig();
    await scheduler.addTrigger({ id: 'leap', handler: 'noop', schedule: { cron: '0 0 0 29 2 *', timezone: 'Europe/Berlin' } });
    const { port } = await serve(scheduler);
    // Varying the seconds field defeats the slot cache, as an attacker would; `from` is now, which
    // moves, so no answer is served from the cache either.
    const worst = (round: number): string[] => [
      ...[0, 1, 2].map((s) => `/next?cron=${encodeURIComponent(`${s + 3 * round} 0 0 29 2 *`)}&count=100&tz=America/New_York`),
      `/next?cron=${encodeURIComponent(`${10 + round} 30 2 29 2 *`)}&count=1&tz=Europe/Berlin`,
      `/next?cron=${encodeURIComponent('* * * * * *')}&count=100&tz=Europe/Berlin`,
      '/triggers/leap/next?count=100',
      '/triggers/leap',
    ];
    // First round: compile the code paths and load the zones, which is not per-request work.
    for (const path of worst(0)) await send(port, { path });
    let slowestCpu = 0;
    const delay = await maxLoopDelay(async () => {
      for (const path of worst(1)) {
        const used = await cpuMs(async () => expect((await send(port, { path })).status).toBeLessThan(500));
        slowestCpu = Math.max(slowestCpu, used);
      }
    });
    // The bound of 50 ms is asserted on CPU time (client and server side of the request together),
    // which other processes' load does not inflate. The loop delay is wall time: on a shared,
    // loaded machine it stretches several-fold, so it is only held to a bound that the unbounded
    // preview (seconds of CPU for 100 leap days) breaks.
    expect(slowestCpu).toBeLessThan(50);
    expect(delay).toBeLessThan(1000);
  });

  it('nextFireTimes throws PreviewBudgetError past its horizon, which can be widened', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    expect(() => nextFireTimes({ cron: '0 0 0 29 2 *', timezone: 'UTC' }, { from, count: 100 })).toThrow(PreviewBudgetError);
    expect(() => nextFireTimes({ cron: '0 0 0 29 2 *', timezone: 'UTC' }, { from, count: 3 })).toThrow(
      expect.objectContaining({ code: 'ERR_PREVIEW_BUDGET', found: 1 }),
    );
    expect(nextFireTimes({ cron: '0 0 0 29 2 *', timezone: 'UTC' }, { from, count: 3, horizon: '4000d' }).map((d) => d.getUTCFullYear())).toEqual([2028, 2032, 2036]);
    expect(nextFireTimes({ every: '1d' }, { from, count: 1000 })).toHaveLength(1000);
  });
});

describe('lists carry summaries, answers have a byte budget', () => {
  async function withBigJobs(count: number, bytes: number): Promise<Scheduler> {
    const scheduler = await rig();
    for (let i = 0; i < count; i++) await scheduler.runTrigger('spy', { payload: { blob: 'x'.repeat(bytes), i } });
    return scheduler;
  }

  it('GET /jobs and GET /triggers leave payload, result and history out unless fields= names them', async () => {
    const scheduler = await withBigJobs(20, 100_000);
    await scheduler.addTrigger({ id: 'fat', handler: 'noop', schedule: { manual: true }, payload: { blob: 'y'.repeat(100_000) } });
    const { port } = await serve(scheduler);
    const list = await send(port, { path: '/jobs?limit=1000' });
    expect(list.status).toBe(200);
    expect(list.text.length).toBeLessThan(50_000);
    const items = (list.json as { items: Record<string, unknown>[] }).items;
    expect(items).toHaveLength(20);
    for (const item of items) {
      expect(item).not.toHaveProperty('payload');
      expect(item).not.toHaveProperty('result');
      expect(item).not.toHaveProperty('history');
      expect(item).toMatchObject({ triggerId: 'spy', status: 'pending' });
    }
    const withPayload = (await send(port, { path: '/jobs?limit=2&fields=payload' })).json as { items: Record<string, unknown>[] };
    expect(withPayload.items[0]).toHaveProperty('payload.blob');
    expect(withPayload.items[0]).not.toHaveProperty('history');
    expect((await send(port, { path: '/jobs?fields=secrets' })).status).toBe(400);
    const one = (await send(port, { path: `/jobs/${items[0]!['id'] as string}` })).json as { job: Record<string, unknown> };
    expect(one.job).toHaveProperty('payload.blob');
    expect(one.job).toHaveProperty('history');
    const triggers = await send(port, { path: '/triggers' });
    expect(triggers.text.length).toBeLessThan(10_000);
    expect((await send(port, { path: '/triggers?fields=payload' })).text.length).toBeGreaterThan(100_000);
  });

  it('an answer past maxAnswerBytes is refused with 422 ERR_ANSWER_TOO_LARGE', async () => {
    const scheduler = await withBigJobs(5, 100_000);
    const { port } = await serve(scheduler, { auth: { none: true }, maxAnswerBytes: 200_000 });
    const big = await send(port, { path: '/jobs?fields=payload' });
    expect(big.status).toBe(422);
    expect(errorOf(big)).toMatchObject({ code: 'ERR_ANSWER_TOO_LARGE', field: 'limit' });
    expect((await send(port, { path: '/jobs?fields=payload&limit=1' })).status).toBe(200);
    expect((await send(port, { path: '/jobs' })).status).toBe(200);
  });
});

describe('HMAC replay and idempotent runs', () => {
  const secret = 'a-management-secret-of-32-bytes-at-least';

  it('a signed run replayed three times makes one job (webhook, Idempotency-Key)', async () => {
    const scheduler = await rig();
    const hook = await startServer(createWebhookHandler(scheduler, { auth: { hmac: { secret } } }));
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        // Each attempt signed anew, a second apart, as a retrying sender does.
        const timestamp = Math.floor(Date.now() / 1000) - 10 + i;
        const signature = signHmac(secret, { method: 'POST', path: '/triggers/spy/run', body: '', idempotencyKey: 'run-1', timestamp });
        const reply = await send(hook.port, { method: 'POST', path: '/triggers/spy/run', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'run-1', 'X-Signature': signature } });
        expect(reply.status).toBe(202);
        ids.push((reply.json as { job: { id: string } }).job.id);
      }
      expect(new Set(ids).size).toBe(1);
      expect((await scheduler.listJobs({ triggerId: 'spy' })).items).toHaveLength(1);
    } finally {
      await hook.close();
    }
  });

  it('the management API refuses a signature used twice, and honours Idempotency-Key on runs', async () => {
    const scheduler = await rig();
    const { port } = await serve(scheduler, { auth: { hmac: { secret } } });
    const headers = (key: string, timestamp: number): Record<string, string> => ({
      'Content-Type': 'application/json',
      'Idempotency-Key': key,
      'X-Signature': signManagementRequest(secret, { method: 'POST', path: '/triggers/spy/run', idempotencyKey: key, timestamp }),
    });
    const now = Math.floor(Date.now() / 1000);
    const first = await send(port, { method: 'POST', path: '/triggers/spy/run', headers: headers('k-1', now) });
    expect(first.status).toBe(201);
    const replay = await send(port, { method: 'POST', path: '/triggers/spy/run', headers: headers('k-1', now) });
    expect(replay.status).toBe(401);
    const again = await send(port, { method: 'POST', path: '/triggers/spy/run', headers: headers('k-1', now - 1) });
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    expect((await scheduler.listJobs({ triggerId: 'spy' })).items).toHaveLength(1);
    // A timestamp more than 30 s ahead is refused, whatever the tolerance.
    expect((await send(port, { method: 'POST', path: '/triggers/spy/run', headers: headers('k-2', now + 60) })).status).toBe(401);
  });
});

describe('event streams end with their token and are capped', () => {
  it('a stream opened with a token that expires in 2 s ends then', async () => {
    const scheduler = await rig();
    const { port } = await serve(scheduler, { auth: { jwt: { secret: JWT_SECRET, algorithms: ['HS256'] } }, eventsPingMs: 200 });
    const exp = Math.floor(Date.now() / 1000) + 2;
    const jwt = await new SignJWT({ scope: 'scheduler:read' }).setProtectedHeader({ alg: 'HS256' }).setSubject('op').setExpirationTime(exp).sign(new TextEncoder().encode(JWT_SECRET));
    const stream = await openStream(port, '/events', { Authorization: `Bearer ${jwt}` });
    try {
      expect(stream.status).toBe(200);
      await stream.waitFor((e) => e.event === 'expired', 6000);
      expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 50);
    } finally {
      stream.close();
    }
  });

  it('caps streams per caller and per process with 429', async () => {
    const scheduler = await rig();
    const { port } = await serve(scheduler, { auth: { none: true }, maxStreamsPerCaller: 3, maxStreams: 5 });
    const streams: SseStream[] = [];
    try {
      for (let i = 0; i < 3; i++) streams.push(await openStream(port, '/events'));
      expect(streams.map((s) => s.status)).toEqual([200, 200, 200]);
      const fourth = await send(port, { path: '/events' });
      expect(fourth.status).toBe(429);
      expect(errorOf(fourth).code).toBe('ERR_TOO_MANY_STREAMS');
      expect(fourth.headers['retry-after']).toBe('10');
      // A closed stream gives its place back.
      streams.pop()?.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      streams.push(await openStream(port, '/events'));
      expect(streams.at(-1)?.status).toBe(200);
    } finally {
      for (const s of streams) s.close();
    }
    const total = await serve(scheduler, { auth: { none: true }, maxStreams: 2 });
    const two = [await openStream(total.port, '/events'), await openStream(total.port, '/events')];
    try {
      expect((await send(total.port, { path: '/events' })).status).toBe(429);
    } finally {
      for (const s of two) s.close();
    }
  });
});

describe('logs carry no query strings', () => {
  it('a refused request with ?access_token= is logged by its path only', async () => {
    const scheduler = await rig();
    const lines: Record<string, unknown>[] = [];
    const logger = { error: (fields: Record<string, unknown>) => lines.push(fields), warn: (fields: Record<string, unknown>) => lines.push(fields) };
    const { port } = await serve(scheduler, { auth: { jwt: { secret: JWT_SECRET, algorithms: ['HS256'] } }, logger });
    const reply = await send(port, { path: '/jobs?access_token=eyJhbGciOiJIUzI1NiJ9.secret.sig&limit=5' });
    expect(reply.status).toBe(401);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ path: '/jobs' });
    expect(JSON.stringify(lines)).not.toContain('secret');
    const hook = await startServer(createWebhookHandler(scheduler, { auth: { hmac: { secret: 'a-webhook-secret-of-32-bytes-at-least!' } }, logger }));
    try {
      await send(hook.port, { method: 'POST', path: '/triggers/spy/run?sig=secret', headers: { 'Content-Type': 'application/json' } });
    } finally {
      await hook.close();
    }
    expect(lines[1]).toMatchObject({ path: '/triggers/spy/run' });
    expect(JSON.stringify(lines)).not.toContain('secret');
  });
});
