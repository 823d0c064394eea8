/**
 * Limits of the webhook against an abusive caller: a slow body, a malformed signature on a large
 * declared body, and JSON nested 20,000 levels deep.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/scheduler.js';
import { createWebhookHandler } from '../../src/webhook/index.js';
import { FakeScheduler, send, startServer, type RunningServer } from '../unit/webhook/fixtures.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Write `head` (and nothing more) on a raw connection; resolve with the answer's first bytes and when they came. */
function rawRequest(port: number, head: string): Promise<{ text: string; afterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\r\n\r\n')) {
        socket.destroy();
        resolve({ text, afterMs: Date.now() - started });
      }
    });
    socket.on('error', reject);
    socket.setTimeout(15_000, () => {
      socket.destroy();
      reject(new Error(`no answer; got ${JSON.stringify(text)}`));
    });
  });
}

describe('webhook limits', () => {
  it('answers 408 to a body that does not arrive within bodyTimeoutMs, and closes', async () => {
    const server = await startServer(createWebhookHandler(new FakeScheduler(), { auth: { none: true }, bodyTimeoutMs: 300 }));
    servers.push(server);
    const head = `POST /events/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`;
    const answer = await rawRequest(server.port, head);
    expect(answer.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer.text.toLowerCase()).toContain('connection: close');
  });

  it('refuses a malformed signature before reading a large declared body', async () => {
    const server = await startServer(createWebhookHandler(new FakeScheduler(), { auth: { hmac: { secret: 'a-webhook-secret-of-32-bytes-at-least!' } } }));
    servers.push(server);
    const head = `POST /events/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\nX-Signature: t=1, v2=zz\r\n\r\n`;
    // Not one body byte is sent: an answer can only come from a check made before the body.
    const answer = await rawRequest(server.port, head);
    expect(answer.text).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('a payload nested 20,000 deep gets the validation error, never a RangeError', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const fake = new FakeScheduler();
    const server = await startServer(createWebhookHandler(fake, { auth: { none: true }, maxBodyBytes: 1024 * 1024 }));
    servers.push(server);
    const reply = await send(server.port, { method: 'POST', path: '/events/testrun.finished', headers: { 'Content-Type': 'application/json' }, body: deep });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({ error: { code: 'ERR_INVALID_JSON', message: 'request body is nested deeper than 64 levels' } });
    expect(fake.publishCalls).toHaveLength(0);

    const scheduler = new Scheduler({ instanceId: 'deep' });
    scheduler.register('noop', async () => null);
    await scheduler.addTrigger({ id: 't', handler: 'noop', schedule: { manual: true } });
    let payload: unknown = 1;
    for (let i = 0; i < 20_000; i++) payload = { a: payload };
    await expect(scheduler.runTrigger('t', { payload: payload as never })).rejects.toMatchObject({
      code: 'ERR_INVALID_TRIGGER_CONFIG',
      message: expect.stringContaining('nested deeper than 64 levels'),
    });
    // 64 levels are fine.
    let ok: unknown = 1;
    for (let i = 0; i < 63; i++) ok = [ok];
    await expect(scheduler.runTrigger('t', { payload: ok as never })).resolves.toMatchObject({ triggerId: 't' });
  });
});
