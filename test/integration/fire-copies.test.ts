/**
 * What a fire hands out is its own: the engine builds the claimed trigger and the finished job
 * from its own copies instead of reading them back from the memory store, so these check that
 * nothing of one run leaks into the next, and that the events show what was stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/types.js';
import { MemoryJobStore } from '../../src/stores/memory/index.js';
import { makeJob } from '../../src/testing/fixtures.js';
import { setup, T0, type TestRig } from '../helpers/setup.js';

let rig: TestRig | null = null;

afterEach(async () => {
  await rig?.scheduler.stop({ graceful: false });
  rig = null;
});

describe('a fire hands out its own copies', () => {
  it('a handler that changes its payload or trigger does not change the next run', async () => {
    rig = setup();
    const { scheduler, clock } = rig;
    const seen: unknown[] = [];
    scheduler.register('h', (ctx) => {
      seen.push(structuredClone(ctx.payload));
      (ctx.payload as { n: number; list: number[] }).n += 100;
      (ctx.payload as { n: number; list: number[] }).list.push(9);
      if (ctx.trigger) (ctx.trigger.payload as { n: number }).n = -1;
    });
    await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { every: 1000 }, payload: { n: 1, list: [1] } });
    await scheduler.start();
    await clock.advance(3_500);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.every((payload) => JSON.stringify(payload) === JSON.stringify({ n: 1, list: [1] }))).toBe(true);
    expect((await scheduler.getTrigger('t'))?.payload).toEqual({ n: 1, list: [1] });
  });

  it('ctx.trigger is the trigger as the slot claim wrote it', async () => {
    rig = setup();
    const { scheduler, clock } = rig;
    const seen: Array<{ id: string; status: string; nextRunAt: number | null; lastRunAt: number | null; version: number }> = [];
    scheduler.register('h', (ctx) => {
      const t = ctx.trigger!;
      seen.push({ id: t.id, status: t.status, nextRunAt: t.nextRunAt?.getTime() ?? null, lastRunAt: t.lastRunAt?.getTime() ?? null, version: t.version });
      // A handler's copy is its own: changing it changes neither the store nor the next run's copy.
      (t as { nextRunAt: Date | null }).nextRunAt = null;
    });
    await scheduler.addTrigger({ id: 'once', handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await scheduler.addTrigger({ id: 'every', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await scheduler.start();
    await clock.advance(2_500);
    const stored = { once: await scheduler.getTrigger('once'), every: await scheduler.getTrigger('every') };
    expect(seen.filter((s) => s.id === 'once')).toEqual([{ id: 'once', status: 'completed', nextRunAt: null, lastRunAt: T0 + 1000, version: stored.once!.version }]);
    const every = seen.filter((s) => s.id === 'every');
    expect(every).toEqual([
      { id: 'every', status: 'active', nextRunAt: T0 + 2000, lastRunAt: T0 + 1000, version: stored.every!.version - 1 },
      { id: 'every', status: 'active', nextRunAt: T0 + 3000, lastRunAt: T0 + 2000, version: stored.every!.version },
    ]);
  });

  it('the succeeded event carries the job as stored, history included', async () => {
    rig = setup();
    const { scheduler, clock } = rig;
    const succeeded: Job[] = [];
    scheduler.on('job:succeeded', (job) => succeeded.push(job));
    scheduler.register('h', () => ({ done: true }));
    await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { every: 1000 }, payload: { n: 1 } });
    await scheduler.start();
    await clock.advance(2_500);
    expect(succeeded.length).toBeGreaterThanOrEqual(2);
    for (const job of succeeded) {
      expect(job.history.map((entry) => entry.status)).toEqual(['pending', 'running', 'succeeded']);
      expect(await scheduler.getJob(job.id)).toEqual(job);
    }
    // And the event's job is not the stored record: a frozen snapshot, so nothing can change it.
    expect(() => (succeeded[0]!.history.length = 0)).toThrow(TypeError);
    expect((await scheduler.getJob(succeeded[0]!.id))?.history).toHaveLength(3);
  });
});

describe('MemoryJobStore.write', () => {
  it('answers whether the conditions held, and writes like update', async () => {
    const store = new MemoryJobStore();
    const at = new Date(T0);
    await store.insert(makeJob({ status: 'running', fence: 2, lease: { owner: 'a', token: 2, expiresAt: new Date(T0 + 30_000) } }));
    expect(await store.write('j1', { status: ['running'], leaseToken: 1 }, { status: 'succeeded' })).toBe(false);
    expect(await store.write('j1', { status: ['pending'] }, { status: 'succeeded' })).toBe(false);
    expect(await store.write('missing', { status: ['running'] }, { status: 'succeeded' })).toBe(false);
    expect((await store.get('j1'))?.status).toBe('running');
    const finishedAt = new Date(T0 + 10);
    const ok = await store.write('j1', { status: ['running'], leaseToken: 2 }, { status: 'succeeded', lease: null, finishedAt, result: { ok: 1 } }, [
      { status: 'succeeded', at, instanceId: 'a', reason: 'done' },
    ]);
    expect(ok).toBe(true);
    finishedAt.setTime(0);
    const stored = await store.get('j1');
    expect(stored?.status).toBe('succeeded');
    expect(stored?.lease).toBeNull();
    expect(stored?.finishedAt).toEqual(new Date(T0 + 10));
    expect(stored?.result).toEqual({ ok: 1 });
    expect(stored?.history.map((entry) => entry.status)).toEqual(['pending', 'succeeded']);
  });
});
