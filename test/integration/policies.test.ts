/**
 * Trigger and job policies end to end, on the memory backend and a manual clock (no real sleeps).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { JobTimeoutError, PermanentJobError } from '../../src/errors.js';
import type { Job } from '../../src/types.js';
import { setup, T0, type TestRig } from '../helpers/setup.js';

let rig: TestRig | null = null;
afterEach(async () => {
  await rig?.scheduler.stop({ graceful: false });
  rig = null;
});

function statuses(jobs: Job[]): string[] {
  return jobs.map((j) => j.status);
}

describe('trigger kinds', () => {
  it('cron in a time zone fires at local times, each slot once', async () => {
    rig = setup({ pollIntervalMs: 60_000, lookaheadMs: 120_000 });
    const fired: string[] = [];
    rig.scheduler.register('h', (ctx) => void fired.push(ctx.job.scheduledFor.toISOString()));
    await rig.scheduler.start();
    // 10:00 in Berlin (UTC+1 in March before DST) is 09:00Z; the trigger is added at 09:00Z.
    await rig.scheduler.addTrigger({ id: 'c', handler: 'h', schedule: { cron: '0 10 * * *', timezone: 'Europe/Berlin' } });
    await rig.clock.advance(3 * 24 * 3600 * 1000);
    expect(fired).toEqual(['2026-03-02T09:00:00.000Z', '2026-03-03T09:00:00.000Z', '2026-03-04T09:00:00.000Z', '2026-03-05T09:00:00.000Z']);
  });

  it('a one-shot fires once and completes the trigger', async () => {
    rig = setup();
    rig.scheduler.register('h', () => 'done');
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'once', handler: 'h', schedule: { at: new Date(T0 + 10_000) } });
    await rig.clock.advance(60_000);
    const jobs = await rig.jobsOf('once');
    expect(statuses(jobs)).toEqual(['succeeded']);
    expect(jobs[0]?.scheduledFor.getTime()).toBe(T0 + 10_000);
    expect(jobs[0]?.result).toBe('done');
    expect((await rig.scheduler.getTrigger('once'))?.status).toBe('completed');
  });

  it('every with endAt stops after the last slot and completes', async () => {
    rig = setup();
    rig.scheduler.register('h', () => undefined);
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({
      id: 'e',
      handler: 'h',
      schedule: { every: '10s', startAt: new Date(T0 + 10_000), endAt: new Date(T0 + 30_000) },
    });
    await rig.clock.advance(120_000);
    const jobs = await rig.jobsOf('e');
    expect(jobs.map((j) => j.scheduledFor.getTime() - T0)).toEqual([10_000, 20_000, 30_000]);
    expect((await rig.scheduler.getTrigger('e'))?.status).toBe('completed');
  });

  it('manual triggers run only through runTrigger, with an optional payload', async () => {
    rig = setup();
    const payloads: unknown[] = [];
    rig.scheduler.register('h', (ctx) => void payloads.push(ctx.payload));
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'm', handler: 'h', schedule: { manual: true }, payload: { from: 'trigger' } });
    await rig.clock.advance(60_000);
    expect(payloads).toEqual([]);
    const job = await rig.scheduler.runTrigger('m');
    await rig.scheduler.runTrigger('m', { payload: { from: 'call' } });
    await rig.clock.advance(10);
    expect(payloads).toEqual([{ from: 'trigger' }, { from: 'call' }]);
    expect((await rig.scheduler.getJob(job.id))?.source).toBe('manual');
  });

  it('dependent triggers fire on success, failure or completion of the upstream job', async () => {
    rig = setup();
    let fail = false;
    rig.scheduler.register('up', () => {
      if (fail) throw new Error('boom');
      return 1;
    });
    const seen: string[] = [];
    rig.scheduler.register('down', (ctx) => void seen.push(`${ctx.trigger?.id}:${ctx.job.upstream?.status}`));
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'up', handler: 'up', schedule: { manual: true } });
    await rig.scheduler.addTrigger({ id: 'on-ok', handler: 'down', schedule: { after: 'up' } });
    await rig.scheduler.addTrigger({ id: 'on-fail', handler: 'down', schedule: { after: 'up', on: 'failure' } });
    await rig.scheduler.addTrigger({ id: 'on-any', handler: 'down', schedule: { after: 'up', on: 'completion' } });
    await rig.scheduler.runTrigger('up');
    await rig.clock.advance(10);
    fail = true;
    await rig.scheduler.runTrigger('up');
    await rig.clock.advance(10);
    expect(seen.sort()).toEqual(['on-any:failed', 'on-any:succeeded', 'on-fail:failed', 'on-ok:succeeded']);
    const upstreamJobs = await rig.jobsOf('up');
    expect(upstreamJobs.every((j) => j.dependentsFired)).toBe(true);
  });
});

describe('retries', () => {
  it('retries with exponential backoff and succeeds on the third attempt', async () => {
    rig = setup();
    let calls = 0;
    const attempts: number[] = [];
    rig.scheduler.register('flaky', (ctx) => {
      attempts.push(ctx.attempt);
      calls += 1;
      if (calls < 3) throw Object.assign(new Error(`fail ${calls}`), { code: 'E_FLAKY' });
      return 'ok';
    });
    await rig.scheduler.start();
    const t = await rig.scheduler.addTrigger({
      handler: 'flaky',
      schedule: { manual: true },
      retry: { attempts: 5, backoff: { type: 'exponential', delayMs: 1000, jitter: 'none' } },
    });
    const job = await rig.scheduler.runTrigger(t.id);
    await rig.clock.advance(10);
    let current = await rig.scheduler.getJob(job.id);
    expect(current?.status).toBe('pending');
    expect(current?.nextAttemptAt?.getTime()).toBe(T0 + 1000);
    expect(current?.error).toEqual({ name: 'Error', message: 'fail 1', code: 'E_FLAKY', stack: expect.stringMatching(/^Error: fail 1\n\s+at /) as string });
    await rig.clock.advance(989);
    expect(attempts).toEqual([1]);
    await rig.clock.advance(1);
    expect(attempts).toEqual([1, 2]);
    await rig.clock.advance(2000);
    expect(attempts).toEqual([1, 2, 3]);
    current = await rig.scheduler.getJob(job.id);
    expect(current?.status).toBe('succeeded');
    expect(current?.attempts).toBe(3);
    expect(current?.history.map((h) => h.status)).toEqual(['pending', 'running', 'pending', 'running', 'pending', 'running', 'succeeded']);
    expect(rig.events.filter((e) => e.name === 'job:retrying')).toHaveLength(2);
  });

  it('PermanentJobError and retryOn stop retries; exhausted attempts fail the job', async () => {
    rig = setup();
    rig.scheduler.register('perm', () => {
      throw new PermanentJobError('bad input');
    });
    rig.scheduler.register('declined', () => {
      throw new Error('not retryable');
    }, { retryOn: (error) => !(error instanceof Error && error.message === 'not retryable') });
    rig.scheduler.register('always', () => {
      throw new Error('again');
    });
    await rig.scheduler.start();
    const retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 100 } };
    for (const h of ['perm', 'declined', 'always']) await rig.scheduler.addTrigger({ id: h, handler: h, schedule: { manual: true }, retry });
    const perm = await rig.scheduler.runTrigger('perm');
    const declined = await rig.scheduler.runTrigger('declined');
    const always = await rig.scheduler.runTrigger('always');
    await rig.clock.advance(1000);
    expect(await rig.scheduler.getJob(perm.id)).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'ERR_PERMANENT_JOB' } });
    expect(await rig.scheduler.getJob(declined.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await rig.scheduler.getJob(always.id)).toMatchObject({ status: 'failed', attempts: 3, error: { message: 'again' } });
  });
});

describe('timeouts and cancellation', () => {
  it('a handler that ignores its signal still fails with JobTimeoutError and its late result is dropped', async () => {
    rig = setup();
    let release: (value: string) => void = () => undefined;
    let aborted: unknown = null;
    rig.scheduler.register('slow', (ctx) => {
      ctx.signal.addEventListener('abort', () => (aborted = ctx.signal.reason as unknown));
      return new Promise<string>((resolve) => (release = resolve));
    });
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 's', handler: 'slow', schedule: { manual: true }, timeoutMs: 5000 });
    const job = await rig.scheduler.runTrigger('s');
    await rig.clock.advance(4999);
    expect((await rig.scheduler.getJob(job.id))?.status).toBe('running');
    await rig.clock.advance(1);
    const failed = await rig.scheduler.getJob(job.id);
    expect(failed?.status).toBe('failed');
    expect(failed?.error).toMatchObject({ name: 'JobTimeoutError', code: 'ERR_JOB_TIMEOUT' });
    expect(aborted).toBeInstanceOf(JobTimeoutError);
    expect(rig.events.some((e) => e.name === 'job:timeout' && e.job?.id === job.id)).toBe(true);
    release('too late');
    await rig.clock.advance(10);
    expect((await rig.scheduler.getJob(job.id))?.result).toBeNull();
  });

  it('a handler that never reads its signal is timed out too, and sees it aborted when it looks later', async () => {
    rig = setup();
    let release: () => void = () => undefined;
    let seenLater: AbortSignal | null = null;
    rig.scheduler.register('deaf', (ctx) =>
      new Promise<void>((resolve) => (release = resolve)).then(() => {
        seenLater = ctx.signal;
      }),
    );
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'd', handler: 'deaf', schedule: { manual: true }, timeoutMs: 1000 });
    const job = await rig.scheduler.runTrigger('d');
    await rig.clock.advance(1000);
    expect(await rig.scheduler.getJob(job.id)).toMatchObject({ status: 'failed', error: { code: 'ERR_JOB_TIMEOUT' } });
    expect((await rig.scheduler.health()).running).toBe(0);
    release();
    await rig.clock.advance(10);
    const signal = seenLater as AbortSignal | null;
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(JobTimeoutError);
  });

  it('cancelJob aborts a running job and cancels a pending one', async () => {
    rig = setup({ concurrency: 1 });
    let signalled = false;
    rig.scheduler.register('wait', (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => { signalled = true; resolve(null); })));
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'w', handler: 'wait', schedule: { manual: true } });
    const running = await rig.scheduler.runTrigger('w');
    const pending = await rig.scheduler.runTrigger('w');
    expect(running.status).toBe('running');
    expect(pending.status).toBe('pending');
    expect((await rig.scheduler.cancelJob(pending.id)).status).toBe('cancelled');
    const cancelled = await rig.scheduler.cancelJob(running.id);
    expect(cancelled.status).toBe('cancelled');
    expect(signalled).toBe(true);
    await expect(rig.scheduler.cancelJob('no-such-job')).rejects.toMatchObject({ code: 'ERR_JOB_NOT_FOUND' });
  });
});

describe('misfires', () => {
  async function missedRun(misfire: 'run-once' | 'skip' | 'run-all'): Promise<Job[]> {
    rig = setup({ misfireGraceMs: 5000 });
    rig.scheduler.register('h', () => undefined);
    await rig.triggerStore.insert({
      ...(await import('../../src/testing/fixtures.js')).makeTrigger({
        id: 'm',
        handler: 'h',
        misfire,
        schedule: { kind: 'every', every: 60_000, startAt: new Date(T0 - 10 * 60_000), endAt: null },
        nextRunAt: new Date(T0 - 10 * 60_000),
      }),
    });
    await rig.scheduler.start();
    await rig.clock.advance(1000);
    return rig.jobsOf('m');
  }

  it('run-once coalesces missed slots into one run for the latest missed slot', async () => {
    const jobs = await missedRun('run-once');
    expect(jobs.map((j) => j.scheduledFor.getTime())).toEqual([T0]);
    expect((await rig!.scheduler.getTrigger('m'))?.nextRunAt?.getTime()).toBe(T0 + 60_000);
  });

  it('skip drops missed slots and resumes at the next future slot', async () => {
    const jobs = await missedRun('skip');
    expect(jobs).toEqual([]);
    expect((await rig!.scheduler.getTrigger('m'))?.nextRunAt?.getTime()).toBe(T0 + 60_000);
  });

  it('run-all replays every missed slot, oldest first', async () => {
    const jobs = await missedRun('run-all');
    expect(jobs.map((j) => (j.scheduledFor.getTime() - T0) / 60_000)).toEqual([-10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0]);
  });

  it('a slot late by less than misfireGraceMs runs normally', async () => {
    rig = setup({ misfireGraceMs: 5000 });
    rig.scheduler.register('h', () => undefined);
    await rig.triggerStore.insert(
      (await import('../../src/testing/fixtures.js')).makeTrigger({
        id: 'g',
        handler: 'h',
        misfire: 'skip',
        schedule: { kind: 'every', every: 60_000, startAt: new Date(T0 - 3000), endAt: null },
        nextRunAt: new Date(T0 - 3000),
      }),
    );
    await rig.scheduler.start();
    await rig.clock.advance(10);
    expect((await rig.jobsOf('g')).map((j) => j.scheduledFor.getTime())).toEqual([T0 - 3000]);
  });
});

describe('overlap, concurrency and priority', () => {
  function blocking(r: TestRig): { release(): void; started: number } {
    const state = { started: 0, waiting: [] as Array<() => void>, release: () => state.waiting.splice(0).forEach((f) => f()) };
    r.scheduler.register('block', () => {
      state.started += 1;
      return new Promise<void>((resolve) => state.waiting.push(resolve));
    });
    return state;
  }

  it('overlap skip records a skipped job while the previous run is active', async () => {
    rig = setup();
    const gate = blocking(rig);
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'o', handler: 'block', schedule: { every: 1000, startAt: new Date(T0 + 1000) }, overlap: 'skip' });
    await rig.clock.advance(3000);
    expect(statuses(await rig.jobsOf('o'))).toEqual(['running', 'skipped', 'skipped']);
    expect((await rig.jobsOf('o'))[1]?.history.at(-1)?.reason).toContain('overlap');
    gate.release();
    await rig.clock.advance(1000);
    expect(statuses(await rig.jobsOf('o'))).toEqual(['succeeded', 'skipped', 'skipped', 'running']);
  });

  it('overlap queue keeps one pending run and starts it when the previous one ends', async () => {
    rig = setup();
    const gate = blocking(rig);
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'q', handler: 'block', schedule: { every: 1000, startAt: new Date(T0 + 1000) }, overlap: 'queue' });
    await rig.clock.advance(3000);
    expect(statuses(await rig.jobsOf('q'))).toEqual(['running', 'pending', 'skipped']);
    gate.release();
    await rig.clock.advance(10);
    expect(statuses(await rig.jobsOf('q'))).toEqual(['succeeded', 'running', 'skipped']);
    expect(gate.started).toBe(2);
  });

  it('maxConcurrent caps running jobs of a trigger; extra runs wait', async () => {
    rig = setup();
    const gate = blocking(rig);
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'mc', handler: 'block', schedule: { manual: true }, maxConcurrent: 2 });
    for (let i = 0; i < 4; i++) await rig.scheduler.runTrigger('mc');
    await rig.clock.advance(10);
    expect(gate.started).toBe(2);
    gate.release();
    await rig.clock.advance(10);
    expect(gate.started).toBe(4);
  });

  it('global and per-handler concurrency limit running jobs; higher priority starts first', async () => {
    rig = setup({ concurrency: 2 });
    const order: string[] = [];
    const waiting: Array<() => void> = [];
    rig.scheduler.register('w', (ctx) => {
      order.push(ctx.trigger!.id);
      return new Promise<void>((resolve) => waiting.push(resolve));
    }, { concurrency: 1 });
    await rig.scheduler.start();
    for (const [id, priority] of [['low', 0], ['high', 10], ['mid', 5]] as const) {
      await rig.scheduler.addTrigger({ id, handler: 'w', priority, schedule: { at: new Date(T0 + 1000) } });
    }
    await rig.clock.advance(1000);
    expect(order).toEqual(['high']);
    waiting.shift()!();
    await rig.clock.advance(10);
    expect(order).toEqual(['high', 'mid']);
    waiting.shift()!();
    await rig.clock.advance(10);
    expect(order).toEqual(['high', 'mid', 'low']);
  });
});

describe('windows, jitter, pause', () => {
  it('slots outside the window are recorded as skipped', async () => {
    rig = setup();
    rig.scheduler.register('h', () => undefined);
    await rig.scheduler.start();
    // Hourly; window 09:00-11:00 Berlin = 08:00-10:00Z on these dates.
    await rig.scheduler.addTrigger({
      id: 'w',
      handler: 'h',
      schedule: { cron: '0 * * * *', timezone: 'Europe/Berlin' },
      window: { between: ['09:00', '11:00'], days: ['MON', 'TUE'] },
    });
    await rig.clock.advance(3 * 3600 * 1000);
    const jobs = await rig.jobsOf('w');
    // 09:00Z is 10:00 in Berlin (inside); 10:00Z is 11:00 (the end is exclusive).
    expect(jobs.map((j) => `${j.scheduledFor.toISOString().slice(11, 16)} ${j.status}`)).toEqual([
      '09:00 succeeded',
      '10:00 skipped',
      '11:00 skipped',
      '12:00 skipped',
    ]);
  });

  it('jitter delays the start but keeps the slot key', async () => {
    rig = setup();
    const starts: number[] = [];
    rig.scheduler.register('h', () => void starts.push(rig!.clock.now()));
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'j', handler: 'h', schedule: { at: new Date(T0 + 1000) }, jitterMs: 500 });
    await rig.clock.advance(2000);
    const [job] = await rig.jobsOf('j');
    expect(job?.scheduledFor.getTime()).toBe(T0 + 1000);
    expect(starts).toHaveLength(1);
    expect(starts[0]).toBeGreaterThanOrEqual(T0 + 1000);
    expect(starts[0]).toBeLessThan(T0 + 1500);
  });

  it('pause stops firing; resume continues from the next slot after now', async () => {
    rig = setup();
    rig.scheduler.register('h', () => undefined);
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'p', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await rig.clock.advance(2000);
    expect((await rig.scheduler.pauseTrigger('p')).status).toBe('paused');
    await rig.clock.advance(5000);
    expect(await rig.jobsOf('p')).toHaveLength(2);
    const resumed = await rig.scheduler.resumeTrigger('p');
    expect(resumed.status).toBe('active');
    expect(resumed.nextRunAt?.getTime()).toBe(T0 + 7000);
    await rig.clock.advance(2000);
    expect((await rig.jobsOf('p')).map((j) => j.scheduledFor.getTime() - T0)).toEqual([1000, 2000, 7000, 8000, 9000]);
  });
});

describe('lifecycle', () => {
  it('start and stop are idempotent; a graceful stop waits, then aborts and hands the job back', async () => {
    rig = setup();
    rig.scheduler.register('forever', () => new Promise(() => undefined));
    await Promise.all([rig.scheduler.start(), rig.scheduler.start()]);
    expect(rig.scheduler.state).toBe('running');
    await rig.scheduler.addTrigger({ id: 'f', handler: 'forever', schedule: { manual: true } });
    const job = await rig.scheduler.runTrigger('f');
    const stopping = Promise.all([rig.scheduler.stop({ timeoutMs: 5000 }), rig.scheduler.stop()]);
    await rig.clock.advance(4999);
    expect(rig.scheduler.state).toBe('stopping');
    await rig.clock.advance(1);
    await stopping;
    expect(rig.scheduler.state).toBe('stopped');
    const after = await rig.scheduler.getJob(job.id);
    expect(after?.status).toBe('pending');
    expect(after?.history.at(-1)?.reason).toContain('instance stopped');
    await rig.scheduler.stop();
  });

  it('a stopped scheduler claims nothing', async () => {
    rig = setup();
    rig.scheduler.register('h', () => undefined);
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 's', handler: 'h', schedule: { every: 1000 } });
    await rig.scheduler.stop();
    await rig.clock.advance(10_000);
    expect(await rig.jobsOf('s')).toEqual([]);
  });
});

describe('observability', () => {
  it('stats reports counts, last/next run and duration percentiles; health reports state', async () => {
    rig = setup();
    let n = 0;
    rig.scheduler.register('h', async () => {
      n += 1;
      if (n === 3) throw new Error('x');
    });
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 's', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await rig.clock.advance(4000);
    const stats = await rig.scheduler.stats({ triggerId: 's' });
    expect(stats.jobs).toMatchObject({ succeeded: 3, failed: 1 });
    expect(stats.triggers.s).toMatchObject({ runs: 4, succeeded: 3, failed: 1 });
    expect(stats.triggers.s?.nextRunAt?.getTime()).toBe(T0 + 5000);
    expect(stats.triggers.s?.lastRunAt?.getTime()).toBe(T0 + 4000);
    expect(stats.triggers.s?.p50DurationMs).not.toBeNull();
    const health = await rig.scheduler.health();
    expect(health).toMatchObject({ status: 'ok', instanceId: 'test', running: 0, storeReachable: true, lastPollError: null });
    expect(health.lastPollAt).toBeInstanceOf(Date);
  });

  it('emits the job lifecycle events in order', async () => {
    rig = setup();
    rig.scheduler.register('h', () => 1);
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'ev', handler: 'h', schedule: { manual: true } });
    await rig.scheduler.runTrigger('ev');
    await rig.clock.advance(10);
    expect(rig.events.map((e) => e.name)).toEqual(['job:scheduled', 'job:started', 'job:succeeded']);
  });

  it('a listener that throws does not break the engine', async () => {
    rig = setup();
    rig.scheduler.register('h', () => 1);
    rig.scheduler.on('job:started', () => {
      throw new Error('listener bug');
    });
    await rig.scheduler.start();
    await rig.scheduler.addTrigger({ id: 'l', handler: 'h', schedule: { manual: true } });
    const job = await rig.scheduler.runTrigger('l');
    await rig.clock.advance(10);
    expect((await rig.scheduler.getJob(job.id))?.status).toBe('succeeded');
  });
});
