/**
 * Everything the scheduler hands out is a snapshot that cannot reach its own state: `ctx.job`
 * and `ctx.trigger` (the handler's copies), every job and trigger event (a frozen snapshot shared
 * by the listeners), what the public methods return, and what the memory store reads give.
 * Each path is tried with a change that, reaching the engine, would change what it does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Job, Trigger } from '../../src/types.js';
import { setup, type TestRig } from '../helpers/setup.js';

let rig: TestRig | null = null;
afterEach(async () => {
  await rig?.scheduler.stop({ graceful: false });
  rig = null;
});

/** A rig with a handler that fails every attempt (so retries are what a change would show). */
async function failing(): Promise<TestRig & { runs: () => number }> {
  rig = setup();
  let runs = 0;
  rig.scheduler.on('error', () => undefined);
  const { clock } = rig;
  // It fails a moment after it starts: a change made meanwhile would reach its end.
  rig.scheduler.register('fails', () => {
    runs += 1;
    return new Promise((_, reject) => clock.setTimer(() => reject(new Error('always')), 100));
  });
  await rig.scheduler.addTrigger({ id: 't', handler: 'fails', schedule: { manual: true }, retry: { attempts: 1 }, payload: { n: 1 } });
  await rig.scheduler.start();
  return { ...rig, runs: () => runs };
}

describe('the handler context', () => {
  it('ctx.job is the handler\'s copy: setting maxAttempts (or timeoutMs) changes no retry and no timeout', async () => {
    rig = setup();
    const { scheduler, clock } = rig;
    let runs = 0;
    scheduler.register('fails', (ctx) => {
      runs += 1;
      // Readonly in its type; plain JavaScript (or a cast) writes all the same.
      const job = ctx.job as Job;
      job.maxAttempts = 3;
      job.timeoutMs = 1;
      ctx.job.history.push({ status: 'succeeded', at: new Date(), instanceId: null, reason: 'forged' });
      (ctx.job.metrics as { queuedMs: number | null }).queuedMs = -1;
      expect(ctx.job.maxAttempts).toBe(3);
      throw new Error('always');
    });
    await scheduler.addTrigger({ id: 't', handler: 'fails', schedule: { manual: true }, retry: { attempts: 1 } });
    await scheduler.start();
    const job = await scheduler.runTrigger('t');
    await clock.advance(60_000);
    expect(runs).toBe(1);
    const stored = (await scheduler.getJob(job.id))!;
    expect(stored).toMatchObject({ status: 'failed', attempts: 1, maxAttempts: 1, timeoutMs: null });
    expect(stored.history.map((h) => h.reason)).not.toContain('forged');
    expect(stored.metrics.queuedMs).not.toBe(-1);
  });

  it('ctx.trigger is the handler\'s copy: changing its payload or schedule reaches no later job', async () => {
    rig = setup();
    const { scheduler, clock } = rig;
    const payloads: unknown[] = [];
    scheduler.register('h', (ctx) => {
      payloads.push(structuredClone(ctx.payload));
      (ctx.trigger!.payload as { n: number }).n = 99;
      (ctx.trigger!.schedule as { every: number }).every = 5_000;
    });
    await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { every: 1000, startAt: new Date(clock.now() + 1000) }, payload: { n: 1 } });
    await scheduler.start();
    await clock.advance(3500);
    expect(payloads).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
  });
});

