/**
 * HMAC request signing over real HTTP: valid, wrong secret, tampered body, stale and future
 * timestamps, malformed headers, replays under the same and under a new Idempotency-Key, rotation.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookHandler, signHmac } from '../../src/webhook/index.js';
import { FakeScheduler, errorBody, send, startServer, type Reply, type RunningServer } from '../unit/webhook/fixtures.js';

const SECRET = 'hmac-secret-0123456789abcdefghijklmnop';
const NEXT_SECRET = 'hmac-secret-next-0123456789abcdefghijk';
let nowMs = Date.UTC(2026, 5, 1, 8, 0, 0);
const nowSec = (): number => Math.floor(nowMs / 1000);

const scheduler = new FakeScheduler();
let server: RunningServer;

beforeAll(async () => {
  server = await startServer(
    createWebhookHandler(scheduler, {
      auth: { hmac: { secret: [SECRET, NEXT_SECRET] } },
      clock: { now: () => nowMs },
    }),
  );
});
afterAll(() => server.close());
afterEach(() => {
  scheduler.publishCalls.length = 0;
  scheduler.runCalls.length = 0;
  scheduler.fired.length = 0;
  nowMs = Date.UTC(2026, 5, 1, 8, 0, 0);
});

interface Delivery {
  path?: string;
  body?: string;
  key?: string;
  signature?: string;
  method?: string;
}

/** A v2 signature of a POST to the default route. */
function sig(body: string, timestamp: number, idempotencyKey?: string, path = '/events/testrun.finished'): string {
  return signHmac(SECRET, { body, timestamp, method: 'POST', path, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) });
}

/** A signed delivery; every part can be overridden to build forgeries. */
function deliver(d: Delivery = {}): Promise<Reply> {
  const body = d.body ?? '{"suite":"smoke"}';
  const headers: Record<string, string> = {};
  if (d.method !== 'GET') headers['Content-Type'] = 'application/json';
  if (d.key !== undefined) headers['Idempotency-Key'] = d.key;
  headers['X-Signature'] =
    d.signature ??
    signHmac(SECRET, {
      body,
      timestamp: nowSec(),
      method: d.method ?? 'POST',
      path: d.path ?? '/events/testrun.finished',
      ...(d.key === undefined ? {} : { idempotencyKey: d.key }),
    });
  return send(server.port, {
    method: d.method ?? 'POST',
    path: d.path ?? '/events/testrun.finished',
    headers,
    ...(d.method === 'GET' ? {} : { body }),
  });
}

