/**
 * Webhook routes, answers and body rules, over real HTTP on 127.0.0.1 (authentication off here; the
 * JWT and HMAC suites cover it).
 */
import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, InvalidTriggerConfigError, SchedulerStoppedError } from '../../src/errors.js';
import { createWebhookHandler, type WebhookLogger } from '../../src/webhook/index.js';
import {
  FakeScheduler,
  errorBody,
  postJson,
  send,
  startServer,
  type RunningServer,
} from '../unit/webhook/fixtures.js';

const scheduler = new FakeScheduler();
const logged: { fields: Record<string, unknown>; message: string | undefined }[] = [];
const logger: WebhookLogger = { error: (fields, message) => logged.push({ fields, message }) };
let server: RunningServer;
let port: number;

beforeAll(async () => {
  server = await startServer(createWebhookHandler(scheduler, { auth: { none: true }, maxBodyBytes: 1024, logger }));
  port = server.port;
});
afterAll(() => server.close());
afterEach(() => {
  scheduler.publishCalls.length = 0;
  scheduler.runCalls.length = 0;
  scheduler.fired.length = 0;
  scheduler.failure = undefined;
  scheduler.report = { status: 'ok', instanceId: 'fake-1' };
  logged.length = 0;
});

describe('POST events/:name', () => {
  it('publishes the JSON payload and answers 202 with the jobs', async () => {
    const reply = await postJson(port, '/events/testrun.finished', { suite: 'smoke', passed: 12 });
    expect(reply.status).toBe(202);
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(reply.json).toEqual({ jobs: [{ id: scheduler.fired[0]?.id, triggerId: 'on-testrun' }] });
    expect(scheduler.publishCalls).toEqual([
      { event: 'testrun.finished', payload: { suite: 'smoke', passed: 12 }, options: {} },
    ]);
  });

  it('answers an event nobody listens to with an empty job list', async () => {
    const reply = await postJson(port, '/events/nobody.listens', 1);
    expect(reply.status).toBe(202);
    expect(reply.json).toEqual({ jobs: [] });
  });

  it('publishes without a payload when the body is empty', async () => {
    const reply = await send(port, { method: 'POST', path: '/events/testrun.finished', headers: { 'Content-Type': 'application/json' } });
    expect(reply.status).toBe(202);
    expect(scheduler.publishCalls[0]?.payload).toBeUndefined();
  });

  it('without credentials, refuses a bodiless POST that does not say JSON, and cross-site requests', async () => {
    expect((await send(port, { method: 'POST', path: '/events/testrun.finished' })).status).toBe(415);
    expect((await send(port, { method: 'POST', path: '/triggers/nightly-report/run', headers: { 'Content-Type': 'text/plain' } })).status).toBe(415);
    const crossSite = await postJson(port, '/triggers/nightly-report/run', {}, { 'Sec-Fetch-Site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const foreign = await postJson(port, '/events/testrun.finished', {}, { Origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const rebound = await postJson(port, '/events/testrun.finished', {}, { Host: 'rebind.example' });
    expect(rebound.status).toBe(403);
    expect(scheduler.publishCalls).toHaveLength(0);
    expect(scheduler.runCalls).toHaveLength(0);
  });

  it('URL-decodes the event name; an encoded slash stays part of the name', async () => {
    await postJson(port, '/events/build%20done%2Fweb', null);
    expect(scheduler.publishCalls[0]?.event).toBe('build done/web');
    expect(scheduler.publishCalls[0]?.payload).toBeNull();
  });

  it('turns Idempotency-Key into the event id, so a retried delivery fires once', async () => {
    const first = await postJson(port, '/events/testrun.finished', { run: 1 }, { 'Idempotency-Key': 'delivery-7' });
    const retry = await postJson(port, '/events/testrun.finished', { run: 1 }, { 'Idempotency-Key': 'delivery-7' });
    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.json).toEqual(first.json);
    expect(scheduler.publishCalls.map((c) => c.options)).toEqual([{ eventId: 'delivery-7' }, { eventId: 'delivery-7' }]);
    expect(scheduler.fired).toHaveLength(1);
  });
});

describe('POST triggers/:id/run', () => {
  it('runs the trigger with the payload and answers 202 { job: { id } }', async () => {
    const reply = await postJson(port, '/triggers/nightly-report/run', { payload: { force: true } });
    expect(reply.status).toBe(202);
    expect(reply.json).toEqual({ job: { id: expect.any(String) } });
    expect(scheduler.runCalls).toEqual([{ id: 'nightly-report', options: { payload: { force: true } } }]);
  });

  it('runs without options for an empty body, and with {} for a body without payload', async () => {
    expect((await send(port, { method: 'POST', path: '/triggers/nightly-report/run', headers: { 'Content-Type': 'application/json' } })).status).toBe(202);
    expect((await postJson(port, '/triggers/nightly-report/run', {})).status).toBe(202);
    expect((await postJson(port, '/triggers/nightly-report/run', { payload: null })).status).toBe(202);
    expect(scheduler.runCalls.map((c) => c.options)).toEqual([undefined, {}, { payload: null }]);
  });

  it('answers 404 ERR_TRIGGER_NOT_FOUND for an unknown trigger', async () => {
    const reply = await postJson(port, '/triggers/missing/run', {});
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual(errorBody('ERR_TRIGGER_NOT_FOUND'));
  });

  it('answers 400 for a body that is not { payload }', async () => {
    for (const body of [[1, 2], 'x', { paylaod: 1 }, { payload: 1, extra: true }]) {
      const reply = await postJson(port, '/triggers/nightly-report/run', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.json).toEqual(errorBody('ERR_INVALID_REQUEST'));
    }
    expect(scheduler.runCalls).toHaveLength(0);
  });
});

describe('GET health', () => {
  it('answers the report with 200', async () => {
    const reply = await send(port, { path: '/health' });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ status: 'ok', instanceId: 'fake-1' });
    expect(reply.headers['cache-control']).toBe('no-store');
  });

  it('answers 503 when the scheduler reports itself down', async () => {
    scheduler.report = { status: 'down' };
    expect((await send(port, { path: '/health' })).status).toBe(503);
  });

  it('answers HEAD with headers only', async () => {
    const reply = await send(port, { method: 'HEAD', path: '/health' });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('');
  });
});

