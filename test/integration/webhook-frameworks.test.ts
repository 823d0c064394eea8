/**
 * The webhook mounted in Express 5 and Fastify 5, exactly as docs/webhook.md shows it: the code
 * between the `#region` markers below is the code printed in the docs, and a test checks that the
 * docs still contain it verbatim.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookHandler, signHmac } from '../../src/webhook/index.js';
import { FakeScheduler, errorBody, send, type Reply } from '../unit/webhook/fixtures.js';

const secret = 'an-hmac-secret-of-at-least-32-bytes!!';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function signedPost(port: number, path: string, body: string, key?: string): Promise<Reply> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'X-Signature': signHmac(secret, { method: 'POST', path, body, ...(key === undefined ? {} : { idempotencyKey: key }) }),
  };
  if (key !== undefined) headers['Idempotency-Key'] = key;
  return send(port, { method: 'POST', path, headers, body });
}

async function listenExpress(app: express.Express): Promise<number> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

function expressApp(scheduler: FakeScheduler): express.Express {
  // #region express
  const app = express();
  // No express.json() in front of the webhook: it reads the raw body itself (HMAC signs raw bytes).
  // Express strips the mount path from req.url, so basePath stays '/'.
  app.use('/scheduler', createWebhookHandler(scheduler, { auth: { hmac: { secret } } }));
  // #endregion
  return app;
}

function fastifyApp(scheduler: FakeScheduler): FastifyInstance {
  // #region fastify
  const app = Fastify();
  const webhook = createWebhookHandler(scheduler, { auth: { hmac: { secret } }, basePath: '/scheduler' });
  // Take over in onRequest, before Fastify's body parsers read the stream; done() is not called
  // because the webhook answers on the raw response.
  app.all('/scheduler/*', {
    onRequest: (request, reply) => {
      reply.hijack();
      webhook(request.raw, reply.raw);
    },
    handler: () => undefined, // never reached
  });
  // #endregion
  return app;
}

async function listenFastify(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return (app.server.address() as AddressInfo).port;
}

describe('Express 5', () => {
  it('publishes, runs and reports health under the mount path', async () => {
    const scheduler = new FakeScheduler();
    const port = await listenExpress(expressApp(scheduler));
    const published = await signedPost(port, '/scheduler/events/testrun.finished', '{"suite":"smoke"}', 'd-1');
    expect(published.status).toBe(202);
    expect(scheduler.publishCalls).toEqual([
      { event: 'testrun.finished', payload: { suite: 'smoke' }, options: { eventId: 'd-1' } },
    ]);
    const run = await signedPost(port, '/scheduler/triggers/nightly-report/run', '{"payload":1}');
    expect(run.status).toBe(202);
    expect(run.json).toEqual({ job: { id: expect.any(String) } });
    const health = await send(port, {
      path: '/scheduler/health',
      headers: { 'X-Signature': signHmac(secret, { method: 'GET', path: '/scheduler/health', body: '' }) },
    });
    expect(health.status).toBe(200);
  });

  it('answers its own JSON errors under the mount path', async () => {
    const port = await listenExpress(expressApp(new FakeScheduler()));
    const unsigned = await send(port, { method: 'POST', path: '/scheduler/events/x', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(unsigned.status).toBe(401);
    expect(unsigned.json).toEqual(errorBody('ERR_UNAUTHORIZED'));
    expect((await send(port, { path: '/scheduler/nope' })).json).toEqual(errorBody('ERR_ROUTE_NOT_FOUND'));
    const tooBig = await signedPost(port, '/scheduler/events/x', `"${'x'.repeat(1024 * 1024)}"`);
    expect(tooBig.status).toBe(413);
  });

  it('answers 500 ERR_BODY_CONSUMED (and logs why) when a JSON body parser ran first', async () => {
    const scheduler = new FakeScheduler();
    const logged: unknown[] = [];
    const app = express();
    app.use(express.json());
    app.use('/scheduler', createWebhookHandler(scheduler, { auth: { none: true }, logger: { error: (f) => logged.push(f) } }));
    const port = await listenExpress(app);
    const reply = await send(port, { method: 'POST', path: '/scheduler/events/x', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(reply.status).toBe(500);
    expect(reply.json).toEqual(errorBody('ERR_BODY_CONSUMED'));
    expect(logged).toHaveLength(1);
    expect(scheduler.publishCalls).toHaveLength(0);
  });
});

describe('Fastify 5', () => {
  it('publishes, runs and reports health through the raw request', async () => {
    const scheduler = new FakeScheduler();
    const port = await listenFastify(fastifyApp(scheduler));
    const published = await signedPost(port, '/scheduler/events/testrun.finished', '{"suite":"smoke"}', 'd-2');
    expect(published.status).toBe(202);
    expect(scheduler.publishCalls).toEqual([
      { event: 'testrun.finished', payload: { suite: 'smoke' }, options: { eventId: 'd-2' } },
    ]);
    expect((await signedPost(port, '/scheduler/triggers/nightly-report/run', '{}')).status).toBe(202);
    const health = await send(port, {
      path: '/scheduler/health',
      headers: { 'X-Signature': signHmac(secret, { method: 'GET', path: '/scheduler/health', body: '' }) },
    });
    expect(health.status).toBe(200);
    expect(health.json).toEqual(scheduler.report);
  });

  it('keeps the webhook rules: 401, 404, 405, 413, 415 and long names', async () => {
    const scheduler = new FakeScheduler();
    const port = await listenFastify(fastifyApp(scheduler));
    const unsigned = await send(port, { method: 'POST', path: '/scheduler/events/x', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(unsigned.status).toBe(401);
    expect((await send(port, { path: '/scheduler/nope' })).json).toEqual(errorBody('ERR_ROUTE_NOT_FOUND'));
    expect((await send(port, { method: 'PUT', path: '/scheduler/health' })).status).toBe(405);
    expect((await signedPost(port, '/scheduler/events/x', `"${'x'.repeat(1024 * 1024)}"`)).status).toBe(413);
    const plain = await send(port, {
      method: 'POST',
      path: '/scheduler/events/x',
      headers: { 'Content-Type': 'text/plain', 'X-Signature': signHmac(secret, { method: 'POST', path: '/scheduler/events/x', body: 'hi' }) },
      body: 'hi',
    });
    expect(plain.status).toBe(415);
    const long = `ns.${'e'.repeat(190)}`;
    expect((await signedPost(port, `/scheduler/events/${long}`, '{}')).status).toBe(202);
    expect(scheduler.publishCalls.at(-1)?.event).toBe(long);
  });
});

describe('docs/webhook.md', () => {
  it('shows the tested Express and Fastify code verbatim', () => {
    const source = readFileSync(new URL(import.meta.url), 'utf8');
    const docs = readFileSync(new URL('../../docs/webhook.md', import.meta.url), 'utf8');
    for (const name of ['express', 'fastify']) {
      const match = new RegExp(`// #region ${name}\\n([\\s\\S]*?)\\n\\s*// #endregion`).exec(source);
      expect(match, name).not.toBeNull();
      // Dedent: the docs print the region at top level.
      const lines = (match?.[1] ?? '').split('\n');
      const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)?.[0].length ?? 0));
      const code = lines.map((l) => l.slice(indent)).join('\n');
      expect(docs, `docs/webhook.md must contain the ${name} snippet`).toContain(code);
    }
  });
});
