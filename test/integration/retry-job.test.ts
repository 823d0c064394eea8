/**
 * `Scheduler.retryJob` on the memory backend: a failed or cancelled job is run again as a new
 * manual job of the same trigger, and the original stays as it ended.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { JobNotFoundError, JobNotRetryableError, PermanentJobError, TriggerNotFoundError } from '../../src/errors.js';
import { retryOfKey } from '../../src/util/retry-key.js';
import { setup, type TestRig } from '../helpers/setup.js';
import { eventually } from '../helpers/time.js';

let rig: TestRig | null = null;
afterEach(async () => {
  await rig?.scheduler.stop({ graceful: false });
  rig = null;
});

describe('retryJob', () => {
  it('runs a failed job again as a new manual job; the original stays failed', async () => {
    rig = setup();
    let calls = 0;
    const payloads: unknown[] = [];
    rig.scheduler.register('flaky', (ctx) => {
      calls++;
      payloads.push(ctx.payload);
      if (calls === 1) throw new PermanentJobError('first run fails');
      return 'ok';
    });
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'f', handler: 'flaky', schedule: { manual: true }, payload: { n: 1 } });
    const first = await rig.scheduler.runTrigger('f', { payload: { n: 2 } });
    await eventually(async () => (await rig!.scheduler.getJob(first.id))?.status === 'failed');

    const retry = await rig.scheduler.retryJob(first.id);
    expect(retry.id).not.toBe(first.id);
    expect(retry.triggerId).toBe('f');
    expect(retry.source).toBe('manual');
    expect(retryOfKey(retry.key)).toBe(first.id);
    await eventually(async () => (await rig!.scheduler.getJob(retry.id))?.status === 'succeeded');

    const original = await rig.scheduler.getJob(first.id);
    expect(original?.status).toBe('failed');
    expect(original?.error?.message).toBe('first run fails');
    // The retry carries the failed job's payload, not the trigger's.
    expect(payloads).toEqual([{ n: 2 }, { n: 2 }]);
    expect((await rig.scheduler.getJob(retry.id))?.result).toBe('ok');
  });

  it('retries a cancelled job, and each retry is its own job', async () => {
    rig = setup();
    rig.scheduler.register('h', () => 'done');
    // Not started: runTrigger leaves the job pending, so it can be cancelled before it runs.
    await rig.scheduler.addTrigger({ id: 'c', handler: 'h', schedule: { manual: true } });
    const job = await rig.scheduler.runTrigger('c');
    expect((await rig.scheduler.cancelJob(job.id)).status).toBe('cancelled');
    const a = await rig.scheduler.retryJob(job.id);
    const b = await rig.scheduler.retryJob(job.id);
    expect(a.id).not.toBe(b.id);
    expect([a.status, b.status]).toEqual(['pending', 'pending']);
    expect(retryOfKey(a.key)).toBe(job.id);
    expect((await rig.scheduler.getJob(job.id))?.status).toBe('cancelled');
    // A started instance with the handler picks the pending retries up.
    await rig.scheduler.start();
    await eventually(
      async () => (await rig!.scheduler.listJobs({ triggerId: 'c', status: 'succeeded' })).items.length === 2,
      10_000,
      'both retries to succeed',
      [rig.clock],
    );
  });

  it('refuses jobs that did not fail, with ERR_JOB_NOT_RETRYABLE, and writes nothing', async () => {
    rig = setup();
    rig.scheduler.register('h', () => 'done');
    await rig.scheduler.addTrigger({ id: 'p', handler: 'h', schedule: { manual: true } });
    const pending = await rig.scheduler.runTrigger('p');
    const error = await rig.scheduler.retryJob(pending.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobNotRetryableError);
    expect(error).toMatchObject({ code: 'ERR_JOB_NOT_RETRYABLE', jobId: pending.id, status: 'pending' });
    expect((await rig.scheduler.listJobs({ triggerId: 'p' })).items).toHaveLength(1);
  });

  it('fails clearly for an unknown job or a removed trigger', async () => {
    rig = setup();
    rig.scheduler.register('h', () => undefined);
    await expect(rig.scheduler.retryJob('nope')).rejects.toBeInstanceOf(JobNotFoundError);
    await rig.scheduler.addTrigger({ id: 'gone', handler: 'h', schedule: { manual: true } });
    const job = await rig.scheduler.runTrigger('gone');
    await rig.scheduler.cancelJob(job.id);
    await rig.scheduler.removeTrigger('gone');
    await expect(rig.scheduler.retryJob(job.id)).rejects.toBeInstanceOf(TriggerNotFoundError);
    expect((await rig.scheduler.listJobs({ triggerId: 'gone' })).items).toHaveLength(1);
  });
});