describe('400: bad JSON, names and keys', () => {
  it('refuses malformed JSON and invalid UTF-8', async () => {
    const headers = { 'Content-Type': 'application/json' };
    for (const body of ['{"a":', "{'a':1}", Buffer.from([0x22, 0xff, 0xfe, 0x22])]) {
      const reply = await send(port, { method: 'POST', path: '/events/x', headers, body });
      expect(reply.status).toBe(400);
      expect(reply.json).toEqual(errorBody('ERR_INVALID_JSON'));
    }
    expect(scheduler.publishCalls).toHaveLength(0);
  });

  it('refuses bad event names but allows dots', async () => {
    const bad = ['/events/%24where', `/events/${'e'.repeat(201)}`, '/events/', '/events/a%0Ab', '/events/%E0%A4%A'];
    for (const path of bad) {
      const reply = await postJson(port, path, {});
      expect(reply.status, path).toBe(400);
      expect(reply.json).toEqual(errorBody('ERR_INVALID_NAME'));
    }
    expect((await postJson(port, `/events/a.b.c${'e'.repeat(195)}`, {})).status).toBe(202);
    expect(scheduler.publishCalls).toHaveLength(1);
  });

  it('refuses trigger ids with "$" or "." (also percent-encoded)', async () => {
    for (const path of ['/triggers/a.b/run', '/triggers/a%2Eb/run', '/triggers/%24x/run', '/triggers/x$/run']) {
      const reply = await postJson(port, path, {});
      expect(reply.status, path).toBe(400);
      expect(reply.json).toEqual(errorBody('ERR_INVALID_NAME'));
    }
    expect(scheduler.runCalls).toHaveLength(0);
  });

  it('refuses a malformed Idempotency-Key', async () => {
    for (const key of ['has space', 'k'.repeat(201)]) {
      const reply = await postJson(port, '/events/x', {}, { 'Idempotency-Key': key });
      expect(reply.status).toBe(400);
      expect(reply.json).toEqual(errorBody('ERR_INVALID_IDEMPOTENCY_KEY'));
    }
  });
});

