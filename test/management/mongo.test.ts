/**
 * The management API on the MongoDB backend (FerretDB in CI, via MONGODB_URI): two Schedulers on
 * one database, the API served by one of them, changes made by the other visible in lists, detail,
 * retry and the event stream.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PermanentJobError } from '../../src/errors.js';
import { Scheduler } from '../../src/scheduler.js';
import { createMongoBackend } from '../../src/stores/mongo/index.js';
import type { Job, Trigger } from '../../src/types.js';
import { stopSharedMongo, withTestDb, type TestDb } from '../helpers/mongo.js';
import { eventually } from '../helpers/time.js';
import { closeAll, errorOf, onClose, serve } from './helpers.js';
import { openStream } from './sse.js';

let t: TestDb | null = null;
afterEach(async () => {
  await closeAll();
  await t?.close();
  t = null;
});
afterAll(stopSharedMongo);

function instance(db: TestDb, instanceId: string): Scheduler {
  const backend = createMongoBackend({ db: db.db, collectionPrefix: 'mgmt_' });
  const scheduler = new Scheduler({ ...backend, instanceId, pollIntervalMs: 200 });
  scheduler.register('ok', () => 'done');
  scheduler.register('boom', () => {
    throw new PermanentJobError('boom');
  });
  onClose(() => scheduler.stop({ graceful: false }));
  return scheduler;
}

describe('management API on MongoDB', () => {
  it('lists, shows, steers and streams what another instance does', async () => {
    t = await withTestDb('management');
    await createMongoBackend({ db: t.db, collectionPrefix: 'mgmt_' }).ensureIndexes();
    const served = instance(t, 'api');
    const worker = instance(t, 'worker');
    await worker.start();
    const http = await serve(served, { auth: { none: true }, eventsPollMs: 100 });

    await worker.addTrigger({ id: 'fails', handler: 'boom', schedule: { manual: true }, tags: ['x'] });
    await worker.addTrigger({ id: 'daily', handler: 'ok', schedule: { cron: '0 9 * * *', timezone: 'America/New_York' } });
    const list = (await http.call('GET', '/triggers?tag=x')).json as { items: Trigger[] };
    expect(list.items.map((tr) => tr.id)).toEqual(['fails']);
    const detail = (await http.call('GET', '/triggers/daily')).json as { next: Array<{ timezone: string; local: string }> };
    expect(detail.next[0]?.timezone).toBe('America/New_York');
    expect(detail.next[0]?.local).toMatch(/ 09:00$/);

    const stream = await openStream(http.port, '/events');
    onClose(async () => stream.close());
    await new Promise((r) => setTimeout(r, 300));

    const failed = await worker.runTrigger('fails');
    await eventually(async () => (await served.getJob(failed.id))?.status === 'failed', 10_000, 'the job to fail');
    await stream.waitFor((e) => e.event === 'job' && (e.data as Job).id === failed.id && (e.data as Job).status === 'failed', 5000);

    const shown = (await http.call('GET', `/jobs/${failed.id}`)).json as { job: Job };
    expect(shown.job.history.map((h) => h.status)).toEqual(['pending', 'running', 'failed']);
    expect(shown.job.instanceId).toBe('worker');

    // The serving instance is not started: the retry waits pending until the worker picks it up.
    const retried = await http.call('POST', `/jobs/${failed.id}/retry`);
    expect(retried.status).toBe(201);
    const retry = (retried.json as { job: Job }).job;
    expect(retry.status).toBe('pending');
    await eventually(async () => (await served.getJob(retry.id))?.status === 'failed', 10_000, 'the worker to run the retry');
    expect((await served.getJob(failed.id))?.status).toBe('failed');

    const paused = await http.call('POST', '/triggers/daily/pause');
    expect((paused.json as { trigger: Trigger }).trigger.status).toBe('paused');
    expect((await worker.getTrigger('daily'))?.status).toBe('paused');

    const failedOnly = (await http.call('GET', '/jobs?status=failed&triggerId=fails')).json as { items: Job[] };
    expect(failedOnly.items.map((j) => j.id).sort()).toEqual([failed.id, retry.id].sort());
    expect((await http.call('GET', '/jobs?limit=1')).json).toMatchObject({ nextCursor: expect.any(String) });
    expect(errorOf(await http.call('GET', '/jobs?cursor=garbage')).field).toBe('cursor');
    expect((await http.call('DELETE', '/triggers/daily')).status).toBe(204);
    expect(await worker.getTrigger('daily')).toBeNull();
  });
});
