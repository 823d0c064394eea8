/**
 * Every route of the management API on the memory backend, with `auth: { none: true }`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentJobError } from '../../src/errors.js';
import type { Job, Trigger } from '../../src/types.js';
import { setup, T0, type TestRig } from '../helpers/setup.js';
import { eventually } from '../helpers/time.js';
import { closeAll, errorOf, onClose, serve, type ApiServer } from './helpers.js';

let rig: TestRig;
let http: ApiServer;

afterEach(closeAll);

async function start(options: { started?: boolean } = {}): Promise<void> {
  rig = setup();
  rig.scheduler.register('ok', () => 'done');
  rig.scheduler.register('boom', () => {
    throw new PermanentJobError('boom');
  });
  if (options.started) await rig.scheduler.start();
  onClose(() => rig.scheduler.stop({ graceful: false }));
  http = await serve(rig.scheduler, { auth: { none: true }, clock: rig.clock });
}

async function addTriggers(): Promise<void> {
  await rig.scheduler.addTrigger({ id: 'daily', handler: 'ok', schedule: { cron: '0 9 * * *', timezone: 'Europe/Berlin' }, tags: ['reports'] });
  await rig.scheduler.addTrigger({ id: 'manual', handler: 'ok', schedule: { manual: true } });
  await rig.scheduler.addTrigger({ id: 'paused', handler: 'boom', schedule: { every: '1h' }, paused: true });
}

describe('read routes', () => {
  it('GET /health answers the scheduler health report', async () => {
    await start();
    await rig.scheduler.addTrigger({ id: 'x', handler: 'ok', schedule: { manual: true } });
    const reply = await http.call('GET', '/health');
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ instanceId: 'test', status: 'idle' });
    // Work no live instance can run (this one never started, so none is live).
    expect(reply.json).toHaveProperty('unhandled', [{ handler: 'ok', activeTriggers: 1, pendingJobs: 0 }]);
    expect(reply.headers['cache-control']).toBe('no-store');
  });

  it('GET /triggers lists, filters and pages', async () => {
    await start();
    await addTriggers();
    const all = await http.call('GET', '/triggers');
    expect(all.status).toBe(200);
    const body = all.json as { items: Trigger[]; nextCursor: string | null };
    expect(body.items.map((t) => t.id)).toEqual(['daily', 'manual', 'paused']);
    expect(typeof body.items[0]?.createdAt).toBe('string');

    const paused = (await http.call('GET', '/triggers?status=paused')).json as { items: Trigger[] };
    expect(paused.items.map((t) => t.id)).toEqual(['paused']);
    const tagged = (await http.call('GET', '/triggers?tag=reports')).json as { items: Trigger[] };
    expect(tagged.items.map((t) => t.id)).toEqual(['daily']);
    const byHandler = (await http.call('GET', '/triggers?handler=boom')).json as { items: Trigger[] };
    expect(byHandler.items.map((t) => t.id)).toEqual(['paused']);

    const first = (await http.call('GET', '/triggers?limit=2')).json as { items: Trigger[]; nextCursor: string };
    expect(first.items.map((t) => t.id)).toEqual(['daily', 'manual']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await http.call('GET', `/triggers?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`)).json as {
      items: Trigger[];
      nextCursor: string | null;
    };
    expect(second.items.map((t) => t.id)).toEqual(['paused']);
    expect(second.nextCursor).toBeNull();
  });

  it('GET /triggers/:id answers the trigger, its stats and next fire times; 404 for an unknown id', async () => {
    await start();
    await addTriggers();
    const reply = await http.call('GET', '/triggers/daily');
    expect(reply.status).toBe(200);
    const body = reply.json as { trigger: Trigger; stats: { runs: number }; next: Array<{ at: string; local: string }> };
    expect(body.trigger.id).toBe('daily');
    expect(body.stats.runs).toBe(0);
    // 09:00 Berlin is 08:00Z in winter; T0 is 2026-03-02T09:00Z, so the first is the next day.
    expect(body.next[0]).toEqual({ at: '2026-03-03T08:00:00.000Z', local: '2026-03-03 09:00', timezone: 'Europe/Berlin', dst: null });
    expect(body.next).toHaveLength(5);

    const missing = await http.call('GET', '/triggers/nope');
    expect(missing.status).toBe(404);
    expect(errorOf(missing).code).toBe('ERR_TRIGGER_NOT_FOUND');
  });

  it('GET /triggers/:id/next previews count fire times and marks DST shifts', async () => {
    await start();
    // Berlin springs forward on 2026-03-29 at 02:00 (to 03:00) and falls back on 2026-10-25 at 03:00.
    await rig.scheduler.addTrigger({ id: 'night', handler: 'ok', schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' } });
    const reply = await http.call('GET', '/triggers/night/next?count=60');
    expect(reply.status).toBe(200);
    const items = (reply.json as { items: Array<{ at: string; local: string; dst: string | null }> }).items;
    expect(items).toHaveLength(60);
    const jump = items.find((i) => i.at === '2026-03-29T01:00:00.000Z');
    expect(jump).toEqual({ at: '2026-03-29T01:00:00.000Z', local: '2026-03-29 03:00', timezone: 'Europe/Berlin', dst: 'skipped-hour' });
    expect(items.filter((i) => i.dst !== null)).toHaveLength(1);
    expect(((await http.call('GET', '/triggers/night/next')).json as { items: unknown[] }).items).toHaveLength(5);
    expect((await http.call('GET', '/triggers/nope/next')).status).toBe(404);
  });

  it('GET /next previews any cron and marks the repeated hour', async () => {
    await start();
    const reply = await http.call('GET', `/next?cron=${encodeURIComponent('30 2 * * *')}&tz=Europe/Berlin&count=2&from=2026-10-24T12:00:00Z`);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      items: [
        { at: '2026-10-25T00:30:00.000Z', local: '2026-10-25 02:30', timezone: 'Europe/Berlin', dst: 'repeated-hour' },
        { at: '2026-10-26T01:30:00.000Z', local: '2026-10-26 02:30', timezone: 'Europe/Berlin', dst: null },
      ],
    });
    const utc = await http.call('GET', '/next?cron=0%20*%20*%20*%20*&count=1&from=2026-01-01T00:30:00Z');
    expect(utc.json).toEqual({ items: [{ at: '2026-01-01T01:00:00.000Z', local: '2026-01-01 01:00', timezone: 'UTC', dst: null }] });
  });

  it('GET /jobs and /jobs/:id list, filter and show jobs with history; GET /stats counts them', async () => {
    await start({ started: true });
    await addTriggers();
    const a = await rig.scheduler.runTrigger('manual');
    const b = await rig.scheduler.runTrigger('paused');
    await eventually(async () => (await rig.scheduler.getJob(b.id))?.status === 'failed');
    await eventually(async () => (await rig.scheduler.getJob(a.id))?.status === 'succeeded');

    const all = (await http.call('GET', '/jobs')).json as { items: Job[]; nextCursor: string | null };
    expect(all.items.map((j) => j.id).sort()).toEqual([a.id, b.id].sort());
    const failed = (await http.call('GET', '/jobs?status=failed')).json as { items: Job[] };
    expect(failed.items.map((j) => j.id)).toEqual([b.id]);
    const both = (await http.call('GET', '/jobs?status=failed,succeeded&triggerId=manual')).json as { items: Job[] };
    expect(both.items.map((j) => j.id)).toEqual([a.id]);
    const none = (await http.call('GET', `/jobs?from=${new Date(T0 + 1000).toISOString()}`)).json as { items: Job[] };
    expect(none.items).toEqual([]);
    const before = (await http.call('GET', `/jobs?to=${T0 + 1}`)).json as { items: Job[] };
    expect(before.items).toHaveLength(2);
    const paged = (await http.call('GET', '/jobs?limit=1')).json as { items: Job[]; nextCursor: string | null };
    expect(paged.items).toHaveLength(1);
    expect(paged.nextCursor).toEqual(expect.any(String));

    const one = await http.call('GET', `/jobs/${b.id}`);
    expect(one.status).toBe(200);
    const job = (one.json as { job: Job }).job;
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ message: 'boom' });
    expect(job.history.map((h) => h.status)).toEqual(['pending', 'running', 'failed']);
    expect(job.metrics).toHaveProperty('durationMs');
    expect(errorOf(await http.call('GET', '/jobs/nope')).code).toBe('ERR_JOB_NOT_FOUND');

    const stats = await http.call('GET', '/stats');
    expect(stats.json).toMatchObject({ jobs: { succeeded: 1, failed: 1 } });
    const forTrigger = (await http.call('GET', '/stats?triggerId=paused')).json as { triggers: Record<string, { failed: number }> };
    expect(forTrigger.triggers['paused']?.failed).toBe(1);
  });

  it('GET /openapi.json serves the document with the base path as server', async () => {
    await start();
    const reply = await http.call('GET', '/openapi.json');
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ openapi: '3.1.0', servers: [{ url: '/' }] });
  });
});

describe('write routes', () => {
  it('pause and resume a trigger', async () => {
    await start();
    await addTriggers();
    const paused = await http.call('POST', '/triggers/daily/pause');
    expect(paused.status).toBe(200);
    expect((paused.json as { trigger: Trigger }).trigger.status).toBe('paused');
    expect((await rig.scheduler.getTrigger('daily'))?.status).toBe('paused');
    const resumed = await http.call('POST', '/triggers/daily/resume', { body: {} });
    expect((resumed.json as { trigger: Trigger }).trigger.status).toBe('active');
    expect((await rig.scheduler.getTrigger('daily'))?.status).toBe('active');
    expect((await http.call('POST', '/triggers/nope/pause')).status).toBe(404);
  });

  it('run a trigger with a payload: 201 and a pending job on an unstarted scheduler', async () => {
    await start();
    await addTriggers();
    const reply = await http.call('POST', '/triggers/manual/run', { body: { payload: { n: 7 } } });
    expect(reply.status).toBe(201);
    const job = (reply.json as { job: Job }).job;
    expect(job).toMatchObject({ triggerId: 'manual', source: 'manual', status: 'pending', payload: { n: 7 } });
    expect((await rig.scheduler.getJob(job.id))?.payload).toEqual({ n: 7 });
    const plain = await http.call('POST', '/triggers/manual/run');
    expect(plain.status).toBe(201);
    expect((plain.json as { job: Job }).job.payload).toBeNull();
  });

  it('remove a trigger: 204, then 404', async () => {
    await start();
    await addTriggers();
    const reply = await http.call('DELETE', '/triggers/manual');
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    expect(await rig.scheduler.getTrigger('manual')).toBeNull();
    expect((await http.call('DELETE', '/triggers/manual')).status).toBe(404);
  });

  it('cancel a pending job', async () => {
    await start();
    await addTriggers();
    const job = await rig.scheduler.runTrigger('manual');
    const reply = await http.call('POST', `/jobs/${job.id}/cancel`);
    expect(reply.status).toBe(200);
    expect((reply.json as { job: Job }).job.status).toBe('cancelled');
    expect((await rig.scheduler.getJob(job.id))?.status).toBe('cancelled');
    expect((await http.call('POST', '/jobs/nope/cancel')).status).toBe(404);
  });

  it('retry a failed job: 201 with the new job; 409 for a job that did not fail', async () => {
    await start({ started: true });
    await addTriggers();
    const failed = await rig.scheduler.runTrigger('paused');
    await eventually(async () => (await rig.scheduler.getJob(failed.id))?.status === 'failed');
    const reply = await http.call('POST', `/jobs/${failed.id}/retry`);
    expect(reply.status).toBe(201);
    const retry = (reply.json as { job: Job }).job;
    expect(retry.id).not.toBe(failed.id);
    expect(retry.key.startsWith(`retry:${failed.id}:`)).toBe(true);
    expect((await rig.scheduler.getJob(failed.id))?.status).toBe('failed');
    await eventually(async () => (await rig.scheduler.getJob(retry.id))?.status === 'failed');

    const fine = await rig.scheduler.runTrigger('manual');
    await eventually(async () => (await rig.scheduler.getJob(fine.id))?.status === 'succeeded');
    const refused = await http.call('POST', `/jobs/${fine.id}/retry`);
    expect(refused.status).toBe(409);
    expect(errorOf(refused).code).toBe('ERR_JOB_NOT_RETRYABLE');
  });
});

describe('timeline', () => {
  it('labels succeeded, coalesced and missed slots from the jobs and the misfire policy', async () => {
    rig = setup({ pollIntervalMs: 1000, lookaheadMs: 5000 });
    rig.scheduler.register('ok', () => 'done');
    onClose(() => rig.scheduler.stop({ graceful: false }));
    http = await serve(rig.scheduler, { auth: { none: true }, clock: rig.clock });
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'once', handler: 'ok', schedule: { every: '1m', startAt: new Date(T0 + 60_000) }, misfire: 'run-once' });
    await rig.scheduler.addTrigger({ id: 'skip', handler: 'ok', schedule: { every: '1m', startAt: new Date(T0 + 60_000) }, misfire: 'skip' });
    // Two slots fire on time.
    await eventually(async () => (await rig.jobsOf('once')).length === 2 && (await rig.jobsOf('skip')).length === 2, 10_000, 'two on-time slots', [rig.clock], 1000);
    // Then no instance runs for 3.5 minutes: slots 3, 4 and 5 are late.
    await rig.scheduler.stop({ graceful: true });
    await rig.clock.advance(210_000);
    await rig.scheduler.start();
    await eventually(async () => (await rig.jobsOf('once')).length === 3, 10_000, 'the catch-up run', [rig.clock], 100);

    const reply = await http.call('GET', `/triggers/once/timeline?from=${new Date(T0).toISOString()}`);
    expect(reply.status).toBe(200);
    const body = reply.json as { items: Array<{ scheduledFor: string; status: string; jobId: string | null; reason: string | null }>; truncated: boolean };
    expect(body.truncated).toBe(false);
    const statuses = body.items.map((i) => `${(Date.parse(i.scheduledFor) - T0) / 60_000}:${i.status}`);
    expect(statuses.slice(0, 5)).toEqual(['1:succeeded', '2:succeeded', '3:coalesced', '4:coalesced', '5:succeeded']);
    const caughtUp = (await rig.jobsOf('once'))[2]!;
    expect(body.items[2]?.jobId).toBe(caughtUp.id);

    const skipped = (await http.call('GET', `/triggers/skip/timeline?from=${new Date(T0).toISOString()}`)).json as { items: Array<{ status: string; reason: string }> };
    expect(skipped.items.slice(0, 5).map((i) => i.status)).toEqual(['succeeded', 'succeeded', 'missed', 'missed', 'missed']);
    expect(skipped.items[2]?.reason).toContain('misfire: skip');
    expect((await http.call('GET', '/triggers/nope/timeline')).status).toBe(404);
  });
});