describe('404 and 405', () => {
  it('answers 404 for unknown routes', async () => {
    for (const path of ['/', '/nope', '/events', '/events/a/b', '/triggers/x', '/triggers/x/stop', '/health/']) {
      const reply = await send(port, { method: 'POST', path });
      expect(reply.status, path).toBe(404);
      expect(reply.json).toEqual(errorBody('ERR_ROUTE_NOT_FOUND'));
    }
  });

  it('answers 405 with Allow for a wrong method', async () => {
    const get = await send(port, { path: '/events/x' });
    expect(get.status).toBe(405);
    expect(get.headers['allow']).toBe('POST');
    expect(get.json).toEqual(errorBody('ERR_METHOD_NOT_ALLOWED'));
    const post = await send(port, { method: 'POST', path: '/health' });
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
    expect((await send(port, { method: 'DELETE', path: '/triggers/x/run' })).status).toBe(405);
  });
});

describe('413: body over maxBodyBytes', () => {
  it('refuses a declared Content-Length over the limit without reading the body', async () => {
    // The client declares 5000 bytes but sends only 10 and keeps the request open: an answer can
    // only come if the server decided from the header alone.
    const reply = await new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/events/x',
          agent: false,
          headers: { 'Content-Type': 'application/json', 'Content-Length': 5000 },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers['connection'] }));
        },
      );
      req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
      req.write('{"a":"xxx"');
    });
    expect(reply.status).toBe(413);
    expect(reply.connection).toBe('close');
    expect(JSON.parse(reply.body)).toEqual(errorBody('ERR_PAYLOAD_TOO_LARGE'));
    expect(scheduler.publishCalls).toHaveLength(0);
  });

  it('stops reading a streamed (chunked) body as soon as it passes the limit', async () => {
    // 2 KiB sent in chunked encoding and the request never ended: the 413 proves the server gave up
    // at the limit instead of waiting for (or reading) the rest.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/events/x',
          agent: false,
          headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', (err) => (/hang up|ECONNRESET|EPIPE/.test(err.message) ? undefined : reject(err)));
      req.write(`"${'x'.repeat(2048)}`);
    });
    expect(status).toBe(413);
    expect(scheduler.publishCalls).toHaveLength(0);
  });

  it('accepts a body exactly at the limit', async () => {
    const body = `"${'x'.repeat(1022)}"`;
    expect(Buffer.byteLength(body)).toBe(1024);
    const reply = await send(port, { method: 'POST', path: '/events/x', headers: { 'Content-Type': 'application/json' }, body });
    expect(reply.status).toBe(202);
  });
});

describe('415: not JSON', () => {
  it('refuses a body that is not application/json', async () => {
    for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1']) {
      const headers: Record<string, string> = type === undefined ? {} : { 'Content-Type': type };
      const reply = await send(port, { method: 'POST', path: '/events/x', headers, body: '{}' });
      expect(reply.status, String(type)).toBe(415);
      expect(reply.json).toEqual(errorBody('ERR_UNSUPPORTED_MEDIA_TYPE'));
    }
    expect(scheduler.publishCalls).toHaveLength(0);
  });

  it('accepts application/json with a UTF-8 charset, in any case', async () => {
    for (const type of ['application/json; charset=utf-8', 'Application/JSON;Charset="UTF-8"']) {
      const reply = await send(port, { method: 'POST', path: '/events/x', headers: { 'Content-Type': type }, body: '{}' });
      expect(reply.status, type).toBe(202);
    }
  });
});

