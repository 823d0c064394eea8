/**
 * Due slots fire in batches: one `claimSlots` and one `insertMany` per batch where the stores have
 * them, one call per slot where they do not. Manual clock, memory backend.
 */
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { JobStore, JobWrite, SlotClaim, TriggerStore } from '../../src/ports.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import type { Job, Trigger } from '../../src/types.js';
import { makeTrigger } from '../../src/testing/fixtures.js';
import { T0 } from '../helpers/setup.js';

/** The store as seen through a view that lacks the named (optional) methods. */
function without<T extends object>(target: T, ...names: string[]): T {
  return new Proxy(target, {
    get(store, property) {
      if (typeof property === 'string' && names.includes(property)) return undefined;
      const value: unknown = Reflect.get(store, property, store);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(store) : value;
    },
  });
}

/** A trigger store that counts single claims, and can refuse every batch of claims (an instance that dies before advancing). */
class SingleClaimCountingStore extends MemoryTriggerStore {
  singleClaims = 0;
  refuse = false;

  override async claimSlot(...args: Parameters<MemoryTriggerStore['claimSlot']>): Promise<Trigger | null> {
    this.singleClaims += 1;
    if (this.refuse) throw new Error('instance died');
    return super.claimSlot(...args);
  }

  override async claimSlots(claims: SlotClaim[]): Promise<boolean[]> {
    if (this.refuse) throw new Error('instance died');
    return super.claimSlots(claims);
  }
}

/** A job store that stores a batch, then loses the answer of the first `insertMany`. */
class LostAnswerJobStore extends MemoryJobStore {
  lost = 0;

  override async insertMany(jobs: Job[]): Promise<Array<Job | null>> {
    const answers = await super.insertMany(jobs);
    if (this.lost === 0) {
      this.lost += 1;
      throw new Error('connection reset before the reply');
    }
    return answers;
  }
}

/** A job store that stores a job, then loses the answer of the first single `insert`. */
class LostSingleAnswerJobStore extends MemoryJobStore {
  lost = 0;

  override async insert(job: Job): Promise<Job | null> {
    const answer = await super.insert(job);
    if (this.lost === 0) {
      this.lost += 1;
      throw new Error('connection reset before the reply');
    }
    return answer;
  }
}

/** A job store that counts batched end writes, and can refuse the first `writeMany` (nothing written). */
class CountingEndsJobStore extends MemoryJobStore {
  writeManyCalls = 0;
  endWrites = 0;
  failFirst = false;

  override async writeMany(writes: JobWrite[]): Promise<boolean[]> {
    this.writeManyCalls += 1;
    if (this.failFirst) {
      this.failFirst = false;
      throw new Error('store unreachable');
    }
    this.endWrites += writes.length;
    return super.writeMany(writes);
  }
}

/** A job store whose first `writeMany` writes the batch, then loses the answer. */
class LostEndsAnswerJobStore extends MemoryJobStore {
  lost = 0;

  override async writeMany(writes: JobWrite[]): Promise<boolean[]> {
    const answers = await super.writeMany(writes);
    if (this.lost === 0) {
      this.lost += 1;
      throw new Error('connection reset before the reply');
    }
    return answers;
  }
}

/** A job store whose `writeMany` calls wait until released, one by one; it notes each batch's size. */
class HeldEndsJobStore extends MemoryJobStore {
  batches: number[] = [];
  #waiting: Array<() => void> = [];
  #open = false;