describe('events hand out frozen snapshots', () => {
  for (const event of ['job:scheduled', 'job:started'] as const) {
    it(`a ${event} listener cannot change the job: it is frozen, and the engine's own record is not it`, async () => {
      const r = await failing();
      const seen: Job[] = [];
      const errors: unknown[] = [];
      r.scheduler.on(event, (job) => {
        seen.push(job);
        try {
          (job as { maxAttempts: number }).maxAttempts = 3;
        } catch (error) {
          errors.push(error);
        }
        try {
          job.history.push({ status: 'succeeded', at: new Date(), instanceId: null, reason: 'forged' });
        } catch (error) {
          errors.push(error);
        }
      });
      const other: Job[] = [];
      r.scheduler.on(event, (job) => other.push(job));
      const job = await r.scheduler.runTrigger('t');
      await r.clock.advance(60_000);
      expect(r.runs()).toBe(1);
      expect(errors).toHaveLength(2);
      expect(errors.every((error) => error instanceof TypeError)).toBe(true);
      expect(seen).toHaveLength(1);
      // One snapshot per emit, shared by the listeners, frozen all the way down.
      expect(other[0]).toBe(seen[0]);
      expect(Object.isFrozen(seen[0])).toBe(true);
      expect(Object.isFrozen(seen[0]!.history)).toBe(true);
      expect(Object.isFrozen(seen[0]!.payload)).toBe(true);
      expect((await r.scheduler.getJob(job.id))).toMatchObject({ status: 'failed', maxAttempts: 1 });
    });
  }

  it('job end events and trigger events are frozen snapshots too', async () => {
    const r = await failing();
    const jobs: Job[] = [];
    const triggers: Trigger[] = [];
    r.scheduler.on('job:failed', (job) => jobs.push(job));
    r.scheduler.on('trigger:paused', (trigger) => triggers.push(trigger));
    await r.scheduler.runTrigger('t');
    await r.clock.advance(1000);
    await r.scheduler.pauseTrigger('t');
    expect(jobs).toHaveLength(1);
    expect(Object.isFrozen(jobs[0])).toBe(true);
    expect(Object.isFrozen(triggers[0])).toBe(true);
    expect(Object.isFrozen(triggers[0]!.schedule)).toBe(true);
  });
});

describe('what the methods return is the caller\'s own', () => {
  it('a job returned by runTrigger: setting its maxAttempts changes no retry', async () => {
    const r = await failing();
    const job = await r.scheduler.runTrigger('t');
    job.maxAttempts = 3;
    job.payload = { n: 2 };
    await r.clock.advance(60_000);
    expect(r.runs()).toBe(1);
    expect(await r.scheduler.getJob(job.id)).toMatchObject({ status: 'failed', attempts: 1, maxAttempts: 1, payload: { n: 1 } });
  });

  it('a trigger returned by addTrigger and updateTrigger: changing it reaches no slot', async () => {
    rig = setup();
    const { scheduler, clock } = rig;
    const payloads: unknown[] = [];
    scheduler.register('h', (ctx) => void payloads.push(ctx.payload));
    const added = await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { every: 1000, startAt: new Date(clock.now() + 1000) }, payload: { n: 1 } });
    (added.payload as { n: number }).n = 99;
    added.nextRunAt = new Date(clock.now() + 500);
    await scheduler.start();
    await clock.advance(1500);
    const updated = await scheduler.updateTrigger('t', { payload: { n: 2 } });
    (updated.payload as { n: number }).n = 98;
    await clock.advance(1000);
    expect(payloads).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('jobs read from the memory store (getJob, listJobs) are copies', async () => {
    const r = await failing();
    const job = await r.scheduler.runTrigger('t');
    await r.clock.advance(1000);
    const read = (await r.scheduler.getJob(job.id))!;
    read.status = 'succeeded';
    read.history.length = 0;
    (read.payload as { n: number }).n = 5;
    const listed = (await r.scheduler.listJobs({ triggerId: 't' })).items[0]!;
    listed.error!.message = 'changed';
    expect(await r.scheduler.getJob(job.id)).toMatchObject({ status: 'failed', payload: { n: 1 }, error: { message: 'always' } });
    expect((await r.scheduler.getJob(job.id))!.history.length).toBeGreaterThan(0);
  });

  it('health() and stats() are new objects each time', async () => {
    const r = await failing();
    await r.scheduler.runTrigger('t');
    await r.clock.advance(1000);
    const health = await r.scheduler.health();
    health.running = 42;
    expect((await r.scheduler.health()).running).toBe(0);
    const stats = await r.scheduler.stats();
    const before = JSON.stringify(await r.scheduler.stats());
    stats.jobs.failed = 42;
    expect(JSON.stringify(await r.scheduler.stats())).toBe(before);
  });
});
