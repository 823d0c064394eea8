/**
 * Lease renewal against a slow store (issue 10), on the path of a backend without instance leases
 * (each job's lease renewed on its own; `PerJobLeaseLocks`): renewals are due by each lease's
 * real expiry, start earlier as their measured round trip grows, are reported in `health()` and
 * by `lease:renewal-slow`; an owner whose renewal does not come back before the lease runs out
 * hands its attempt back itself, and nobody recovers a live instance's job before the grace.
 * The same with instance leases: `instance-lease.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { MemoryJobStore, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import { Scheduler } from '../../src/scheduler.js';
import { renewalMargin, RenewalTimes } from '../../src/engine/renewal-times.js';
import type { Job } from '../../src/types.js';
import { PerJobLeaseLocks } from '../helpers/per-job-locks.js';

const T0 = Date.UTC(2026, 6, 1, 8, 0, 0);

/** A job store whose lease renewals are answered `delayMs` of clock time late (`Infinity`: never). */
class SlowRenewals extends MemoryJobStore {
  delayMs = 0;
  readonly startedAt: number[] = [];
  constructor(readonly clock: ManualClock) {
    super();
  }

  override async renewLease(id: string, token: number, expiresAt: Date): Promise<Job | null> {
    this.startedAt.push(this.clock.now());
    const delay = this.delayMs;
    if (delay === Number.POSITIVE_INFINITY) return new Promise<never>(() => undefined);
    if (delay > 0) await new Promise<void>((resolve) => this.clock.setTimer(resolve, delay));
    return super.renewLease(id, token, expiresAt);
  }
}

function longHandler(): { handler: (ctx: { signal: AbortSignal }) => Promise<string>; finish: () => void; aborted: () => boolean } {
  let finish: () => void = () => undefined;
  let aborted = false;
  return {
    handler: (ctx) =>
      new Promise<string>((resolve) => {
        finish = () => resolve('done');
        ctx.signal.addEventListener('abort', () => (aborted = true));
      }),
    finish: () => finish(),
    aborted: () => aborted,
  };
}

describe('renewal timing', () => {
  it('renews with two thirds of the lease left while quick, three slowest round trips ahead once slow, never more often than every tenth', () => {
    expect(renewalMargin(3000, 0)).toBe(2000);
    expect(renewalMargin(3000, 900)).toBe(2700);
    expect(renewalMargin(3000, 5000)).toBe(2700);
    expect(renewalMargin(30_000, 8000)).toBe(24_000);
    const times = new RenewalTimes();
    expect(times.summary()).toBeNull();
    for (let i = 1; i <= 100; i++) times.record(i);
    expect(times.summary()).toEqual({ samples: 100, p50Ms: 50, p99Ms: 99, maxMs: 100 });
    // Only the latest renewals decide the margin.
    expect(times.recentMax()).toBe(100);
    for (let i = 0; i < 40; i++) times.record(5);
    expect(times.recentMax()).toBe(5);
  });
});