describe('HMAC', () => {
  it('accepts a correctly signed delivery', async () => {
    const reply = await deliver({ key: 'd-1' });
    expect(reply.status).toBe(202);
    expect(scheduler.publishCalls).toEqual([
      { event: 'testrun.finished', payload: { suite: 'smoke' }, options: { eventId: 'd-1' } },
    ]);
  });

  it('accepts a signed run and a signed health check', async () => {
    const body = '{"payload":{"n":1}}';
    expect((await deliver({ path: '/triggers/nightly-report/run', body })).status).toBe(202);
    const health = await send(server.port, {
      path: '/health',
      headers: { 'X-Signature': signHmac(SECRET, { body: '', timestamp: nowSec(), method: 'GET', path: '/health' }) },
    });
    expect(health.status).toBe(200);
  });

  it('accepts any of several secrets (rotation)', async () => {
    const body = '{}';
    const signature = signHmac(NEXT_SECRET, { body, timestamp: nowSec(), method: 'POST', path: '/events/testrun.finished' });
    expect((await deliver({ body, signature })).status).toBe(202);
  });

  it('refuses a signature made with a wrong secret', async () => {
    const body = '{}';
    const reply = await deliver({ body, signature: signHmac('not-the-secret-but-32-bytes-long-xx', { body, timestamp: nowSec(), method: 'POST', path: '/events/testrun.finished' }) });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual(errorBody('ERR_UNAUTHORIZED'));
    expect(reply.headers['www-authenticate']).toBeUndefined();
    expect(scheduler.publishCalls).toHaveLength(0);
  });

  it('refuses a tampered body and a signature with one hex digit changed', async () => {
    const signature = sig('{"suite":"smoke"}', nowSec());
    expect((await deliver({ body: '{"suite":"full"}', signature })).status).toBe(401);
    const flipped = signature.replace(/v2=(.)/, (_m, c: string) => `v2=${c === '0' ? '1' : '0'}`);
    expect((await deliver({ signature: flipped })).status).toBe(401);
    expect(scheduler.publishCalls).toHaveLength(0);
  });

  it('refuses missing and malformed headers', async () => {
    const t = nowSec();
    for (const signature of ['', 'garbage', `t=${t}`, `v1=${'a'.repeat(64)}`, `t=${t}, v1=abc`, `t=x, v1=${'a'.repeat(64)}`, `t=${t}, t=${t}, v1=${'a'.repeat(64)}`]) {
      const reply = await deliver({ signature });
      expect(reply.status, signature).toBe(401);
    }
    const unsigned = await send(server.port, {
      method: 'POST',
      path: '/events/x',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(unsigned.status).toBe(401);
    expect(scheduler.publishCalls).toHaveLength(0);
  });

  it('refuses a stale timestamp (older than 300 s) and one more than 30 s in the future', async () => {
    const body = '{}';
    const stale = await deliver({ body, signature: sig(body, nowSec() - 301) });
    expect(stale.status).toBe(401);
    expect(stale.json).toEqual({ error: { code: 'ERR_UNAUTHORIZED', message: 'stale X-Signature timestamp' } });
    expect((await deliver({ body, signature: sig(body, nowSec() + 31) })).status).toBe(401);
    expect((await deliver({ body, signature: sig(body, nowSec() + 299) })).status).toBe(401);
    expect((await deliver({ body, signature: sig(body, nowSec() + 29) })).status).toBe(202);
    expect((await deliver({ body, signature: sig(body, nowSec() - 299) })).status).toBe(202);
  });

  it('refuses the same signed request once the clock moved past the tolerance', async () => {
    const body = '{}';
    const signature = sig(body, nowSec());
    expect((await deliver({ body, signature })).status).toBe(202);
    nowMs += 301_000;
    expect((await deliver({ body, signature })).status).toBe(401);
  });

  it('refuses a signature used before, while it is fresh; a delivery signed anew with the same key fires once', async () => {
    const body = '{"build":42}';
    const signature = sig(body, nowSec(), 'build-42');
    const first = await deliver({ body, signature, key: 'build-42' });
    const replay = await deliver({ body, signature, key: 'build-42' });
    expect(first.status).toBe(202);
    expect(replay.status).toBe(401);
    expect(replay.json).toEqual({ error: { code: 'ERR_UNAUTHORIZED', message: 'signature already used: sign every request anew' } });
    nowMs += 1000;
    const resent = await deliver({ body, signature: sig(body, nowSec(), 'build-42'), key: 'build-42' });
    expect(resent.status).toBe(202);
    expect(resent.json).toEqual(first.json);
    expect(scheduler.fired).toHaveLength(1);
  });

  it('refuses a captured request replayed under a new Idempotency-Key, or with the key stripped', async () => {
    const body = '{"build":43}';
    const signature = sig(body, nowSec(), 'build-43');
    expect((await deliver({ body, signature, key: 'build-43' })).status).toBe(202);
    nowMs += 1000;
    const fresh = sig(body, nowSec(), 'build-43');
    const renamed = await deliver({ body, signature: fresh, key: 'build-43-again' });
    expect(renamed.status).toBe(401);
    const stripped = await deliver({ body, signature: fresh });
    expect(stripped.status).toBe(401);
    expect(scheduler.fired).toHaveLength(1);
  });

  it('a v2 signature covers method and path: a captured bodiless publish cannot run a trigger', async () => {
    const signature = signHmac(SECRET, { body: '', timestamp: nowSec(), method: 'POST', path: '/events/testrun.finished' });
    const elsewhere = await deliver({ body: '', signature, path: '/triggers/nightly-report/run' });
    expect(elsewhere.status).toBe(401);
    expect(scheduler.runCalls).toHaveLength(0);
  });

  it('refuses v1 signatures unless acceptV1 is set', async () => {
    const body = '{}';
    const v1 = signHmac(SECRET, { body, timestamp: nowSec() });
    const refused = await deliver({ body, signature: v1 });
    expect(refused.status).toBe(401);
    expect(refused.json).toEqual({ error: { code: 'ERR_UNAUTHORIZED', message: 'signature version v1 is not accepted: sign method and path too (v2)' } });
    const legacy = await startServer(createWebhookHandler(scheduler, { auth: { hmac: { secret: SECRET, acceptV1: true } }, clock: { now: () => nowMs } }));
    try {
      const reply = await send(legacy.port, { method: 'POST', path: '/events/testrun.finished', headers: { 'Content-Type': 'application/json', 'X-Signature': v1 }, body });
      expect(reply.status).toBe(202);
    } finally {
      await legacy.close();
    }
  });

  it('refuses a request signed without a key but sent with one', async () => {
    const body = '{}';
    const signature = sig(body, nowSec());
    expect((await deliver({ body, signature, key: 'added-later' })).status).toBe(401);
  });
});
