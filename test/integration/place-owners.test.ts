/**
 * Every place of an instance's room, and every concurrency permit, has one owner that gives it
 * back on every path, errors included. A store wrapper fails one chosen call; the instance
 * (`concurrency: 1`, where one kept place stops all work) must then free the place and run later
 * jobs. `crash-at-every-call.test.ts` does this for every call of a busy instance.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JobStore } from '../../src/ports.js';
import { MemoryJobStore } from '../../src/stores/memory/index.js';
import { setup, type TestRig } from '../helpers/setup.js';

let rig: TestRig | null = null;
afterEach(async () => {
  await rig?.scheduler.stop({ graceful: false });
  rig = null;
});

/** A job store whose calls of `method` fail `times` times in a row, after `skip` of them went through. */
function failCalls(store: MemoryJobStore, method: keyof JobStore, times = 1, skip = 0): { store: JobStore; failed: () => boolean } {
  let seen = 0;
  let failures = 0;
  const wrapped = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === method && seen++ >= skip && failures < times) {
          failures += 1;
          return Promise.reject(new Error(`injected failure of ${String(method)}`));
        }
        return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
      };
    },
  });
  return { store: wrapped, failed: () => failures === times };
}

describe('a store error never keeps a place or a permit', () => {
  it('starting a claimed job (a retry) fails once: the place goes back and later jobs run', async () => {
    const jobStore = new MemoryJobStore();
    const failing = failCalls(jobStore, 'update');
    rig = setup({ concurrency: 1, jobStore: failing.store });
    const { scheduler, clock } = rig;
    scheduler.on('error', () => undefined);
    scheduler.register('flaky', (ctx) => {
      if (ctx.attempt === 1) throw new Error('first attempt');
    });
    scheduler.register('ok', () => 'done');
    await scheduler.addTrigger({ id: 'r', handler: 'flaky', schedule: { manual: true }, retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 1000 } } });
    await scheduler.addTrigger({ id: 'later', handler: 'ok', schedule: { manual: true } });
    await scheduler.start();
    const retried = await scheduler.runTrigger('r');
    await clock.advance(1500);
    expect(failing.failed()).toBe(true);
    expect((await scheduler.health()).running).toBe(0);
    // The claimed job, whose start failed, is handed back as pending and runs.
    await clock.advance(60_000);
    expect((await jobStore.get(retried.id))?.status).toBe('succeeded');
    const later = await scheduler.runTrigger('later');
    await clock.advance(100);
    expect((await jobStore.get(later.id))?.status).toBe('succeeded');
    expect((await scheduler.health()).running).toBe(0);
  });

  it('storing a run-now job fails: runTrigger rejects, and the place goes back', async () => {
    const jobStore = new MemoryJobStore();
    // Five failures in a row: the insert's retries (about 3 s of them) are spent.
    const failing = failCalls(jobStore, 'insert', 5);
    rig = setup({ concurrency: 1, jobStore: failing.store });
    const { scheduler, clock } = rig;
    scheduler.register('ok', () => 'done');
    await scheduler.addTrigger({ id: 'm', handler: 'ok', schedule: { manual: true } });
    await scheduler.start();
    const attempt = scheduler.runTrigger('m').catch((error: unknown) => error);
    await clock.advance(5000);
    expect(await attempt).toMatchObject({ message: expect.stringMatching(/injected failure of insert/) });
    expect(failing.failed()).toBe(true);
    expect((await scheduler.health()).running).toBe(0);
    const job = await scheduler.runTrigger('m');
    await clock.advance(10);
    expect((await jobStore.get(job.id))?.status).toBe('succeeded');
  });

  it('claiming a job gated by a concurrency permit fails: the place and the permit go back', async () => {
    const jobStore = new MemoryJobStore();
    // The first claimPending is the dispatcher's look for retries and queued runs; the second the gated claim.
    const failing = failCalls(jobStore, 'update');
    rig = setup({ concurrency: 1, jobStore: failing.store });
    const { scheduler, clock, lockManager } = rig;
    scheduler.on('error', () => undefined);
    let release: (() => void) | null = null;
    // The first run holds the permit until released; later runs end at once.
    scheduler.register('capped', () => (release ? undefined : new Promise<void>((resolve) => (release = resolve))));
    await scheduler.addTrigger({ id: 'c', handler: 'capped', schedule: { manual: true }, overlap: 'queue' });
    await scheduler.start();
    const first = await scheduler.runTrigger('c');
    const queued = await scheduler.runTrigger('c');
    expect(queued.status).toBe('pending');
    // The first ends: its permit goes back, and the queued one is claimed with it; its start fails.
    release!();
    await clock.advance(10);
    expect((await jobStore.get(first.id))?.status).toBe('succeeded');
    expect(failing.failed()).toBe(true);
    expect((await scheduler.health()).running).toBe(0);
    expect(await lockManager.holders('permit:c:0', new Date(clock.now()))).toEqual([]);
    await clock.advance(60_000);
    expect((await jobStore.get(queued.id))?.status).toBe('succeeded');
  });
});
