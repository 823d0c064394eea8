/**
 * Several instances on one store share the triggers (`ownership: 'rendezvous'`): one claim per slot
 * instead of one per instance, every slot still once, and an instance that dies or is full has
 * its slots taken over. Memory backend, manual clocks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager } from '../../src/stores/memory/index.js';
import { CountingTriggerStore } from '../helpers/counting-store.js';
import { T0 } from '../helpers/setup.js';

interface Fire {
  key: string;
  slot: number;
  instance: string;
  lateMs: number;
}

interface Cluster {
  clock: ManualClock;
  triggerStore: CountingTriggerStore;
  schedulers: Scheduler[];
  fires: Fire[];
}

let running: Scheduler[] = [];
afterEach(async () => {
  for (const scheduler of running) await scheduler.stop({ graceful: false });
  running = [];
});

async function cluster(
  names: string[],
  options: {
    ownership?: 'rendezvous' | 'race';
    concurrency?: (name: string) => number;
    clockOf?: (name: string, shared: ManualClock) => ManualClock;
    /** Called before the instances start, with a scheduler on the same stores that never starts. */
    seed?: (seeder: Scheduler) => Promise<void>;
    /** Advance the shared clock this much after each start (the instances join one by one). */
    startGapMs?: number;
  } = {},
): Promise<Cluster> {
  const clock = new ManualClock(T0);
  const triggerStore = new CountingTriggerStore();
  const jobStore = new MemoryJobStore();
  const lockManager = new MemoryLockManager();
  if (options.seed) {
    const seeder = new Scheduler({ clock, triggerStore, jobStore, lockManager });
    seeder.register('h', () => undefined);
    await options.seed(seeder);
  }
  const fires: Fire[] = [];
  const schedulers: Scheduler[] = [];
  for (const name of names) {
    const own = options.clockOf?.(name, clock) ?? clock;
    const scheduler = new Scheduler({
      clock: own,
      triggerStore,
      jobStore,
      lockManager,
      instanceId: name,
      pollIntervalMs: 1000,
      lookaheadMs: 5000,
      concurrency: options.concurrency?.(name) ?? 100,
      ...(options.ownership ? { ownership: options.ownership } : {}),
    });
    scheduler.register('h', (ctx) => void fires.push({ key: ctx.job.key, slot: ctx.job.scheduledFor.getTime(), instance: name, lateMs: own.now() - ctx.job.scheduledFor.getTime() }));
    scheduler.register('hold', (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null))));
    schedulers.push(scheduler);
    running.push(scheduler);
    await scheduler.start();
    if (options.startGapMs) await clock.advance(options.startGapMs);
  }
  return { clock, triggerStore, schedulers, fires };
}

/** Fires of slots in [from, to), by slot key. */
function slotsIn(fires: Fire[], from: number, to: number): Map<string, Fire[]> {
  const bySlot = new Map<string, Fire[]>();
  for (const fire of fires) {
    if (fire.slot < from || fire.slot >= to) continue;
    bySlot.set(fire.key, [...(bySlot.get(fire.key) ?? []), fire]);
  }
  return bySlot;
}

