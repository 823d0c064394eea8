/**
 * The webhook in front of a real Scheduler (the other webhook tests use a stand-in).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/index.js';
import { createWebhookHandler } from '../../src/entries/http.js';
import { eventually } from '../helpers/time.js';

let server: Server | null = null;
let scheduler: Scheduler | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  await scheduler?.stop();
  server = null;
  scheduler = null;
});

describe('webhook + Scheduler', () => {
  it('publishes events, runs triggers, answers 404 for unknown triggers and reports health', async () => {
    scheduler = new Scheduler();
    const ran: unknown[] = [];
    scheduler.register('h', (ctx) => void ran.push(ctx.payload));
    await scheduler.start();
    await scheduler.addTrigger({ id: 'on-event', handler: 'h', schedule: { event: 'build.done' } });
    await scheduler.addTrigger({ id: 'manual', handler: 'h', schedule: { manual: true } });
    server = createServer(createWebhookHandler(scheduler, { auth: { none: true } }));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = (path: string, body: unknown, key?: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json', ...(key ? { 'Idempotency-Key': key } : {}) },
      });

    const published = await post('/events/build.done', { sha: 'abc' }, 'delivery-1');
    expect(published.status).toBe(202);
    const replay = await post('/events/build.done', { sha: 'abc' }, 'delivery-1');
    expect(await replay.json()).toEqual(await published.json());
    const run = await post('/triggers/manual/run', { payload: { by: 'ci' } });
    expect(run.status).toBe(202);
    const { job } = (await run.json()) as { job: { id: string } };
    await eventually(async () => (await scheduler!.getJob(job.id))?.status === 'succeeded');
    expect(ran).toEqual([{ sha: 'abc' }, { by: 'ci' }]);
    expect((await post('/triggers/ghost/run', {})).status).toBe(404);
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
  });
});