describe('lease renewal on a slow store', () => {
  it('keeps a live job through slow renewals: renews earlier as they slow, reports them, and the job succeeds once', async () => {
    const clock = new ManualClock(T0);
    const jobStore = new SlowRenewals(clock);
    const scheduler = new Scheduler({ jobStore, lockManager: new PerJobLeaseLocks(), clock, leaseMs: 3000, pollIntervalMs: 500, lookaheadMs: 1000 });
    const slow: number[] = [];
    scheduler.on('lease:renewal-slow', (event) => slow.push(event.roundTripMs));
    const lost: string[] = [];
    scheduler.on('lease:lost', (event) => lost.push(event.reason));
    const work = longHandler();
    scheduler.register('long', work.handler);
    await scheduler.start();
    await scheduler.addTrigger({ id: 'l', handler: 'long', schedule: { manual: true } });
    const job = await scheduler.runTrigger('l');
    // Quick renewals first: the first one starts a third into the lease.
    await clock.advance(1000);
    expect(jobStore.startedAt).toEqual([T0 + 1000]);
    // Then the store slows down: each renewal takes 1.4 s, close to half the lease. At a third of
    // the lease (1 s) between renewals and 2 s of lease left at each start, the lease would still
    // hold, but only because it is renewed as soon as the last renewal came back.
    jobStore.delayMs = 1400;
    await clock.advance(20_000);
    const health = await scheduler.health();
    expect(health.leaseRenewal?.maxMs).toBe(1400);
    expect(health.leaseRenewal?.p99Ms).toBe(1400);
    expect(lost).toEqual([]);
    expect(work.aborted()).toBe(false);
    // Once slow, renewals start 2.7 s before expiry (0.3 s after each grant): back to back.
    const gaps = jobStore.startedAt.slice(3).map((at, i) => at - jobStore.startedAt[i + 2]!);
    expect(gaps.length).toBeGreaterThan(10);
    expect(gaps.every((gap) => gap === 1400)).toBe(true);
    expect(slow).toEqual([]);
    // One renewal that takes more than half the lease is reported.
    jobStore.delayMs = 1600;
    await clock.advance(1600);
    jobStore.delayMs = 0;
    await clock.advance(3000);
    expect(slow).toEqual([1600]);
    expect(lost).toEqual([]);
    expect(work.aborted()).toBe(false);
    work.finish();
    await clock.advance(2000);
    const done = await scheduler.getJob(job.id);
    expect(done?.status).toBe('succeeded');
    expect(done?.stalls).toBe(0);
    expect(done?.history.map((h) => h.status)).toEqual(['pending', 'running', 'succeeded']);
    await scheduler.stop();
  });

  it('an owner whose renewal never comes back hands the attempt back at the expiry, before another instance would recover it', async () => {
    const clock = new ManualClock(T0);
    const jobStore = new SlowRenewals(clock);
    const triggerStore = new MemoryTriggerStore();
    const lockManager = new PerJobLeaseLocks();
    const options = { triggerStore, lockManager, clock, leaseMs: 3000, leaseGraceMs: 1500, pollIntervalMs: 500, lookaheadMs: 1000 };
    const owner = new Scheduler({ ...options, jobStore, instanceId: 'owner' });
    const work = longHandler();
    owner.register('long', work.handler);
    const lost: string[] = [];
    owner.on('lease:lost', (event) => lost.push(event.reason));
    await owner.start();
    await owner.addTrigger({ id: 'l', handler: 'long', schedule: { manual: true } });
    const job = await owner.runTrigger('l');
    jobStore.delayMs = Number.POSITIVE_INFINITY;
    // The other instance reads the same records through a store whose renewals work.
    const other = new Scheduler({ ...options, jobStore: new Proxy(jobStore, {
      get(target, name, receiver) {
        if (name === 'renewLease') return MemoryJobStore.prototype.renewLease.bind(target);
        const value: unknown = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }), instanceId: 'other' });
    let otherRuns = 0;
    other.register('long', () => void (otherRuns += 1));
    await other.start();
    // The lease runs out at T0 + 3000; the owner gives up half the grace (750 ms) later.
    await clock.advance(3740);
    expect(work.aborted()).toBe(false);
    await clock.advance(20);
    // Its renewal still out: aborted and handed back, before the other instance's grace ran out.
    expect(work.aborted()).toBe(true);
    expect(lost).toEqual(['renewal-overdue']);
    const handedBack = await owner.getJob(job.id);
    expect(handedBack?.history.some((h) => h.reason?.startsWith('aborted: its lease ran out before a renewal came back') === true)).toBe(true);
    await clock.advance(2000);
    // Run again (by whichever instance has room), as a hand-back: not a stall.
    const after = await owner.getJob(job.id);
    expect(after?.stalls).toBe(0);
    expect(after?.history.some((h) => h.reason?.startsWith('stalled:') === true)).toBe(false);
    expect(['running', 'succeeded']).toContain(after?.status);
    await other.stop({ graceful: false });
    await owner.stop({ graceful: false });
  });

  it('while renewals are slow, recovery waits two of the slowest recent round trips past the expiry, if longer than leaseGraceMs', async () => {
    const clock = new ManualClock(T0);
    const jobStore = new SlowRenewals(clock);
    const scheduler = new Scheduler({ jobStore, lockManager: new PerJobLeaseLocks(), clock, leaseMs: 3000, leaseGraceMs: 1000, pollIntervalMs: 500, lookaheadMs: 1000 });
    const work = longHandler();
    scheduler.register('long', work.handler);
    scheduler.register('h', () => undefined);
    await scheduler.start();
    await scheduler.addTrigger({ id: 'l', handler: 'long', schedule: { manual: true } });
    jobStore.delayMs = 1400;
    await scheduler.runTrigger('l');
    await clock.advance(4000);
    expect((await scheduler.health()).leaseRenewal?.maxMs).toBe(1400);
    // A job of a dead instance, expired just now: grace 2 × 1400 ms, not 1000 ms.
    const expiredAt = clock.now();
    await jobStore.insert({
      ...(await import('../../src/testing/fixtures.js')).makeJob({ id: 'held', key: 'manual:held', triggerId: 'x', handler: 'h' }),
      status: 'running',
      attempts: 1,
      fence: 1,
      lease: { owner: 'gone', token: 1, expiresAt: new Date(expiredAt) },
      startedAt: new Date(T0),
    });
    await clock.advance(2500);
    expect((await jobStore.get('held'))?.stalls).toBe(0);
    await clock.advance(1500);
    expect((await jobStore.get('held'))?.stalls).toBe(1);
    work.finish();
    await clock.advance(2000);
    await scheduler.stop({ graceful: false });
  });

  it('recovery waits leaseGraceMs past the expiry before taking a job for dead', async () => {
    const clock = new ManualClock(T0);
    const jobStore = new MemoryJobStore();
    const scheduler = new Scheduler({ jobStore, clock, leaseMs: 3000, leaseGraceMs: 2000, pollIntervalMs: 500, lookaheadMs: 1000 });
    scheduler.register('h', () => undefined);
    await scheduler.start();
    // A job held by an instance that stopped renewing: expired at T0 + 1000.
    await jobStore.insert({
      ...(await import('../../src/testing/fixtures.js')).makeJob({ id: 'held', key: 'manual:held', triggerId: 'x', handler: 'h' }),
      status: 'running',
      attempts: 1,
      fence: 1,
      lease: { owner: 'gone', token: 1, expiresAt: new Date(T0 + 1000) },
      startedAt: new Date(T0),
    });
    await clock.advance(2900);
    expect((await jobStore.get('held'))?.status).toBe('running');
    await clock.advance(1200);
    const recovered = await jobStore.get('held');
    expect(recovered?.stalls).toBe(1);
    expect(recovered?.history.some((h) => h.reason?.includes('instance gone stopped renewing its lease') === true)).toBe(true);
    await scheduler.stop();
  });
});
