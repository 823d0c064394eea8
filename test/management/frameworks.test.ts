/**
 * The management API mounted in Express 5 (as middleware under a mount path) and Fastify 5 (as a
 * raw handler taking over in onRequest), with HMAC, which signs the path as the client sent it.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createManagementApi, signManagementRequest } from '../../src/management/index.js';
import type { Job, Trigger } from '../../src/types.js';
import { setup, type TestRig } from '../helpers/setup.js';
import { closeAll, onClose, send } from './helpers.js';

const secret = 'an-hmac-secret-of-at-least-32-bytes!!';
afterEach(closeAll);

async function rig(): Promise<TestRig> {
  const r = setup();
  r.scheduler.register('ok', () => 'done');
  await r.scheduler.addTrigger({ id: 't', handler: 'ok', schedule: { manual: true } });
  return r;
}

function signed(port: number, method: string, path: string, body?: string) {
  const headers: Record<string, string> = { 'X-Signature': signManagementRequest(secret, { method, path, ...(body === undefined ? {} : { body }) }) };
  if (method !== 'GET') headers['Content-Type'] = 'application/json';
  return send(port, { method, path, headers, ...(body === undefined ? {} : { body }) });
}

describe('Express 5', () => {
  it('serves the routes under the mount path, basePath left at /', async () => {
    const { scheduler } = await rig();
    const app = express();
    app.use('/ops', createManagementApi(scheduler, { auth: { hmac: { secret } } }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    onClose(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const port = (server.address() as AddressInfo).port;

    const list = await signed(port, 'GET', '/ops/triggers?status=active');
    expect(list.status).toBe(200);
    expect((list.json as { items: Trigger[] }).items.map((t) => t.id)).toEqual(['t']);
    const run = await signed(port, 'POST', '/ops/triggers/t/run', '{"payload":{"via":"express"}}');
    expect(run.status).toBe(201);
    expect((run.json as { job: Job }).job.payload).toEqual({ via: 'express' });
    // Signed for the path without the mount: refused, the client's target is what counts.
    const wrongPath = await send(port, { path: '/ops/health', headers: { 'X-Signature': signManagementRequest(secret, { method: 'GET', path: '/health' }) } });
    expect(wrongPath.status).toBe(401);
  });
});

describe('Fastify 5', () => {
  it('serves the routes as a raw handler with basePath', async () => {
    const { scheduler } = await rig();
    const app = Fastify();
    const api = createManagementApi(scheduler, { auth: { hmac: { secret } }, basePath: '/ops' });
    app.all('/ops/*', {
      onRequest: (request, reply) => {
        reply.hijack();
        api(request.raw, reply.raw);
      },
      handler: () => undefined,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    onClose(() => app.close());
    const port = (app.server.address() as AddressInfo).port;

    const paused = await signed(port, 'POST', '/ops/triggers/t/pause');
    expect(paused.status).toBe(200);
    expect((await scheduler.getTrigger('t'))?.status).toBe('paused');
    const removed = await signed(port, 'DELETE', '/ops/triggers/t');
    expect(removed.status).toBe(204);
    expect(await scheduler.getTrigger('t')).toBeNull();
  });
});
