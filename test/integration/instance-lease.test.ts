/**
 * Instance leases (issue 17): the leases of every job running on an instance hang on its one
 * registration, so lease upkeep costs one store call per renewal interval however many jobs run;
 * a registration that runs out aborts all its attempts before anyone recovers them; a dead
 * instance is fenced before its jobs are recovered, and a holder fenced while alive fails its
 * next renewal and aborts; a restart under the same instance id recovers its earlier run's jobs;
 * a cancel reaches a holder through its registration. Memory backend, manual clock.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { LockManager } from '../../src/ports.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import { T0 } from '../helpers/setup.js';
import { StoreTap } from '../helpers/store-tap.js';

interface Shared {
  clock: ManualClock;
  triggerStore: MemoryTriggerStore;
  jobStore: MemoryJobStore;
  lockManager: MemoryLockManager;
}

function shared(): Shared {
  return { clock: new ManualClock(T0), triggerStore: new MemoryTriggerStore(), jobStore: new MemoryJobStore(), lockManager: new MemoryLockManager() };
}

/** A handler that sleeps `ms` of clock time, ignoring its signal, and counts its runs per job. */
function sleeper(clock: ManualClock, ms: number, runs: Map<string, number>) {
  return (ctx: { job: { id: string } }): Promise<void> => {
    runs.set(ctx.job.id, (runs.get(ctx.job.id) ?? 0) + 1);
    return new Promise((resolve) => clock.setTimer(resolve, ms));
  };
}

/**
 * A lock manager whose instance renewals are held back while `hold.on` is set: issued only once
 * `release()` is called (or never). It never gets the maintenance lock.
 */
function holdingRenewals(locks: LockManager): { locks: LockManager; hold: { on: boolean }; release: () => void } {
  const hold = { on: false };
  const waiting: Array<() => void> = [];
  const proxy = new Proxy(locks, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (property === 'renewInstance' && hold.on) await new Promise<void>((resolve) => waiting.push(resolve));
        // Its maintenance passes never get the lock: the others' do.
        if (property === 'acquire' && args[0] === 'maintenance') return null;
        return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
      };
    },
  });
  return {
    locks: proxy,
    hold,
    release: () => {
      hold.on = false;
      for (const resume of waiting.splice(0)) resume();
    },
  };
}

