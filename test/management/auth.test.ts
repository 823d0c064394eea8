/**
 * Authentication of the management API: explicit `none`, JWT with read/write scopes, HMAC over
 * method, path and body. Refusals are 401/403 and write nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidTriggerConfigError } from '../../src/errors.js';
import { createManagementApi, signManagementRequest } from '../../src/management/index.js';
import { setup, type TestRig } from '../helpers/setup.js';
import { JWT_SECRET, closeAll, errorOf, serve, token, type ApiServer } from './helpers.js';

const HMAC_SECRET = 'an-hmac-secret-of-at-least-32-bytes!!';
let rig: TestRig;

afterEach(closeAll);

async function rigWithTrigger(): Promise<void> {
  rig = setup();
  rig.scheduler.register('ok', () => 'done');
  await rig.scheduler.addTrigger({ id: 't', handler: 'ok', schedule: { manual: true } });
}

describe('options', () => {
  it('requires auth, and refuses webhook scopes, unknown options and bad scope names by field', () => {
    rig = setup();
    const s = rig.scheduler;
    const field = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        if (err instanceof InvalidArgumentError && !(err instanceof InvalidTriggerConfigError) && err.code === 'ERR_INVALID_ARGUMENT') return err.field;
        throw err;
      }
      return undefined;
    };
    // @ts-expect-error auth is required
    expect(field(() => createManagementApi(s, {}))).toBe('auth');
    expect(field(() => createManagementApi(s, { auth: { jwt: { secret: JWT_SECRET, algorithms: ['HS256'], scopes: { run: 'x' } } } }))).toBe(
      'auth.jwt.scopes',
    );
    expect(field(() => createManagementApi(s, { auth: { none: true }, scopes: { read: 'has space' } }))).toBe('scopes.read');
    // @ts-expect-error unknown option
    expect(field(() => createManagementApi(s, { auth: { none: true }, readonly: true }))).toBe('readonly');
    expect(field(() => createManagementApi(s, { auth: { none: true }, eventsPollMs: 0 }))).toBe('eventsPollMs');
  });
});

describe('JWT', () => {
  let http: ApiServer;
  async function start(scopes?: { read?: string; write?: string }): Promise<void> {
    await rigWithTrigger();
    http = await serve(rig.scheduler, {
      auth: { jwt: { secret: JWT_SECRET, algorithms: ['HS256'] } },
      ...(scopes === undefined ? {} : { scopes }),
    });
  }
  const bearer = async (scope: string): Promise<Record<string, string>> => ({ Authorization: `Bearer ${await token(scope)}` });

  it('401 without a token or with a bad one, with a Bearer challenge', async () => {
    await start();
    const missing = await http.call('GET', '/triggers');
    expect(missing.status).toBe(401);
    expect(errorOf(missing).code).toBe('ERR_UNAUTHORIZED');
    expect(missing.headers['www-authenticate']).toContain('Bearer');
    const forged = await http.call('GET', '/triggers', { headers: { Authorization: `Bearer ${await token('scheduler:read', 'another-secret-that-is-also-32-bytes-long')}` } });
    expect(forged.status).toBe(401);
  });

  it('reads need scheduler:read, writes need scheduler:write (403 otherwise, nothing written)', async () => {
    await start();
    expect((await http.call('GET', '/triggers', { headers: await bearer('scheduler:read') })).status).toBe(200);
    expect((await http.call('GET', '/triggers', { headers: await bearer('scheduler:write') })).status).toBe(403);

    const refused = await http.call('POST', '/triggers/t/pause', { headers: await bearer('scheduler:read') });
    expect(refused.status).toBe(403);
    expect(errorOf(refused).code).toBe('ERR_FORBIDDEN');
    expect((await rig.scheduler.getTrigger('t'))?.status).toBe('active');

    const allowed = await http.call('POST', '/triggers/t/pause', { headers: await bearer('scheduler:read scheduler:write') });
    expect(allowed.status).toBe(200);
    expect((await rig.scheduler.getTrigger('t'))?.status).toBe('paused');
  });

  it('scopes are configurable', async () => {
    await start({ read: 'ops:view', write: 'ops:steer' });
    expect((await http.call('GET', '/health', { headers: await bearer('scheduler:read') })).status).toBe(403);
    expect((await http.call('GET', '/health', { headers: await bearer('ops:view') })).status).toBe(200);
    expect((await http.call('POST', '/triggers/t/run', { headers: await bearer('ops:steer') })).status).toBe(201);
  });
});

describe('HMAC', () => {
  let http: ApiServer;
  async function start(): Promise<void> {
    await rigWithTrigger();
    http = await serve(rig.scheduler, { auth: { hmac: { secret: HMAC_SECRET } } });
  }

  it('accepts a request signed over its method, path and body', async () => {
    await start();
    const body = JSON.stringify({ payload: { n: 1 } });
    const signature = signManagementRequest(HMAC_SECRET, { method: 'POST', path: '/triggers/t/run', body });
    const reply = await http.call('POST', '/triggers/t/run', { body: { payload: { n: 1 } }, headers: { 'X-Signature': signature } });
    expect(reply.status).toBe(201);
    const read = await http.call('GET', '/jobs?triggerId=t', {
      headers: { 'X-Signature': signManagementRequest(HMAC_SECRET, { method: 'GET', path: '/jobs?triggerId=t' }) },
    });
    expect(read.status).toBe(200);
    expect((read.json as { items: unknown[] }).items).toHaveLength(1);
  });

  it('401 for a missing, stale or replayed-elsewhere signature, and nothing is written', async () => {
    await start();
    expect((await http.call('DELETE', '/triggers/t')).status).toBe(401);
    const stale = signManagementRequest(HMAC_SECRET, { method: 'DELETE', path: '/triggers/t', timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect((await http.call('DELETE', '/triggers/t', { headers: { 'X-Signature': stale } })).status).toBe(401);
    // A valid signature of GET /health must not authorize DELETE /triggers/t.
    const forHealth = signManagementRequest(HMAC_SECRET, { method: 'GET', path: '/health' });
    expect((await http.call('GET', '/health', { headers: { 'X-Signature': forHealth } })).status).toBe(200);
    const replayed = await http.call('DELETE', '/triggers/t', { headers: { 'X-Signature': forHealth } });
    expect(replayed.status).toBe(401);
    expect(errorOf(replayed).code).toBe('ERR_UNAUTHORIZED');
    expect(await rig.scheduler.getTrigger('t')).not.toBeNull();
  });
});

describe('none', () => {
  it('lets every request through when said explicitly', async () => {
    await rigWithTrigger();
    const http = await serve(rig.scheduler, { auth: { none: true } });
    expect((await http.call('POST', '/triggers/t/pause')).status).toBe(200);
  });
});