  override async writeMany(writes: JobWrite[]): Promise<boolean[]> {
    this.batches.push(writes.length);
    if (!this.#open) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return super.writeMany(writes);
  }

  releaseOne(): void {
    this.#waiting.shift()?.();
  }

  /** Let every write through, now and from now on. */
  releaseAll(): void {
    this.#open = true;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

/** A job store whose end writes (update) for one job wait until released. */
class SlowEndJobStore extends MemoryJobStore {
  held: string | null = null;
  release: () => void = () => undefined;

  override async update(...args: Parameters<MemoryJobStore['update']>): Promise<Job | null> {
    const [id, , patch] = args;
    if (patch.status === 'succeeded' && id === this.held) await new Promise<void>((resolve) => (this.release = resolve));
    return super.update(...args);
  }
}

let schedulers: Scheduler[] = [];
afterEach(async () => {
  for (const scheduler of schedulers) await scheduler.stop({ graceful: false });
  schedulers = [];
});

async function fireHerd(
  triggerStore: TriggerStore,
  jobStore: JobStore,
  count: number,
  concurrency = 10,
): Promise<{ clock: ManualClock; runs: Map<string, number>; errors: Error[] }> {
  const clock = new ManualClock(T0);
  const scheduler = new Scheduler({ clock, triggerStore, jobStore, lockManager: new MemoryLockManager(), pollIntervalMs: 1000, lookaheadMs: 5000, concurrency });
  schedulers.push(scheduler);
  const runs = new Map<string, number>();
  const errors: Error[] = [];
  scheduler.on('error', (error) => errors.push(error));
  scheduler.register('h', (ctx) => void runs.set(ctx.job.key, (runs.get(ctx.job.key) ?? 0) + 1));
  await scheduler.start();
  for (let i = 0; i < count; i++) await scheduler.addTrigger({ id: `t${i}`, handler: 'h', schedule: { at: new Date(T0 + 2000) } });
  await clock.advance(10_000);
  return { clock, runs, errors };
}

describe('batched firing', () => {
  it('fires a herd once per slot through claimSlots and insertMany', async () => {
    const jobStore = new MemoryJobStore();
    const { runs, errors } = await fireHerd(new MemoryTriggerStore(), jobStore, 300);
    expect(runs.size).toBe(300);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(errors).toEqual([]);
    expect((await jobStore.stats({})).byStatus.succeeded).toBe(300);
  });

  it('records the ends of attempts that settle together in one writeMany', async () => {
    const jobStore = new CountingEndsJobStore();
    const { runs, errors } = await fireHerd(new MemoryTriggerStore(), jobStore, 300, 1000);
    expect(runs.size).toBe(300);
    expect(errors).toEqual([]);
    expect(jobStore.endWrites).toBe(300);
    // Slots fire 64 to a turn and the ends of a turn are written together: 5 calls, not 300.
    expect(jobStore.writeManyCalls).toBeLessThanOrEqual(6);
    expect((await jobStore.stats({})).byStatus.succeeded).toBe(300);
  });

  it('writes each end on its own when a writeMany fails, and every job still succeeds once', async () => {
    const jobStore = new CountingEndsJobStore();
    jobStore.failFirst = true;
    const { runs, errors } = await fireHerd(new MemoryTriggerStore(), jobStore, 100, 1000);
    expect(runs.size).toBe(100);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(errors).toEqual([]);
    expect((await jobStore.stats({})).byStatus.succeeded).toBe(100);
    // The failed batch went through single writes: fewer jobs were written by writeMany.
    expect(jobStore.endWrites).toBeLessThan(100);
  });

  it('reports the ends of a batch that was written but whose answer was lost as written, not as lost leases', async () => {
    const clock = new ManualClock(T0);
    const jobStore = new LostEndsAnswerJobStore();
    const scheduler = new Scheduler({ clock, triggerStore: new MemoryTriggerStore(), jobStore, lockManager: new MemoryLockManager(), concurrency: 50 });
    schedulers.push(scheduler);
    const succeeded: string[] = [];
    const lost: string[] = [];
    scheduler.on('job:succeeded', (job) => succeeded.push(job.triggerId));
    scheduler.on('lease:lost', (event) => lost.push(event.jobId));
    scheduler.register('h', () => undefined);
    for (let i = 0; i < 20; i++) await scheduler.addTrigger({ id: `t${i}`, handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await scheduler.start();
    await clock.advance(5000);
    expect(jobStore.lost).toBe(1);
    expect(lost).toEqual([]);
    expect(succeeded.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `t${i}`).sort());
    expect((await jobStore.stats({})).byStatus.succeeded).toBe(20);
  });

  it('ends that settle while a batch is being written wait for it and go together in the next one', async () => {
    const clock = new ManualClock(T0);
    const jobStore = new HeldEndsJobStore();
    onTestFinished(() => jobStore.releaseAll());
    const scheduler = new Scheduler({ clock, triggerStore: new MemoryTriggerStore(), jobStore, lockManager: new MemoryLockManager(), concurrency: 50 });
    schedulers.push(scheduler);
    const succeeded: string[] = [];
    scheduler.on('job:succeeded', (job) => succeeded.push(job.triggerId));
    // Each job ends at its own instant: t0 first, the others 10 ms apart after it.
    scheduler.register('h', (ctx) => new Promise<void>((resolve) => void clock.setTimer(resolve, Number(ctx.job.triggerId.slice(1)) * 10)));
    for (let i = 0; i < 6; i++) await scheduler.addTrigger({ id: `t${i}`, handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await scheduler.start();
    await clock.advanceTo(T0 + 1100);
    // t0's end went alone; the five that ended while it was on its way wait for its answer.
    expect(jobStore.batches).toEqual([1]);
    expect(succeeded).toEqual([]);
    jobStore.releaseOne();
    await clock.advance(1);
    expect(succeeded).toEqual(['t0']);
    expect(jobStore.batches).toEqual([1, 5]);
    jobStore.releaseOne();
    await clock.advance(1);
    expect(succeeded.sort()).toEqual(['t0', 't1', 't2', 't3', 't4', 't5']);
    expect(jobStore.batches).toEqual([1, 5]);
  });

  it('an end batch whose answer does not come holds the next ends a third of a lease at most', async () => {
    const clock = new ManualClock(T0);
    const jobStore = new HeldEndsJobStore();
    onTestFinished(() => jobStore.releaseAll());
    const scheduler = new Scheduler({ clock, triggerStore: new MemoryTriggerStore(), jobStore, lockManager: new MemoryLockManager(), concurrency: 50, leaseMs: 3000 });
    schedulers.push(scheduler);
    scheduler.register('h', (ctx) => new Promise<void>((resolve) => void clock.setTimer(resolve, Number(ctx.job.triggerId.slice(1)) * 10)));
    for (let i = 0; i < 3; i++) await scheduler.addTrigger({ id: `t${i}`, handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await scheduler.start();
    await clock.advanceTo(T0 + 1100);
    expect(jobStore.batches).toEqual([1]);
    // The first batch hangs: after a third of the lease (1000 ms) the waiting ends go anyway.
    await clock.advanceTo(T0 + 1900);
    expect(jobStore.batches).toEqual([1]);
    await clock.advanceTo(T0 + 2100);
    expect(jobStore.batches).toEqual([1, 2]);
    jobStore.releaseAll();
  });

  it('without writeMany, each end is reported as soon as its own write is answered', async () => {
    const clock = new ManualClock(T0);
    const jobStore = new SlowEndJobStore();
    // Whatever happens, the held write is let go, so the scheduler can stop.
    onTestFinished(() => jobStore.release());
    const scheduler = new Scheduler({ clock, triggerStore: new MemoryTriggerStore(), jobStore: without(jobStore, 'writeMany', 'write'), lockManager: new MemoryLockManager() });
    schedulers.push(scheduler);
    const succeeded: string[] = [];
    scheduler.on('job:succeeded', (job) => succeeded.push(job.triggerId));
    scheduler.register('h', () => undefined);
    await scheduler.addTrigger({ id: 'slow', handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await scheduler.addTrigger({ id: 'quick', handler: 'h', schedule: { at: new Date(T0 + 1000) } });
    await scheduler.start();
    // Both slots are claimed and their jobs written ahead (leadMs): hold the slow one's end write.
    await clock.advanceTo(T0 + 900);
    jobStore.held = (await jobStore.getByKey(`slot:slow:${new Date(T0 + 1000).toISOString()}`))!.id;
    await clock.advanceTo(T0 + 1100);
    expect(succeeded).toEqual(['quick']);
    expect((await scheduler.health()).running).toBe(1);
    jobStore.release();
    await clock.advance(100);
    expect(succeeded).toEqual(['quick', 'slow']);
    expect((await scheduler.health()).running).toBe(0);
  });

  it('falls back to one claim, one insert and one end write per slot for stores without the batch methods', async () => {
    const jobStore = new MemoryJobStore();
    const { runs, errors } = await fireHerd(without(new MemoryTriggerStore(), 'claimSlots'), without(jobStore, 'insertMany', 'writeMany'), 300);
    expect(runs.size).toBe(300);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(errors).toEqual([]);
    expect((await jobStore.stats({})).byStatus.succeeded).toBe(300);
  });

  it('runs the jobs of a batch whose insert was stored but whose answer was lost, once each', async () => {
    const jobStore = new LostAnswerJobStore();
    const { runs, errors } = await fireHerd(new MemoryTriggerStore(), jobStore, 100);
    expect(jobStore.lost).toBe(1);
    expect(runs.size).toBe(100);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(errors).toEqual([]);
    const page = await jobStore.list({ limit: 1000 });
    expect(page.items).toHaveLength(100);
    expect(page.items.every((job) => job.status === 'succeeded' && job.attempts === 1)).toBe(true);
  });

  it('a manual run whose insert was stored but answered with an error runs once, not later by recovery', async () => {
    const clock = new ManualClock(T0);
    const jobStore = new LostSingleAnswerJobStore();
    const scheduler = new Scheduler({ clock, jobStore, pollIntervalMs: 1000, lookaheadMs: 5000 });
    schedulers.push(scheduler);
    let runs = 0;
    scheduler.register('h', () => void (runs += 1));
    await scheduler.start();
    await scheduler.addTrigger({ id: 'm', handler: 'h', schedule: { manual: true } });
    const running = scheduler.runTrigger('m');
    await clock.advance(1000);
    const job = await running;
    await clock.advance(1000);
    expect(jobStore.lost).toBe(1);
    expect(runs).toBe(1);
    expect(await scheduler.getJob(job.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect((await scheduler.health()).running).toBe(0);
  });

  it('two schedulers on one store, both with the herd in their heaps, fire every slot once', async () => {
    const clock = new ManualClock(T0);
    const triggerStore = new MemoryTriggerStore();
    const jobStore = new MemoryJobStore();
    const lockManager = new MemoryLockManager();
    const runs = new Map<string, string[]>();
    for (const instanceId of ['a', 'b']) {
      const scheduler = new Scheduler({ clock, triggerStore, jobStore, lockManager, instanceId, pollIntervalMs: 1000, lookaheadMs: 5000 });
      scheduler.register('h', (ctx) => void runs.set(ctx.job.key, [...(runs.get(ctx.job.key) ?? []), instanceId]));
      schedulers.push(scheduler);
      await scheduler.start();
    }
    for (let i = 0; i < 50; i++) await schedulers[i % 2]!.addTrigger({ id: `t${i}`, handler: 'h', schedule: { every: 1000 } });
    await clock.advance(5_500);
    const perSlot = [...runs.values()];
    // Slots at T0, T0 + 1 s, ..., T0 + 5 s: six per trigger, each run by exactly one instance.
    expect(perSlot).toHaveLength(50 * 6);
    expect(perSlot.every((by) => by.length === 1)).toBe(true);
    expect(new Set(perSlot.flat())).toEqual(new Set(['a', 'b']));
  });

  it('advances the triggers of slots another instance took in one claimSlots call, not one claim per slot', async () => {
    const clock = new ManualClock(T0);
    const triggerStore = new SingleClaimCountingStore();
    const jobStore = new MemoryJobStore();
    const lockManager = new MemoryLockManager();
    // Racing instances, the second stalled just past the slot: it finds every key taken by the first.
    const fast = new Scheduler({ clock, triggerStore, jobStore, lockManager, instanceId: 'fast', ownership: 'race', pollIntervalMs: 1000, lookaheadMs: 5000 });
    fast.register('h', () => undefined);
    schedulers.push(fast);
    await fast.start();
    for (let i = 0; i < 40; i++) await fast.addTrigger({ id: `t${i}`, handler: 'h', schedule: { at: new Date(T0 + 3000) } });
    // The first inserts every job but dies before it advances any trigger.
    triggerStore.refuse = true;
    await clock.advanceTo(T0 + 3100);
    await fast.stop({ graceful: false });
    triggerStore.refuse = false;
    triggerStore.singleClaims = 0;
    const late = new Scheduler({ clock, triggerStore, jobStore, lockManager, instanceId: 'late', ownership: 'race', pollIntervalMs: 1000, lookaheadMs: 5000 });
    late.register('h', () => undefined);
    schedulers.push(late);
    await late.start();
    await clock.advance(2000);
    // Every trigger advanced past its taken slot (completed: one-shots), without a claim per slot.
    for (let i = 0; i < 40; i++) expect((await triggerStore.get(`t${i}`))?.status).toBe('completed');
    expect(triggerStore.singleClaims).toBe(0);
  });
});

describe('a slot that cannot be planned', () => {
  it('is reported, and the other slots of its batch still fire', async () => {
    const clock = new ManualClock(T0);
    const triggerStore = new MemoryTriggerStore();
    const scheduler = new Scheduler({ clock, triggerStore, pollIntervalMs: 1000, lookaheadMs: 5000 });
    schedulers.push(scheduler);
    const errors: Error[] = [];
    const ran: string[] = [];
    scheduler.on('error', (error) => errors.push(error));
    scheduler.register('h', (ctx) => void ran.push(ctx.job.triggerId));
    // A record no addTrigger would write (a corrupt document): its next slot cannot be computed.
    await triggerStore.insert(makeTrigger({ id: 'corrupt', schedule: { kind: 'cron', cron: 'not a cron', timezone: 'UTC' }, nextRunAt: new Date(T0 + 1000) }));
    await triggerStore.insert(makeTrigger({ id: 'fine', schedule: { kind: 'at', at: new Date(T0 + 1000) }, nextRunAt: new Date(T0 + 1000) }));
    await scheduler.start();
    await clock.advance(2000);
    expect(ran).toEqual(['fine']);
    expect(errors.some((error) => error.message.includes('corrupt'))).toBe(true);
    expect(scheduler.state).toBe('running');
  });
});

describe('MemoryTriggerStore.claimSlots', () => {
  it('answers each claim on its own, in order', async () => {
    const store = new MemoryTriggerStore();
    await store.insert(makeTrigger({ id: 'a' }));
    await store.insert(makeTrigger({ id: 'b' }));
    await store.insert(makeTrigger({ id: 'c', status: 'paused' }));
    const slot = new Date(T0);
    const update = { nextRunAt: new Date(T0 + 1000), lastRunAt: slot, status: 'active' as const, updatedAt: slot };
    const current = (await store.get('a'))!;
    const answers = await store.claimSlots([
      { id: 'a', slot: current.nextRunAt!, expectedVersion: current.version, update },
      { id: 'b', slot: current.nextRunAt!, expectedVersion: current.version + 1, update },
      { id: 'c', slot: current.nextRunAt!, expectedVersion: current.version, update },
      { id: 'a', slot: current.nextRunAt!, expectedVersion: current.version, update },
    ]);
    expect(answers).toEqual([true, false, false, false]);
    const written = await store.get('a');
    expect(written?.version).toBe(current.version + 1);
    expect(written?.nextRunAt).toEqual(new Date(T0 + 1000));
    // Stored as copies: the caller's update objects are not the store's.
    update.nextRunAt.setTime(0);
    expect((await store.get('a'))?.nextRunAt).toEqual(new Date(T0 + 1000));
    expect((await store.get('b'))?.version).toBe(current.version);
  });
});
