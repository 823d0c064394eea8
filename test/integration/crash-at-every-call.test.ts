/**
 * Issue 10, point 1, exhaustively: an instance dies at *every* boundary between two of its store
 * calls, and no slot is lost or fired twice. In process, on the memory backend and a manual clock:
 * the victim's stores are wrapped so that from its n-th store call on nothing it asks reaches the
 * store or comes back (`before`: the n-th call is never issued; `after`: it is applied, but its
 * answer never arrives), which is what a SIGKILL at that boundary leaves behind. A second
 * instance on the same stores carries on. For every n up to the victim's first ~6 s of calls
 * (start, polls, slot claims, job inserts, renewals, completions), both ways, the audit checks
 * every slot of every trigger in the window: exactly one job, and it succeeded (a job the victim
 * held is recovered as a stall and run by the survivor).
 *
 * The same for failures an instance lives through: one store call, the n-th, fails (`fail-before`:
 * it throws without reaching the store; `fail-after`: the store did the work, but the answer is an
 * error), for every n, on an instance alone. It must recover by itself: every slot exactly once
 * and succeeded, no place of its room kept (`health().running` back to 0 once its triggers are
 * paused), and a later job still runs.
 *
 * The real-process version (SIGKILL at random instants and at store-call boundaries, FerretDB) is
 * `test/reliability/kill-random.test.ts` and `kill-anywhere.soak.ts`.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { JobStore, LockManager, TriggerStore } from '../../src/ports.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import { T0 } from '../helpers/setup.js';

const TRIGGERS = ['a', 'b', 'c', 'd'];
/** In the failure tests: a trigger whose jobs fail their first attempt and succeed on a retry. */
const FLAKY = 'flaky';
const EVERY_MS = 1000;
const FIRST_SLOT = T0 + 1000;
/** Slots checked: those due before this (the survivor has time to recover and re-run after). */
const CHECK_UNTIL = T0 + 6000;
/** Kill points per mode: the victim's first 300 store calls, about its first six seconds. */
const KILL_POINTS = 300;
const SETTINGS = { pollIntervalMs: 200, lookaheadMs: 1000, leaseMs: 1500, leaseGraceMs: 1000, concurrency: 10 } as const;

interface Counter {
  calls: number;
  n: number;
  when: 'before' | 'after';
  /** The store method of the n-th call. */
  method: string | null;
}

/** A store whose calls stop at the victim's n-th call: never issued (`before`) or never answered (`after`). */
function dying<T extends object>(store: T, name: string, counter: Counter): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        counter.calls += 1;
        if (counter.calls === counter.n) counter.method = `${name}.${String(property)}`;
        const dead = counter.calls > counter.n || (counter.calls === counter.n && counter.when === 'before');
        if (dead) return new Promise(() => undefined);
        const result: unknown = Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
        if (counter.calls === counter.n) {
          // Applied, answer lost: the process died right after the store did the work.
          void Promise.resolve(result).catch(() => undefined);
          return new Promise(() => undefined);
        }
        return result;
      };
    },
  });
}

interface Outcome {
  /** Jobs per slot key (trigger and instant) in the checked window. */
  perSlot: Map<string, number>;
  /** Jobs in the window that did not succeed. */
  notSucceeded: string[];
  /** Store calls the victim made before it died (n − 1, or fewer if it never got that far). */
  victimCalls: number;
  /** The store method it died at. */
  method: string | null;
}

async function crashAt(n: number, when: 'before' | 'after'): Promise<Outcome> {
  const clock = new ManualClock(T0);
  const triggerStore = new MemoryTriggerStore();
  const jobStore = new MemoryJobStore();
  const lockManager = new MemoryLockManager();
  const counter: Counter = { calls: 0, n, when, method: null };
  const common = { clock, ...SETTINGS };
  const survivor = new Scheduler({ ...common, triggerStore, jobStore, lockManager, instanceId: 'survivor' });
  const victim = new Scheduler({
    ...common,
    triggerStore: dying<TriggerStore>(triggerStore, 'triggerStore', counter),
    jobStore: dying<JobStore>(jobStore, 'jobStore', counter),
    lockManager: dying<LockManager>(lockManager, 'lockManager', counter),
    instanceId: 'victim',
  });
  const handler = (): Promise<void> => new Promise((resolve) => clock.setTimer(resolve, 300));
  for (const s of [survivor, victim]) {
    s.register('work', handler);
    s.on('error', () => undefined);
  }
  for (const id of TRIGGERS) await survivor.addTrigger({ id, handler: 'work', schedule: { every: EVERY_MS, startAt: new Date(FIRST_SLOT) }, retry: { attempts: 1 } });
  // The victim first: its start may itself be cut short (then it never answers).
  void victim.start().catch(() => undefined);
  await survivor.start();
  await clock.advance(CHECK_UNTIL - T0 + 6000);
  const jobs = (await jobStore.list({ limit: 1000 })).items;
  const perSlot = new Map<string, number>();
  const notSucceeded: string[] = [];
  for (const job of jobs) {
    const at = job.scheduledFor.getTime();
    if (at >= CHECK_UNTIL) continue;
    const key = `${job.triggerId}@${at - T0}`;
    perSlot.set(key, (perSlot.get(key) ?? 0) + 1);
    if (job.status !== 'succeeded') notSucceeded.push(`${key} ${job.status} ${job.error?.code ?? ''}`);
  }
  await survivor.stop({ graceful: false });
  return { perSlot, notSucceeded, victimCalls: Math.min(counter.calls, n), method: counter.method };
}

