/**
 * Bad input over the API: 400 with the offending field named, and nothing written.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setup, type TestRig } from '../helpers/setup.js';
import { closeAll, errorOf, send, serve, type ApiServer } from './helpers.js';

let rig: TestRig;
let http: ApiServer;
let snapshot: () => Promise<string>;

afterEach(closeAll);

async function start(): Promise<void> {
  rig = setup();
  rig.scheduler.register('ok', () => 'done');
  await rig.scheduler.addTrigger({ id: 't', handler: 'ok', schedule: { manual: true } });
  http = await serve(rig.scheduler, { auth: { none: true }, maxBodyBytes: 1024 });
  snapshot = async () => JSON.stringify([await rig.scheduler.listTriggers(), await rig.scheduler.listJobs()]);
}

describe('query strings', () => {
  const cases: Array<[string, string]> = [
    ['/triggers?limit=0', 'limit'],
    ['/triggers?limit=1001', 'limit'],
    ['/triggers?limit=ten', 'limit'],
    ['/triggers?status=sleeping', 'status'],
    ['/triggers?tag=', 'tag'],
    ['/triggers?cursor=%%%', 'cursor'],
    ['/triggers?colour=red', 'colour'],
    ['/triggers?limit=1&limit=2', 'limit'],
    ['/jobs?status=failed,weird', 'status'],
    ['/jobs?from=yesterday', 'from'],
    ['/jobs?to=2026-13-45', 'to'],
    ['/jobs?triggerId=a.b', 'triggerId'],
    ['/jobs?cursor=not-a-cursor', 'cursor'],
    ['/stats?triggerId=$x', 'triggerId'],
    ['/triggers/t/next?count=101', 'count'],
    ['/triggers/t/next?count=-1', 'count'],
    ['/triggers/t/timeline?from=2026-03-03T00:00:00Z&to=2026-03-02T00:00:00Z', 'from'],
    ['/triggers/t/timeline?to=soon', 'to'],
    ['/next', 'cron'],
    ['/next?cron=61%20*%20*%20*%20*', 'cron'],
    ['/next?cron=0%209%20*%20*%20*&tz=Mars/Olympus', 'tz'],
    ['/next?cron=0%209%20*%20*%20*&from=later', 'from'],
    ['/health?verbose=1', 'verbose'],
    ['/events?triggerId=a$b', 'triggerId'],
    ['/triggers/a.b', 'id'],
    ['/jobs/%E0%A4%A', 'id'],
  ];
  it.each(cases)('GET %s names %s', async (path, field) => {
    await start();
    const reply = await http.call('GET', path);
    expect(reply.status).toBe(400);
    expect(errorOf(reply)).toMatchObject({ code: 'ERR_INVALID_REQUEST', field });
    expect(errorOf(reply).message).toContain(field);
  });
});

describe('bodies', () => {
  it('a run with an unknown body field, a non-object body or a non-JSON payload is refused, nothing written', async () => {
    await start();
    const before = await snapshot();
    const misspelt = await http.call('POST', '/triggers/t/run', { body: { paylaod: 1 } });
    expect(misspelt.status).toBe(400);
    expect(errorOf(misspelt).field).toBe('body.paylaod');
    const list = await http.call('POST', '/triggers/t/run', { body: [1, 2] });
    expect(errorOf(list).field).toBe('body');
    const pause = await http.call('POST', '/triggers/t/pause', { body: { force: true } });
    expect(pause.status).toBe(400);
    expect(errorOf(pause).field).toBe('body.force');
    const broken = await send(http.port, { method: 'POST', path: '/triggers/t/run', headers: { 'Content-Type': 'application/json' }, body: '{"payload":' });
    expect(broken.status).toBe(400);
    expect(errorOf(broken).code).toBe('ERR_INVALID_JSON');
    const text = await send(http.port, { method: 'POST', path: '/triggers/t/run', headers: { 'Content-Type': 'text/plain' }, body: 'hi' });
    expect(text.status).toBe(415);
    const big = await http.call('POST', '/triggers/t/run', { body: { payload: 'x'.repeat(2000) } });
    expect(big.status).toBe(413);
    for (const [method, path] of [
      ['POST', '/triggers/a.b/pause'],
      ['POST', '/triggers/%24x/run'],
      ['DELETE', '/triggers/a.b'],
      ['POST', '/jobs/a$b/retry'],
      ['POST', '/jobs/a.b/cancel'],
    ] as const) {
      const reply = await http.call(method, path);
      expect(reply.status, `${method} ${path}`).toBe(400);
      expect(errorOf(reply)).toMatchObject({ code: 'ERR_INVALID_REQUEST', field: 'id' });
    }
    const query = await http.call('POST', '/triggers/t/pause?force=1');
    expect(errorOf(query).field).toBe('force');
    expect(await snapshot()).toBe(before);
  });
});

describe('routes and methods', () => {
  it('404 for an unknown route, 405 with Allow for a wrong method', async () => {
    await start();
    const unknown = await http.call('GET', '/nothing/here');
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown).code).toBe('ERR_ROUTE_NOT_FOUND');
    const wrong = await http.call('PUT', '/triggers/t');
    expect(wrong.status).toBe(405);
    expect(wrong.headers['allow']).toBe('GET, DELETE');
    const getPause = await http.call('GET', '/triggers/t/pause');
    expect(getPause.status).toBe(405);
    expect(getPause.headers['allow']).toBe('POST');
  });
});