async function addEvery(scheduler: Scheduler, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await scheduler.addTrigger({ id: `t${i}`, handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
}

describe('slot ownership', () => {
  it('three instances claim each slot about once (racing: more), and fire each once', async () => {
    const claimsPerSlot: Record<string, number> = {};
    for (const ownership of ['rendezvous', 'race'] as const) {
      const { clock, triggerStore, schedulers, fires } = await cluster(['a', 'b', 'c'], { ownership });
      await addEvery(schedulers[0]!, 60);
      // Warm up past a full poll of every instance, then count over 5 s.
      await clock.advance(7000);
      const claimsBefore = triggerStore.claims;
      const from = clock.now();
      await clock.advance(5000);
      const slots = slotsIn(fires, from, from + 5000);
      expect(slots.size).toBe(60 * 5);
      expect([...slots.values()].every((f) => f.length === 1)).toBe(true);
      claimsPerSlot[ownership] = (triggerStore.claims - claimsBefore) / slots.size;
      expect((await schedulers[0]!.health()).members).toBe(ownership === 'rendezvous' ? 3 : 1);
      if (ownership === 'rendezvous') {
        expect(new Set([...slots.values()].map((f) => f[0]!.instance))).toEqual(new Set(['a', 'b', 'c']));
        expect([...slots.values()].every((f) => f[0]!.lateMs === 0)).toBe(true);
      }
      for (const scheduler of schedulers) await scheduler.stop();
    }
    expect(claimsPerSlot['rendezvous']).toBeLessThanOrEqual(1.05);
    // Racing instances drop a trigger after a lost claim until their next full poll, so the
    // waste is less than one claim per instance; but it is there.
    expect(claimsPerSlot['race']).toBeGreaterThan(claimsPerSlot['rendezvous']! + 0.2);
  });

  it('instances that join one by one drop the slots they queued while alone: one claim per slot', async () => {
    // a starts alone and queues all 60 one-shots; b and c join 1 s apart, all before the slot.
    const slot = T0 + 6000;
    const { clock, triggerStore, fires } = await cluster(['a', 'b', 'c'], {
      startGapMs: 1000,
      seed: async (seeder) => {
        for (let i = 0; i < 60; i++) await seeder.addTrigger({ id: `once${i}`, handler: 'h', schedule: { at: new Date(slot) } });
      },
    });
    await clock.advance(6000);
    const slots = slotsIn(fires, slot, slot + 1);
    expect(slots.size).toBe(60);
    expect([...slots.values()].every((f) => f.length === 1 && f[0]!.lateMs === 0)).toBe(true);
    expect(new Set([...slots.values()].map((f) => f[0]!.instance))).toEqual(new Set(['a', 'b', 'c']));
    expect(triggerStore.claims).toBe(60);
  });

  it('a trigger another process adds inside the window already read fires at its time, not at the next full read', async () => {
    const { clock, triggerStore, fires } = await cluster(['a']);
    // A process that only adds work (never started), on the same stores.
    const adder = new Scheduler({ clock, triggerStore, jobStore: new MemoryJobStore(), lockManager: new MemoryLockManager() });
    adder.register('h', () => undefined);
    // a's polls have read the window up to T0 + 6.5 s; the next full read is ~4 s away.
    await clock.advance(1500);
    const slot = T0 + 3000;
    await adder.addTrigger({ id: 'late-added', handler: 'h', schedule: { at: new Date(slot) } });
    await clock.advance(2000);
    const fired = fires.filter((f) => f.key.startsWith('slot:late-added:'));
    expect(fired.map((f) => f.lateMs)).toEqual([0]);
  });

  it('an instance that dies has its triggers taken over: no slot is missed or doubled', async () => {
    // c runs on a clock that never moves again: it polls and fires nothing after its start.
    const frozen = new ManualClock(T0);
    const { clock, schedulers, fires } = await cluster(['a', 'b', 'c'], { clockOf: (name, shared) => (name === 'c' ? frozen : shared) });
    await addEvery(schedulers[0]!, 30);
    await clock.advance(12_000);
    const slots = slotsIn(fires, T0 + 1000, T0 + 11_000);
    expect(slots.size).toBe(30 * 10);
    expect([...slots.values()].every((f) => f.length === 1 && f[0]!.instance !== 'c')).toBe(true);
    // Once c's membership ran out (3 poll intervals), its triggers have live owners: on time again.
    const late = [...slotsIn(fires, T0 + 5000, T0 + 11_000).values()].filter((f) => f[0]!.lateMs > 0);
    expect(late).toEqual([]);
    // Before that, c's slots were taken over at most takeoverMs (2 s) plus a poll late.
    expect(Math.max(...[...slots.values()].map((f) => f[0]!.lateMs))).toBeLessThanOrEqual(3000);
  });

  it('an instance that stops hands its triggers over at the others’ next poll, with no slot late', async () => {
    const { clock, schedulers, fires } = await cluster(['a', 'b', 'c']);
    await addEvery(schedulers[0]!, 30);
    await clock.advance(6500);
    const c = schedulers[2]!;
    expect(fires.some((f) => f.instance === 'c')).toBe(true);
    await c.stop();
    const stoppedAt = clock.now();
    await clock.advance(6000);
    const after = slotsIn(fires, stoppedAt + 1000, stoppedAt + 5000);
    expect(after.size).toBe(30 * 4);
    expect([...after.values()].every((f) => f.length === 1 && f[0]!.instance !== 'c' && f[0]!.lateMs === 0)).toBe(true);
    expect((await schedulers[0]!.health()).members).toBe(2);
  });

  it('services with different handlers on one store each fire their own triggers on time', async () => {
    const clock = new ManualClock(T0);
    const shared = { triggerStore: new CountingTriggerStore(), jobStore: new MemoryJobStore(), lockManager: new MemoryLockManager() };
    const fires: Fire[] = [];
    for (const [name, handler] of [['mailer', 'mail'], ['reporter', 'report']] as const) {
      const scheduler = new Scheduler({ clock, ...shared, instanceId: name, pollIntervalMs: 1000, lookaheadMs: 5000 });
      scheduler.register(handler, (ctx) => void fires.push({ key: ctx.job.key, slot: ctx.job.scheduledFor.getTime(), instance: name, lateMs: clock.now() - ctx.job.scheduledFor.getTime() }));
      running.push(scheduler);
      await scheduler.start();
    }
    // Added from a third process that runs no handlers: both services learn of them from polls.
    const admin = new Scheduler({ clock, ...shared, instanceId: 'admin' });
    admin.register('mail', () => undefined);
    admin.register('report', () => undefined);
    for (let i = 0; i < 20; i++) await admin.addTrigger({ id: `m${i}`, handler: 'mail', schedule: { every: 1000, startAt: new Date(T0 + 6000) } });
    for (let i = 0; i < 20; i++) await admin.addTrigger({ id: `r${i}`, handler: 'report', schedule: { every: 1000, startAt: new Date(T0 + 6000) } });
    await clock.advance(11_500);
    const slots = slotsIn(fires, T0 + 6000, T0 + 11_000);
    expect(slots.size).toBe(40 * 5);
    expect([...slots.values()].every((f) => f.length === 1 && f[0]!.lateMs === 0)).toBe(true);
    expect([...slots.values()].every((f) => f[0]!.instance === (f[0]!.key.startsWith('slot:m') ? 'mailer' : 'reporter'))).toBe(true);
  });

  it('instances that are all behind take over none of each other’s slots (no query for them either)', async () => {
    const { clock, triggerStore, schedulers, fires } = await cluster(['a', 'b'], { concurrency: () => 1 });
    const [a, b] = schedulers;
    for (const [name, scheduler] of [['a', a!], ['b', b!]] as const) {
      await scheduler.addTrigger({ id: `blocker-${name}`, handler: 'hold', schedule: { manual: true } });
      expect((await scheduler.runTrigger(`blocker-${name}`)).status).toBe('running');
    }
    await addEvery(a!, 20);
    await clock.advance(4000);
    // Both are full, so each one's own slots wait: from now on each is further behind than the takeover delay.
    triggerStore.clock = clock;
    await clock.advance(8000);
    // A takeover query asks for slots due before now minus the delay; a regular poll asks ahead of now.
    expect(triggerStore.dueAhead.length).toBeGreaterThan(8);
    expect(triggerStore.dueAhead.filter((ahead) => ahead < 0)).toEqual([]);
    expect(fires).toEqual([]);
    expect(triggerStore.claims).toBe(0);
  });

  it('an instance that is full has its slots taken over', async () => {
    const { clock, triggerStore, schedulers, fires } = await cluster(['a', 'b'], { concurrency: (name) => (name === 'a' ? 1 : 100) });
    triggerStore.clock = clock;
    const [a] = schedulers;
    await a!.addTrigger({ id: 'blocker', handler: 'hold', schedule: { manual: true } });
    expect((await a!.runTrigger('blocker')).status).toBe('running');
    await addEvery(a!, 20);
    await clock.advance(12_000);
    const slots = slotsIn(fires, T0 + 1000, T0 + 10_000);
    expect(slots.size).toBe(20 * 9);
    expect([...slots.values()].every((f) => f.length === 1 && f[0]!.instance === 'b')).toBe(true);
    expect(Math.max(...[...slots.values()].map((f) => f[0]!.lateMs))).toBeLessThanOrEqual(3000);
    // b, not behind itself, asked for the overdue slots.
    expect(triggerStore.dueAhead.filter((ahead) => ahead < 0).length).toBeGreaterThan(0);
  });
});