describe('prototype pollution', () => {
  it('drops __proto__, constructor and prototype keys at every depth', async () => {
    const body =
      '{"ok":1,"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},' +
      '"nested":{"list":[{"__proto__":{"polluted":"yes"},"keep":true}],"prototype":1}}';
    const reply = await send(port, { method: 'POST', path: '/events/x', headers: { 'Content-Type': 'application/json' }, body });
    expect(reply.status).toBe(202);
    const payload = scheduler.publishCalls[0]?.payload;
    expect(payload).toEqual({ ok: 1, nested: { list: [{ keep: true }] } });
    expect(JSON.stringify(payload)).not.toMatch(/__proto__|constructor|prototype|polluted/);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    // The payload objects are ordinary objects whose prototype was not replaced.
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
  });

  it('drops them from a run payload too', async () => {
    const body = '{"payload":{"__proto__":{"isAdmin":true},"a":1}}';
    await send(port, { method: 'POST', path: '/triggers/nightly-report/run', headers: { 'Content-Type': 'application/json' }, body });
    expect(scheduler.runCalls[0]?.options).toEqual({ payload: { a: 1 } });
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
  });
});

describe('scheduler errors', () => {
  it('maps InvalidTriggerConfigError to 400 with its message', async () => {
    scheduler.failure = new InvalidTriggerConfigError('payload', 'too large for one BSON document');
    const reply = await postJson(port, '/events/x', {});
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({
      error: { code: 'ERR_INVALID_TRIGGER_CONFIG', message: 'payload: too large for one BSON document' },
    });
  });

  it('maps InvalidArgumentError (an argument that is not trigger input) to 400 ERR_INVALID_REQUEST with its message', async () => {
    scheduler.failure = new InvalidArgumentError('eventId', 'must not start with "$"');
    const reply = await postJson(port, '/events/x', {});
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({ error: { code: 'ERR_INVALID_REQUEST', message: 'eventId: must not start with "$"' } });
  });

  it('maps SchedulerStoppedError to 503', async () => {
    scheduler.failure = new SchedulerStoppedError();
    const reply = await postJson(port, '/triggers/nightly-report/run', {});
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('5');
    expect(reply.json).toEqual(errorBody('ERR_SCHEDULER_STOPPED'));
  });

  it('answers anything else with a generic 500, logs it, and leaks no stack or message', async () => {
    const secret = 'mongodb://admin:hunter2@db.internal';
    scheduler.failure = new Error(`connect failed: ${secret}`);
    for (const reply of [await postJson(port, '/events/x', {}), await send(port, { path: '/health' })]) {
      expect(reply.status).toBe(500);
      expect(reply.json).toEqual({ error: { code: 'ERR_INTERNAL', message: 'internal error' } });
      expect(reply.text).not.toContain('hunter2');
      expect(reply.text).not.toContain('at ');
    }
    expect(logged).toHaveLength(2);
    expect(logged[0]?.fields['err']).toBe(scheduler.failure);
  });
});

describe('basePath', () => {
  it('serves the routes under a prefix and 404s outside it', async () => {
    const prefixed = await startServer(createWebhookHandler(scheduler, { auth: { none: true }, basePath: '/hooks/scheduler/' }));
    try {
      expect((await send(prefixed.port, { path: '/hooks/scheduler/health' })).status).toBe(200);
      expect((await postJson(prefixed.port, '/hooks/scheduler/events/x?source=ci', {})).status).toBe(202);
      expect((await send(prefixed.port, { path: '/health' })).status).toBe(404);
      expect((await send(prefixed.port, { path: '/hooks/schedulerx/health' })).status).toBe(404);
    } finally {
      await prefixed.close();
    }
  });
});

describe('robustness', () => {
  it('survives a client that disconnects mid-body', async () => {
    const spy = vi.fn();
    const handler = createWebhookHandler(scheduler, { auth: { none: true } });
    const local = await startServer((req, res) => {
      res.on('close', spy);
      handler(req, res);
    });
    try {
      await new Promise<void>((resolve) => {
        const req = httpRequest({
          host: '127.0.0.1',
          port: local.port,
          method: 'POST',
          path: '/events/x',
          agent: false,
          headers: { 'Content-Type': 'application/json', 'Content-Length': 100 },
        });
        req.on('error', () => undefined);
        req.write('{"a":', () => setTimeout(() => {
          req.destroy();
          resolve();
        }, 20));
      });
      await vi.waitFor(() => expect(spy).toHaveBeenCalled());
      expect(scheduler.publishCalls).toHaveLength(0);
      // Still serving.
      expect((await send(local.port, { path: '/health' })).status).toBe(200);
    } finally {
      await local.close();
    }
  });
});
