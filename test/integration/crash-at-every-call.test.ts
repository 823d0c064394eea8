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
