/**
 * A failing store never crashes the host: errors are emitted, polling backs off, running jobs go
 * on, and on recovery missed slots follow the misfire policy.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { JobStore, LockManager, TriggerStore } from '../../src/ports.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import { T0 } from '../helpers/setup.js';

/** Wrap a store so every call fails while `outage.down` is true. */
function flaky<S extends object>(store: S, outage: { down: boolean; calls: number }): S {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (outage.down) {
          outage.calls += 1;
          return Promise.reject(new Error('connection refused'));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('store outage', () => {
  it('emits errors, backs off, aborts the running job once its lease runs out and runs it again after the outage, and applies run-once on recovery', async () => {
    const clock = new ManualClock(T0);
    const outage = { down: false, calls: 0 };
    const triggerStore = flaky(new MemoryTriggerStore(), outage) as TriggerStore;
    const jobStore = flaky(new MemoryJobStore(), outage) as JobStore;
    // One database: its locks (and the instance lease the job's lease hangs on) go down with it.
    const lockManager = flaky(new MemoryLockManager(), outage) as LockManager;
    const scheduler = new Scheduler({
      triggerStore,
      jobStore,
      lockManager,
      clock,
      pollIntervalMs: 1000,
      lookaheadMs: 2000,
      misfireGraceMs: 5000,
    });
    const errors: Error[] = [];
    scheduler.on('error', (error) => errors.push(error));
    const fired: number[] = [];
    let finishLong: () => void = () => undefined;
    let longRuns = 0;
    let firstLongAborted = false;
    scheduler.register('tick', (ctx) => void fired.push(ctx.job.scheduledFor.getTime()));
    scheduler.register('long', (ctx) => {
      longRuns += 1;
      const run = longRuns;
      ctx.signal.addEventListener('abort', () => {
        if (run === 1) firstLongAborted = true;
      });
      return new Promise<void>((resolve) => (finishLong = resolve));
    });
    await scheduler.start();
    await scheduler.addTrigger({ id: 'tick', handler: 'tick', schedule: { every: 10_000, startAt: new Date(T0 + 10_000) }, misfire: 'run-once' });
    await scheduler.addTrigger({ id: 'long', handler: 'long', schedule: { manual: true } });
    const longJob = await scheduler.runTrigger('long');
    await clock.advance(10_000);
    expect(fired).toEqual([T0 + 10_000]);

    outage.down = true;
    await clock.advance(60_000);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => (e as { code?: string }).code === 'ERR_STORE')).toBe(true);
    const callsDuringOutage = outage.calls;
    // Backoff: far fewer calls than one poll per second for a minute would make.
    expect(callsDuringOutage).toBeLessThan(60);
    expect((await scheduler.health().catch(() => null))?.status).toBe('degraded');

    outage.down = false;
    await clock.advance(31_000);
    // One coalesced run for the slots missed during the outage (20 s .. 70 s), then on schedule again.
    const missedWindow = fired.filter((at) => at > T0 + 10_000 && at <= T0 + 70_000);
    expect(missedWindow).toHaveLength(1);
    const after = fired.filter((at) => at > T0 + 70_000);
    expect(after.every((at) => (at - T0) % 10_000 === 0)).toBe(true);
    expect(new Set(fired).size).toBe(fired.length);
    const jobs = (await scheduler.listJobs({ triggerId: 'tick' })).items;
    expect(jobs).toHaveLength(fired.length);
    // The lease (30 s) ran out during the outage: the attempt was aborted then (no renewal could
    // come back), and the job, not handed back while the store was down, was recovered as a stall
    // (by this instance's audit of its own jobs after the errors).
    expect(firstLongAborted).toBe(true);
    expect(longRuns).toBe(2);
    finishLong();
    await clock.advance(10);
    const long = await scheduler.getJob(longJob.id);
    expect(long?.status).toBe('succeeded');
    expect(long?.stalls).toBe(1);
    expect(long?.attempts).toBe(1);
    expect(long?.history.some((entry) => entry.reason?.startsWith('stalled: instance') === true)).toBe(true);
    expect((await scheduler.health()).status).toBe('ok');
    await scheduler.stop();
  });

  it('a job that finishes during a short outage is still recorded once, without being run again', async () => {
    const clock = new ManualClock(T0);
    const outage = { down: false, calls: 0 };
    const jobStore = flaky(new MemoryJobStore(), outage) as JobStore;
    const scheduler = new Scheduler({ jobStore, clock, leaseMs: 30_000 });
    let runs = 0;
    let finish: () => void = () => undefined;
    scheduler.register('work', () => {
      runs += 1;
      return new Promise<string>((resolve) => (finish = () => resolve('done')));
    });
    const errors: Error[] = [];
    scheduler.on('error', (error) => errors.push(error));
    await scheduler.start();
    await scheduler.addTrigger({ id: 'w', handler: 'work', schedule: { manual: true } });
    const job = await scheduler.runTrigger('w');
    outage.down = true;
    finish();
    await clock.advance(250);
    outage.down = false;
    await clock.advance(1000);
    const after = await scheduler.getJob(job.id);
    expect(after?.status).toBe('succeeded');
    expect(after?.result).toBe('done');
    expect(after?.attempts).toBe(1);
    expect(runs).toBe(1);
    expect(outage.calls).toBeGreaterThan(0);
    expect(errors.filter((e) => e.message.includes('recording the end'))).toEqual([]);
    await scheduler.stop();
  });
});