describe('instance leases', () => {
  it('keeps any number of running jobs alive with one store call per renewal interval', async () => {
    const callsFor = async (jobs: number): Promise<{ renewInstance: number; renewLease: number; lost: number; succeeded: number }> => {
      const s = shared();
      const tap = new StoreTap(s.clock);
      const runs = new Map<string, number>();
      const scheduler = new Scheduler({
        clock: s.clock,
        triggerStore: s.triggerStore,
        jobStore: tap.wrap(s.jobStore, 'jobStore'),
        lockManager: tap.wrap(s.lockManager, 'lockManager'),
        leaseMs: 3000,
        pollIntervalMs: 1000,
        concurrency: 1000,
      });
      let lost = 0;
      scheduler.on('lease:lost', () => (lost += 1));
      scheduler.register('work', sleeper(s.clock, 30_000, runs));
      await scheduler.start();
      for (let i = 0; i < jobs; i++) await scheduler.addTrigger({ id: `t${i}`, handler: 'work', schedule: { at: new Date(T0 + 2000) } });
      await s.clock.advance(3000);
      const before = tap.count('lockManager.renewInstance');
      // 27 s of running: nine lease thirds.
      await s.clock.advance(27_000);
      const renewInstance = tap.count('lockManager.renewInstance') - before;
      await s.clock.advance(5000);
      const succeeded = (await s.jobStore.list({ status: 'succeeded', limit: 1000 })).items.length;
      await scheduler.stop();
      return { renewInstance, renewLease: tap.count('jobStore.renewLease'), lost, succeeded };
    };
    const few = await callsFor(3);
    const many = await callsFor(600);
    // A renewal every third of the lease (1 s): 27 in 27 s, whatever the number of jobs.
    expect(few.renewInstance).toBe(27);
    expect(many.renewInstance).toBe(27);
    expect(many.renewLease).toBe(0);
    expect(many.lost).toBe(0);
    expect(many.succeeded).toBe(600);
  });

  it('renews the permits of all capped jobs in one call per interval, and one by one only when some were lost', async () => {
    const s = shared();
    const tap = new StoreTap(s.clock);
    const runs = new Map<string, number>();
    // Permit renewals one by one, told apart from the other locks' (membership, maintenance).
    let permitRenewals = 0;
    const locks = tap.wrap(s.lockManager, 'lockManager');
    const renewOne = locks.renew.bind(locks);
    locks.renew = (lease, ttlMs, now) => {
      if (lease.key.startsWith('permit:')) permitRenewals += 1;
      return renewOne(lease, ttlMs, now);
    };
    const scheduler = new Scheduler({
      clock: s.clock,
      triggerStore: s.triggerStore,
      jobStore: tap.wrap(s.jobStore, 'jobStore'),
      lockManager: locks,
      leaseMs: 3000,
      pollIntervalMs: 1000,
      concurrency: 100,
    });
    scheduler.register('work', sleeper(s.clock, 30_000, runs));
    await scheduler.start();
    for (let i = 0; i < 40; i++) await scheduler.addTrigger({ id: `c${i}`, handler: 'work', schedule: { at: new Date(T0 + 2000) }, maxConcurrent: 1 });
    await s.clock.advance(3000);
    expect(runs.size).toBe(40);
    const renewMany = tap.count('lockManager.renewMany');
    const renew = permitRenewals;
    const renewInstance = tap.count('lockManager.renewInstance');
    await s.clock.advance(9000);
    // One renewal of the instance and one of all 40 permits per interval (a third of the lease).
    expect(tap.count('lockManager.renewInstance') - renewInstance).toBe(9);
    expect(tap.count('lockManager.renewMany') - renewMany).toBe(9);
    expect(permitRenewals - renew).toBe(0);
    // Every permit is still held: a second job of a capped trigger waits for it.
    expect(await s.lockManager.acquire('permit:c0:0', 'thief', 3000, new Date(s.clock.now()))).toBeNull();
    // A permit taken away (released behind its holder's back): the next renewal falls back to one
    // call per permit, which finds the lost one; the other 39 stay held.
    const lease = (await s.lockManager.acquire('permit:c1:0', 'x', 1, new Date(s.clock.now() + 10_000)))!;
    expect(lease).not.toBeNull();
    const before = permitRenewals;
    await s.clock.advance(1000);
    expect(permitRenewals - before).toBe(40);
    await s.clock.advance(1000);
    // The lost permit stays lost (its run keeps its old lease, which is refused), so every interval
    // falls back again until that job ends.
    expect(permitRenewals - before).toBe(80);
    expect(await s.lockManager.acquire('permit:c2:0', 'thief', 3000, new Date(s.clock.now()))).toBeNull();
    await scheduler.stop({ graceful: false });
  });

  it('a holder whose instance renewal never comes back aborts every attempt half the grace past the expiry, before anyone recovers them', async () => {
    const s = shared();
    const { locks, hold } = holdingRenewals(s.lockManager);
    const common = { clock: s.clock, triggerStore: s.triggerStore, jobStore: s.jobStore, leaseMs: 3000, leaseGraceMs: 1500, pollIntervalMs: 500, lookaheadMs: 1000 };
    const owner = new Scheduler({ ...common, lockManager: locks, instanceId: 'owner', concurrency: 5 });
    const runs = new Map<string, number>();
    owner.register('work', sleeper(s.clock, 60_000, runs));
    const lost: string[] = [];
    owner.on('lease:lost', (event) => lost.push(event.reason));
    await owner.start();
    for (const id of ['a', 'b', 'c']) await owner.addTrigger({ id, handler: 'work', schedule: { manual: true } });
    for (const id of ['a', 'b', 'c']) await owner.runTrigger(id);
    const other = new Scheduler({ ...common, lockManager: s.lockManager, instanceId: 'other', concurrency: 5 });
    const otherRuns = new Map<string, number>();
    other.register('work', sleeper(s.clock, 100, otherRuns));
    await other.start();
    // Renewed at T0 + 1000 to T0 + 4000; the next renewal (T0 + 2000) never comes back.
    await s.clock.advance(1500);
    hold.on = true;
    await s.clock.advance(4000 + 750 - 1500 - 20);
    expect(lost).toEqual([]);
    await s.clock.advance(40);
    expect(lost).toEqual(Array(3).fill('renewal-overdue'));
    // Handed back, not stalled; the owner goes (its store would fail it again), the other runs them.
    await owner.stop({ graceful: false });
    await s.clock.advance(5000);
    const jobs = (await s.jobStore.list({ limit: 10 })).items;
    expect(jobs).toHaveLength(3);
    for (const job of jobs) {
      expect(job.stalls).toBe(0);
      expect(job.history.some((h) => h.reason?.startsWith('aborted: its lease ran out before a renewal came back') === true)).toBe(true);
    }
    expect([...otherRuns.values()].reduce((a, b) => a + b, 0)).toBe(3);
    expect(jobs.filter((job) => job.status === 'succeeded')).toHaveLength(3);
    await other.stop({ graceful: false });
  });

  it('never recovers the long jobs of a live instance, however long past their first lease term', async () => {
    const s = shared();
    const common = { clock: s.clock, triggerStore: s.triggerStore, jobStore: s.jobStore, lockManager: s.lockManager, leaseMs: 2000, leaseGraceMs: 1000, pollIntervalMs: 500, lookaheadMs: 1000 };
    const runs = new Map<string, number>();
    const a = new Scheduler({ ...common, instanceId: 'a', concurrency: 50 });
    a.register('work', sleeper(s.clock, 30_000, runs));
    await a.start();
    for (let i = 0; i < 20; i++) await a.addTrigger({ id: `t${i}`, handler: 'work', schedule: { at: new Date(T0 + 1000) } });
    // Only then another instance, which does the maintenance passes too.
    const b = new Scheduler({ ...common, instanceId: 'b', concurrency: 50 });
    b.register('work', sleeper(s.clock, 30_000, runs));
    let stalled = 0;
    for (const s2 of [a, b]) s2.on('job:stalled', () => (stalled += 1));
    await b.start();
    await s.clock.advance(40_000);
    const jobs = (await s.jobStore.list({ limit: 100 })).items;
    expect(jobs).toHaveLength(20);
    expect(jobs.every((job) => job.status === 'succeeded' && job.stalls === 0)).toBe(true);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(stalled).toBe(0);
    await a.stop();
    await b.stop();
  });

  it('fences a dead holder before recovering its jobs: a holder alive after all fails its next renewal and aborts, and its writes are refused', async () => {
    const s = shared();
    const { locks, hold, release } = holdingRenewals(s.lockManager);
    const common = { clock: s.clock, triggerStore: s.triggerStore, jobStore: s.jobStore, leaseMs: 3000, pollIntervalMs: 500, lookaheadMs: 1000 };
    // The zombie gives up late (half of 20 s past its expiry); the others recover 1 s past it.
    const zombie = new Scheduler({ ...common, lockManager: locks, leaseGraceMs: 20_000, instanceId: 'zombie', concurrency: 5 });
    const zombieRuns = new Map<string, number>();
    zombie.register('work', sleeper(s.clock, 60_000, zombieRuns));
    const lost: string[] = [];
    zombie.on('lease:lost', (event) => lost.push(event.reason));
    await zombie.start();
    for (const id of ['a', 'b']) await zombie.addTrigger({ id, handler: 'work', schedule: { manual: true } });
    for (const id of ['a', 'b']) await zombie.runTrigger(id);
    await s.clock.advance(1500);
    hold.on = true;
    const rescuer = new Scheduler({ ...common, lockManager: s.lockManager, leaseGraceMs: 1000, instanceId: 'rescuer', concurrency: 5 });
    const rescuerRuns = new Map<string, number>();
    rescuer.register('work', sleeper(s.clock, 200, rescuerRuns));
    await rescuer.start();
    // Expired at T0 + 4000: fenced and recovered once the rescuer's grace is over.
    await s.clock.advance(4000);
    expect((await s.lockManager.liveInstances(new Date(s.clock.now()))).map((l) => l.instanceId)).toEqual(['rescuer']);
    let jobs = (await s.jobStore.list({ limit: 10 })).items;
    expect(jobs.every((job) => job.stalls === 1)).toBe(true);
    expect(lost).toEqual([]);
    // The zombie's renewal comes through at last: refused, as its registration is gone.
    release();
    await s.clock.advance(100);
    expect(lost).toEqual(['expired', 'expired']);
    await s.clock.advance(3000);
    jobs = (await s.jobStore.list({ limit: 10 })).items;
    expect(jobs.map((job) => job.status)).toEqual(['succeeded', 'succeeded']);
    expect(jobs.every((job) => job.history.at(-1)?.instanceId === 'rescuer')).toBe(true);
    expect([...rescuerRuns.values()]).toEqual([1, 1]);
    // The zombie registered anew and works on.
    expect((await s.lockManager.liveInstances(new Date(s.clock.now()))).map((l) => l.instanceId).sort()).toEqual(['rescuer', 'zombie']);
    await zombie.stop({ graceful: false });
    await rescuer.stop({ graceful: false });
  });

  it('a restart under the same instance id recovers the jobs its earlier run left running', async () => {
    const s = shared();
    const dead = { on: false };
    // The first run's calls stop reaching the store once it is dead (a SIGKILL).
    const dying = <T extends object>(store: T): T =>
      new Proxy(store, {
        get(target, property, receiver) {
          const value: unknown = Reflect.get(target, property, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => (dead.on ? new Promise(() => undefined) : Reflect.apply(value as (...a: unknown[]) => unknown, target, args));
        },
      });
    const common = { clock: s.clock, leaseMs: 3000, leaseGraceMs: 1000, pollIntervalMs: 500, lookaheadMs: 1000, instanceId: 'web-1' };
    const first = new Scheduler({ ...common, triggerStore: dying(s.triggerStore), jobStore: dying(s.jobStore), lockManager: dying(s.lockManager) });
    first.register('work', sleeper(s.clock, 600_000, new Map()));
    await first.start();
    await first.addTrigger({ id: 'a', handler: 'work', schedule: { manual: true } });
    const job = await first.runTrigger('a');
    await s.clock.advance(1000);
    dead.on = true;
    const runs = new Map<string, number>();
    const second = new Scheduler({ ...common, triggerStore: s.triggerStore, jobStore: s.jobStore, lockManager: s.lockManager });
    second.register('work', sleeper(s.clock, 100, runs));
    await second.start();
    await s.clock.advance(3000 + 1000 + 2000);
    const recovered = await s.jobStore.get(job.id);
    expect(recovered?.stalls).toBe(1);
    expect(recovered?.status).toBe('succeeded');
    expect(runs.get(job.id)).toBe(1);
    await second.stop();
  });

  it('a cancel from another instance reaches the holder at its next instance renewal', async () => {
    const s = shared();
    const common = { clock: s.clock, triggerStore: s.triggerStore, jobStore: s.jobStore, lockManager: s.lockManager, leaseMs: 3000, pollIntervalMs: 500, lookaheadMs: 1000 };
    const holder = new Scheduler({ ...common, instanceId: 'holder' });
    let aborted = false;
    holder.register('work', (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => ((aborted = true), resolve()))));
    await holder.start();
    const other = new Scheduler({ ...common, instanceId: 'other' });
    await other.start();
    await holder.addTrigger({ id: 'a', handler: 'work', schedule: { manual: true } });
    const job = await holder.runTrigger('a');
    await s.clock.advance(100);
    await other.cancelJob(job.id);
    expect(aborted).toBe(false);
    await s.clock.advance(1100);
    expect(aborted).toBe(true);
    await s.clock.advance(100);
    expect((await s.jobStore.get(job.id))?.status).toBe('cancelled');
    await holder.stop();
    await other.stop();
  });
});
