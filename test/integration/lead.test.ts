/**
 * Slots claimed ahead (`leadMs`): the claim and the job record are made `leadMs` before the slot,
 * and the handler starts at the slot itself. Manual clock, memory backend.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import type { Job } from '../../src/types.js';
import { setup, T0, type TestRig } from '../helpers/setup.js';

let rig: TestRig | null = null;
const others: Scheduler[] = [];

afterEach(async () => {
  await rig?.scheduler.stop({ graceful: false });
  rig = null;
  for (const scheduler of others.splice(0)) await scheduler.stop({ graceful: false });
});

describe('slots claimed ahead (leadMs)', () => {
  it('writes the job leadMs before the slot and starts the handler at the slot', async () => {
    rig = setup({ leadMs: 200 });
    const { scheduler, clock, events } = rig;
    const starts: number[] = [];
    scheduler.register('h', () => void starts.push(clock.now()));
    await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await scheduler.start();
    await clock.advanceTo(T0 + 799);
    expect(await rig.jobsOf('t')).toHaveLength(0);
    await clock.advanceTo(T0 + 800);
    const [prepared] = await rig.jobsOf('t');
    expect(prepared?.status).toBe('running');
    expect(prepared?.startedAt?.getTime()).toBe(T0 + 1000);
    expect(prepared?.createdAt.getTime()).toBe(T0 + 800);
    expect((await scheduler.getTrigger('t'))?.nextRunAt?.getTime()).toBe(T0 + 2000);
    expect(starts).toEqual([]);
    expect(events.filter((e) => e.name === 'job:scheduled')).toHaveLength(1);
    expect(events.filter((e) => e.name === 'job:started')).toHaveLength(0);
    await clock.advanceTo(T0 + 999);
    expect(starts).toEqual([]);
    await clock.advanceTo(T0 + 2500);
    expect(starts).toEqual([T0 + 1000, T0 + 2000]);
    const jobs = await rig.jobsOf('t');
    expect(jobs.map((job) => job.status)).toEqual(['succeeded', 'succeeded']);
    expect(jobs.map((job) => job.metrics.queuedMs)).toEqual([0, 0]);
    expect(jobs[0]?.history.map((entry) => [entry.status, entry.at.getTime()])).toEqual([
      ['pending', T0 + 800],
      ['running', T0 + 1000],
      ['succeeded', T0 + 1000],
    ]);
  });

  it('claims one slot ahead at a time when the period is shorter than the lead', async () => {
    rig = setup({ leadMs: 300 });
    const { scheduler, clock } = rig;
    const starts: number[] = [];
    scheduler.register('h', () => void starts.push(clock.now()));
    await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { every: 100, startAt: new Date(T0 + 500) } });
    await scheduler.start();
    let mostAhead = 0;
    for (let t = T0; t <= T0 + 1500; t += 10) {
      await clock.advanceTo(t);
      const ahead = (await rig.jobsOf('t')).filter((job) => job.status === 'running' && job.startedAt!.getTime() > clock.now());
      mostAhead = Math.max(mostAhead, ahead.length);
    }
    expect(mostAhead).toBe(1);
    expect(starts).toEqual(Array.from({ length: 11 }, (_, i) => T0 + 500 + i * 100));
  });

  it('a stop within the lead hands the job back as pending for its own time, and it runs then', async () => {
    const clock = new ManualClock(T0);
    const stores = { triggerStore: new MemoryTriggerStore(), jobStore: new MemoryJobStore(), lockManager: new MemoryLockManager() };
    const make = (instanceId: string): Scheduler => {
      const scheduler = new Scheduler({ ...stores, clock, instanceId, leadMs: 200, pollIntervalMs: 100, lookaheadMs: 1000 });
      others.push(scheduler);
      return scheduler;
    };
    const a = make('a');
    const ran: Array<{ instance: string; at: number }> = [];
    a.register('h', () => void ran.push({ instance: 'a', at: clock.now() }));
    await a.addTrigger({ id: 't', handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await a.start();
    await clock.advanceTo(T0 + 900);
    const [prepared] = (await stores.jobStore.list({ triggerId: 't' })).items;
    expect(prepared?.status).toBe('running');
    await a.stop();
    const [handedBack] = (await stores.jobStore.list({ triggerId: 't' })).items;
    expect(handedBack?.status).toBe('pending');
    expect(handedBack?.runAt.getTime()).toBe(T0 + 1000);
    expect(handedBack?.attempts).toBe(0);
    const b = make('b');
    b.register('h', () => void ran.push({ instance: 'b', at: clock.now() }));
    await b.start();
    await clock.advanceTo(T0 + 999);
    expect(ran).toEqual([]);
    await clock.advanceTo(T0 + 1500);
    expect(ran).toEqual([{ instance: 'b', at: T0 + 1000 }]);
    const [done] = (await stores.jobStore.list({ triggerId: 't' })).items;
    expect(done?.status).toBe('succeeded');
    expect(done?.attempts).toBe(1);
  });

  it('cancelJob within the lead cancels the slot at once, and the next slot still fires', async () => {
    rig = setup({ leadMs: 200 });
    const { scheduler, clock } = rig;
    const starts: number[] = [];
    scheduler.register('h', () => void starts.push(clock.now()));
    await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await scheduler.start();
    await clock.advanceTo(T0 + 900);
    const [prepared] = await rig.jobsOf('t');
    const cancelled = await scheduler.cancelJob(prepared!.id);
    expect(cancelled.status).toBe('cancelled');
    await clock.advanceTo(T0 + 2500);
    expect(starts).toEqual([T0 + 2000]);
    expect((await rig.jobsOf('t')).map((job: Job) => job.status)).toEqual(['cancelled', 'succeeded']);
  });

  it('pausing or removing a trigger here withdraws its slot claimed ahead: it never starts', async () => {
    rig = setup({ leadMs: 200 });
    const { scheduler, clock } = rig;
    const starts: string[] = [];
    scheduler.register('h', (ctx) => void starts.push(ctx.job.triggerId));
    await scheduler.addTrigger({ id: 'paused', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await scheduler.addTrigger({ id: 'removed', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await scheduler.addTrigger({ id: 'kept', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await scheduler.start();
    await clock.advanceTo(T0 + 900);
    expect((await rig.jobsOf('paused')).map((job) => job.status)).toEqual(['running']);
    await scheduler.pauseTrigger('paused');
    await scheduler.removeTrigger('removed');
    await clock.advanceTo(T0 + 2500);
    expect(starts).toEqual(['kept', 'kept']);
    const [paused] = await rig.jobsOf('paused');
    expect(paused?.status).toBe('cancelled');
    expect(paused?.history.at(-1)?.reason).toBe('trigger paused before its slot started');
    expect((await rig.jobsOf('removed')).map((job) => job.status)).toEqual(['cancelled']);
    // Resumed, it fires from its next slot after now.
    await scheduler.resumeTrigger('paused');
    await clock.advanceTo(T0 + 3500);
    expect(starts.filter((id) => id === 'paused')).toEqual(['paused']);
  });

  it('claims triggers with a concurrency cap or a window at their time, and none with leadMs 0', async () => {
    rig = setup({ leadMs: 200 });
    const { scheduler, clock } = rig;
    scheduler.register('h', () => undefined);
    await scheduler.addTrigger({ id: 'capped', handler: 'h', schedule: { at: new Date(T0 + 1000) }, overlap: 'skip' });
    await scheduler.addTrigger({ id: 'windowed', handler: 'h', schedule: { at: new Date(T0 + 1000) }, window: { between: ['00:00', '23:59'], timezone: 'UTC' } });
    await scheduler.addTrigger({ id: 'free', handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await scheduler.start();
    await clock.advanceTo(T0 + 900);
    expect((await rig.jobsOf('free')).length).toBe(1);
    expect((await rig.jobsOf('capped')).length).toBe(0);
    expect((await rig.jobsOf('windowed')).length).toBe(0);
    await clock.advanceTo(T0 + 1100);
    for (const id of ['capped', 'windowed', 'free']) expect((await rig.jobsOf(id)).map((job) => job.status)).toEqual(['succeeded']);

    const atTime = setup({ leadMs: 0 });
    others.push(atTime.scheduler);
    atTime.scheduler.register('h', () => undefined);
    await atTime.scheduler.addTrigger({ id: 'free', handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await atTime.scheduler.start();
    await atTime.clock.advanceTo(T0 + 999);
    expect(await atTime.jobsOf('free')).toHaveLength(0);
    await atTime.clock.advanceTo(T0 + 1000);
    expect((await atTime.jobsOf('free')).map((job) => job.status)).toEqual(['succeeded']);
  });

  it('records when a prepared job really started, if later than planned', async () => {
    rig = setup({ leadMs: 200 });
    const { scheduler, clock } = rig;
    scheduler.register('h', () => undefined);
    const succeeded: Job[] = [];
    scheduler.on('job:succeeded', (job) => succeeded.push(job));
    await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await scheduler.start();
    await clock.advanceTo(T0 + 900);
    // The process stalls past the slot: the start timer fires 40 ms late.
    clock.set(T0 + 1040);
    await clock.advance(0);
    const [job] = await rig.jobsOf('t');
    expect(job?.status).toBe('succeeded');
    expect(job?.startedAt?.getTime()).toBe(T0 + 1040);
    expect(job?.metrics.queuedMs).toBe(40);
    expect(succeeded[0]?.startedAt?.getTime()).toBe(T0 + 1040);
  });
});