/** A store whose n-th call fails: it throws before reaching the store (`fail-before`) or after the store did the work (`fail-after`). */
function failing<T extends object>(store: T, name: string, counter: { calls: number; n: number; when: 'fail-before' | 'fail-after'; method: string | null }): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        counter.calls += 1;
        if (counter.calls !== counter.n) return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
        counter.method = `${name}.${String(property)}`;
        const failure = new Error(`injected failure of ${counter.method}`);
        if (counter.when === 'fail-before') return Promise.reject(failure);
        return Promise.resolve(Reflect.apply(value as (...a: unknown[]) => unknown, target, args)).then(
          () => Promise.reject(failure),
          () => Promise.reject(failure),
        );
      };
    },
  });
}

interface FailureOutcome {
  perSlot: Map<string, number>;
  notSucceeded: string[];
  /** Places still taken once the triggers are paused and every job had time to end. */
  runningAfter: number;
  /** Whether a job run after everything else still succeeded. */
  laterRan: boolean;
  reachedN: boolean;
  method: string | null;
}

async function failAt(n: number, when: 'fail-before' | 'fail-after'): Promise<FailureOutcome> {
  const clock = new ManualClock(T0);
  const triggerStore = new MemoryTriggerStore();
  const jobStore = new MemoryJobStore();
  const lockManager = new MemoryLockManager();
  const counter = { calls: 0, n, when, method: null as string | null };
  const scheduler = new Scheduler({
    clock,
    ...SETTINGS,
    triggerStore: failing<TriggerStore>(triggerStore, 'triggerStore', counter),
    jobStore: failing<JobStore>(jobStore, 'jobStore', counter),
    lockManager: failing<LockManager>(lockManager, 'lockManager', counter),
    instanceId: 'alone',
    keepAlive: false,
  });
  scheduler.register('work', (): Promise<void> => new Promise((resolve) => clock.setTimer(resolve, 300)));
  // Its first attempt fails: its retry is a pending job, claimed and started by the dispatcher.
  scheduler.register('flaky', (ctx): Promise<void> => (ctx.attempt === 1 ? Promise.reject(new Error('first attempt')) : new Promise((resolve) => clock.setTimer(resolve, 300))));
  scheduler.on('error', () => undefined);
  // Added through a scheduler of their own on the bare stores: no call of these counts.
  const adder = new Scheduler({ clock, triggerStore, jobStore, lockManager, keepAlive: false });
  adder.register('work', () => undefined);
  adder.register('flaky', () => undefined);
  for (const id of TRIGGERS) await adder.addTrigger({ id, handler: 'work', schedule: { every: EVERY_MS, startAt: new Date(FIRST_SLOT) }, retry: { attempts: 1 } });
  await adder.addTrigger({ id: FLAKY, handler: 'flaky', schedule: { every: EVERY_MS, startAt: new Date(FIRST_SLOT) }, retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 100 } } });
  // A failed start is started again, as a host would.
  await scheduler.start().catch(() => scheduler.start());
  await clock.advance(CHECK_UNTIL - T0 + 6000);
  for (const id of [...TRIGGERS, FLAKY]) await scheduler.pauseTrigger(id).catch(() => scheduler.pauseTrigger(id));
  // Long enough for a job left running under a lost answer to be recovered as a stall, and run.
  await clock.advance(8000);
  const runningAfter = (await scheduler.health()).running;
  await scheduler.addTrigger({ id: 'later', handler: 'work', schedule: { manual: true } });
  const later = await scheduler.runTrigger('later');
  await clock.advance(1000);
  const laterRan = (await jobStore.get(later.id))?.status === 'succeeded';
  const jobs = (await jobStore.list({ limit: 1000 })).items;
  const perSlot = new Map<string, number>();
  const notSucceeded: string[] = [];
  for (const job of jobs) {
    if (job.triggerId === 'later') continue;
    const at = job.scheduledFor.getTime();
    if (at >= CHECK_UNTIL) continue;
    const key = `${job.triggerId}@${at - T0}`;
    perSlot.set(key, (perSlot.get(key) ?? 0) + 1);
    if (job.status !== 'succeeded') notSucceeded.push(`${key} ${job.status} ${job.error?.code ?? ''}`);
  }
  await scheduler.stop({ graceful: false });
  return { perSlot, notSucceeded, runningAfter, laterRan, reachedN: counter.calls >= n, method: counter.method };
}

