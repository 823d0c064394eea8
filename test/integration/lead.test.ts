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
    // The record is `running` from its claim on; `startedAt` says when the handler started.
    expect(jobs[0]?.history.map((entry) => [entry.status, entry.at.getTime()])).toEqual([
      ['pending', T0 + 800],
      ['running', T0 + 800],
      ['succeeded', T0 + 1000],
    ]);
    expect(jobs.map((job) => job.startedAt?.getTime())).toEqual([T0 + 1000, T0 + 2000]);
  });

  it('claims one slot ahead at a time when the period is shorter than the lead', async () => {
    rig = setup({ leadMs: 3000 });
    const { scheduler, clock } = rig;
    const starts: number[] = [];
    scheduler.register('h', () => void starts.push(clock.now()));
    await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 5000) } });
    await scheduler.start();
    let mostAhead = 0;
    for (let t = T0; t <= T0 + 15_000; t += 100) {
      await clock.advanceTo(t);
      const ahead = (await rig.jobsOf('t')).filter((job) => job.status === 'running' && job.startedAt!.getTime() > clock.now());
      mostAhead = Math.max(mostAhead, ahead.length);
    }
    expect(mostAhead).toBe(1);
    expect(starts).toEqual(Array.from({ length: 11 }, (_, i) => T0 + 5000 + i * 1000));
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

  it('a slot already claimed ahead runs even if its trigger is paused or removed meanwhile; the slots after it do not', async () => {
    rig = setup({ leadMs: 200 });
    const { scheduler, clock } = rig;
    const starts: Array<[string, number]> = [];
    scheduler.register('h', (ctx) => void starts.push([ctx.job.triggerId, clock.now() - T0]));
    await scheduler.addTrigger({ id: 'paused', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await scheduler.addTrigger({ id: 'removed', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await scheduler.addTrigger({ id: 'once', handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await scheduler.start();
    await clock.advanceTo(T0 + 900);
    await scheduler.pauseTrigger('paused');
    await scheduler.removeTrigger('removed');
    await scheduler.pauseTrigger('once');
    await clock.advanceTo(T0 + 3500);
    expect(starts.sort()).toEqual([
      ['once', 1000],
      ['paused', 1000],
      ['removed', 1000],
    ]);
    // The one-shot had fired (its claim completed it); the interval resumes from its next slot after now.
    expect((await scheduler.getTrigger('once'))?.status).toBe('completed');
    await scheduler.resumeTrigger('paused');
    await clock.advanceTo(T0 + 4500);
    expect(starts.filter(([id]) => id === 'paused').map(([, at]) => at)).toEqual([1000, 4000]);
  });

  it('a prepared job that never starts records no start: cancelled, or handed back by a stop for its own time', async () => {
    rig = setup({ leadMs: 200 });
    const { scheduler, clock } = rig;
    const starts: string[] = [];
    scheduler.register('h', (ctx) => void starts.push(ctx.job.triggerId));
    await scheduler.addTrigger({ id: 'cancelled', handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await scheduler.addTrigger({ id: 'stopped', handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await scheduler.start();
    await clock.advanceTo(T0 + 850);
    const [prepared] = await rig.jobsOf('cancelled');
    await scheduler.cancelJob(prepared!.id);
    await scheduler.stop();
    expect(starts).toEqual([]);
    const [cancelled] = await rig.jobsOf('cancelled');
    expect(cancelled).toMatchObject({ status: 'cancelled', attempts: 0, startedAt: null });
    expect(cancelled?.metrics.durationMs).toBeNull();
    expect(cancelled?.history.map((entry) => entry.status)).toEqual(['pending', 'running', 'cancelled']);
    const [handedBack] = await rig.jobsOf('stopped');
    expect(handedBack).toMatchObject({ status: 'pending', attempts: 0, startedAt: null });
    expect(handedBack?.runAt.getTime()).toBe(T0 + 1000);
    expect(handedBack?.history.map((entry) => entry.status)).toEqual(['pending', 'running', 'pending']);
    expect(handedBack?.history.at(-1)?.reason).toBe('instance stopped before the job started; handed back for its own time');
  });

  it('a prepared job whose insert is answered while the instance stops is handed back, not started', async () => {
    const clock = new ManualClock(T0);
    let answer: () => void = () => undefined;
    class SlowInsertStore extends MemoryJobStore {
      override async insertMany(jobs: Job[]): Promise<Array<Job | null>> {
        await new Promise<void>((resolve) => (answer = resolve));
        return super.insertMany(jobs);
      }
    }
    const jobStore = new SlowInsertStore();
    const scheduler = new Scheduler({ clock, jobStore, triggerStore: new MemoryTriggerStore(), lockManager: new MemoryLockManager(), leadMs: 200 });
    others.push(scheduler);
    const starts: number[] = [];
    scheduler.register('h', () => void starts.push(clock.now()));
    await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await scheduler.start();
    await clock.advanceTo(T0 + 850);
    const stopping = scheduler.stop();
    answer();
    await stopping;
    await clock.advanceTo(T0 + 2000);
    expect(starts).toEqual([]);
    const [job] = (await jobStore.list({ triggerId: 't' })).items;
    expect(job).toMatchObject({ status: 'pending', attempts: 0, startedAt: null });
    expect(job?.runAt.getTime()).toBe(T0 + 1000);
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