describe('an instance lives through a failure of any one of its store calls', () => {
  for (const when of ['fail-before', 'fail-after'] as const) {
    it(`${when} of its n-th store call, for every n over its first seconds: it recovers, every slot exactly once, no place kept`, async () => {
      const expected = [...TRIGGERS, FLAKY].flatMap((id) => Array.from({ length: (CHECK_UNTIL - FIRST_SLOT) / EVERY_MS }, (_, k) => `${id}@${FIRST_SLOT - T0 + k * EVERY_MS}`));
      const problems: string[] = [];
      const failedAt = new Set<string>();
      let reached = 0;
      for (let n = 1; n <= KILL_POINTS; n++) {
        const { perSlot, notSucceeded, runningAfter, laterRan, reachedN, method } = await failAt(n, when);
        if (!reachedN) break;
        if (method) failedAt.add(method);
        const missing = expected.filter((key) => !perSlot.has(key));
        const doubled = [...perSlot].filter(([, count]) => count > 1).map(([key, count]) => `${key}×${count}`);
        if (missing.length > 0) problems.push(`n=${n} (${method}): lost ${missing.join(', ')}`);
        if (doubled.length > 0) problems.push(`n=${n} (${method}): doubled ${doubled.join(', ')}`);
        if (notSucceeded.length > 0) problems.push(`n=${n} (${method}): not succeeded ${notSucceeded.join(', ')}`);
        if (runningAfter !== 0) problems.push(`n=${n} (${method}): ${runningAfter} places still taken`);
        if (!laterRan) problems.push(`n=${n} (${method}): a later job did not run`);
        reached = n;
      }
      expect(problems).toEqual([]);
      expect(reached).toBe(KILL_POINTS);
      expect([...failedAt]).toEqual(expect.arrayContaining(['jobStore.insertMany', 'triggerStore.claimSlots', 'lockManager.renewInstance', 'jobStore.writeMany', 'jobStore.claimPending', 'jobStore.update']));
    }, 240_000);
  }
});

describe('an instance dies between any two of its store calls', () => {
  for (const when of ['before', 'after'] as const) {
    it(`${when} its n-th store call, for every n over its first seconds: every slot exactly once, every job succeeded`, async () => {
      const expected = TRIGGERS.flatMap((id) => Array.from({ length: (CHECK_UNTIL - FIRST_SLOT) / EVERY_MS }, (_, k) => `${id}@${FIRST_SLOT - T0 + k * EVERY_MS}`));
      const problems: string[] = [];
      const diedAt = new Set<string>();
      let reached = 0;
      for (let n = 1; n <= KILL_POINTS; n++) {
        const { perSlot, notSucceeded, victimCalls, method } = await crashAt(n, when);
        if (victimCalls < n) break;
        if (method) diedAt.add(method);
        const missing = expected.filter((key) => !perSlot.has(key));
        const doubled = [...perSlot].filter(([, count]) => count > 1).map(([key, count]) => `${key}×${count}`);
        if (missing.length > 0) problems.push(`n=${n}: lost ${missing.join(', ')}`);
        if (doubled.length > 0) problems.push(`n=${n}: doubled ${doubled.join(', ')}`);
        if (notSucceeded.length > 0) problems.push(`n=${n}: not succeeded ${notSucceeded.join(', ')}`);
        reached = n;
      }
      expect(problems).toEqual([]);
      expect(reached).toBe(KILL_POINTS);
      // The kill points covered the whole life of a slot on the victim: its claim, the job's
      // insert, the renewal of the instance lease its jobs' leases hang on, the end write
      // (`writeMany` on this backend), the claim of a pending job, and the fence and recovery.
      expect([...diedAt]).toEqual(
        expect.arrayContaining(['jobStore.insertMany', 'triggerStore.claimSlots', 'lockManager.registerInstance', 'lockManager.renewInstance', 'jobStore.writeMany', 'jobStore.claimPending']),
      );
    }, 120_000);
  }
});
