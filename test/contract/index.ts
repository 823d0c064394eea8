/**
 * The backend contract: one suite that every backend runs unchanged. A backend test file calls
 * `runBackendContract(name, factory)`; the factory returns fresh, empty stores each time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { blankTrigger } from '../../src/engine/trigger-input.js';
import type { JobStore, LockManager, TriggerStore } from '../../src/ports.js';
import type { Job, Trigger } from '../../src/types.js';
import { runInstanceLeaseContract } from './instance-leases.js';
import { runSchedulerContract } from './scheduler.js';

/** Fresh stores plus a cleanup. */
export interface BackendUnderTest {
  triggerStore: TriggerStore;
  jobStore: JobStore;
  lockManager: LockManager;
  cleanup(): Promise<void>;
}

/** Makes a fresh backend. */
export type BackendFactory = () => Promise<BackendUnderTest>;

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);

/** A valid trigger record with overrides. */
export function makeTrigger(overrides: Partial<Trigger> = {}): Trigger {
  return {
    ...blankTrigger('t1', 'h', T0),
    schedule: { kind: 'every', every: 1000, startAt: T0, endAt: null },
    payload: { n: 1 },
    nextRunAt: at(0),
    ...overrides,
  };
}

/** A valid job record with overrides. */
export function makeJob(overrides: Partial<Job> = {}): Job {
  const id = overrides.id ?? 'j1';
  return {
    id,
    key: `slot:t1:${id}`,
    triggerId: 't1',
    handler: 'h',
    payload: { n: 1 },
    source: 'schedule',
    scheduledFor: at(0),
    runAt: at(0),
    status: 'pending',
    priority: 0,
    attempts: 0,
    maxAttempts: 1,
    stalls: 0,
    maxStalls: 1,
    timeoutMs: null,
    backoff: null,
    permitLimit: null,
    nextAttemptAt: null,
    result: null,
    error: null,
    metrics: { queuedMs: null, durationMs: null, cpuUserMs: null, cpuSystemMs: null, heapUsedBytes: null, threadWaitMs: null },
    history: [{ status: 'pending', at: at(0), instanceId: 'i1', reason: 'test' }],
    instanceId: null,
    lease: null,
    fence: 0,
    event: null,
    upstream: null,
    gate: null,
    cancelRequested: false,
    dependentsFired: false,
    createdAt: at(0),
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}

/** Run the store contract and the scheduler contract against a backend. */
export function runBackendContract(name: string, factory: BackendFactory): void {
  describe(`backend contract: ${name}`, () => {
    let backend: BackendUnderTest | null = null;
    const fresh = async (): Promise<BackendUnderTest> => {
      backend = await factory();
      return backend;
    };
    afterEach(async () => {
      await backend?.cleanup();
      backend = null;
    });

    describe('TriggerStore', () => {
      it('stores copies: mutating what goes in or comes out changes nothing stored', async () => {
        const { triggerStore } = await fresh();
        const trigger = makeTrigger();
        await triggerStore.insert(trigger);
        trigger.name = 'mutated-after-insert';
        const read = await triggerStore.get('t1');
        expect(read?.name).toBe('t1');
        read!.tags.push('x');
        (read!.payload as { n: number }).n = 99;
        const again = await triggerStore.get('t1');
        expect(again?.tags).toEqual([]);
        expect(again?.payload).toEqual({ n: 1 });
        expect(again?.nextRunAt).toEqual(at(0));
        expect(again?.schedule).toEqual(trigger.schedule);
      });

      it('rejects a duplicate id with InvalidTriggerConfigError on field id', async () => {
        const { triggerStore } = await fresh();
        await triggerStore.insert(makeTrigger());
        await expect(triggerStore.insert(makeTrigger({ name: 'other' }))).rejects.toMatchObject({
          code: 'ERR_INVALID_TRIGGER_CONFIG',
          field: 'id',
        });
        expect((await triggerStore.get('t1'))?.name).toBe('t1');
      });

      it('claims a slot once: the second claim of the same slot and version loses', async () => {
        const { triggerStore } = await fresh();
        await triggerStore.insert(makeTrigger());
        const update = { nextRunAt: at(1000), lastRunAt: at(0), status: 'active' as const, updatedAt: at(5) };
        const first = await triggerStore.claimSlot('t1', at(0), 1, update);
        const second = await triggerStore.claimSlot('t1', at(0), 1, update);
        expect(first?.nextRunAt).toEqual(at(1000));
        expect(first?.version).toBe(2);
        expect(second).toBeNull();
        const stale = await triggerStore.claimSlot('t1', at(1000), 1, update);
        expect(stale).toBeNull();
      });

      it('does not claim paused triggers', async () => {
        const { triggerStore } = await fresh();
        await triggerStore.insert(makeTrigger({ status: 'paused' }));
        const claim = await triggerStore.claimSlot('t1', at(0), 1, {
          nextRunAt: at(1000),
          lastRunAt: at(0),
          status: 'active',
          updatedAt: at(0),
        });
        expect(claim).toBeNull();
      });

      it('findDue returns active due triggers of the given handlers, earliest first, bounded', async () => {
        const { triggerStore } = await fresh();
        await triggerStore.insert(makeTrigger({ id: 'late', nextRunAt: at(5000) }));
        await triggerStore.insert(makeTrigger({ id: 'early', nextRunAt: at(100) }));
        await triggerStore.insert(makeTrigger({ id: 'mid', nextRunAt: at(2000) }));
        await triggerStore.insert(makeTrigger({ id: 'paused', nextRunAt: at(50), status: 'paused' }));
        await triggerStore.insert(makeTrigger({ id: 'other', nextRunAt: at(60), handler: 'other' }));
        await triggerStore.insert(makeTrigger({ id: 'none', nextRunAt: null, schedule: { kind: 'manual' } }));
        const due = await triggerStore.findDue(at(3000), 10, ['h']);
        expect(due.map((t) => t.id)).toEqual(['early', 'mid']);
        const bounded = await triggerStore.findDue(at(10_000), 2, ['h']);
        expect(bounded.map((t) => t.id)).toEqual(['early', 'mid']);
        expect((await triggerStore.findDue(at(10_000), 10, ['h', 'other'])).map((t) => t.id)).toEqual([
          'other',
          'early',
          'mid',
          'late',
        ]);
      });

      it('replace is optimistic: a stale version does not write', async () => {
        const { triggerStore } = await fresh();
        await triggerStore.insert(makeTrigger());
        expect(await triggerStore.replace(makeTrigger({ name: 'v2', version: 2 }), 1)).toBe(true);
        expect(await triggerStore.replace(makeTrigger({ name: 'v2b', version: 2 }), 1)).toBe(false);
        expect((await triggerStore.get('t1'))?.name).toBe('v2');
      });

      it('update writes only the given fields, on the expected version, and raises it by one', async () => {
        const { triggerStore } = await fresh();
        expect(triggerStore.update).toBeTypeOf('function');
        const update = triggerStore.update!.bind(triggerStore);
        await triggerStore.insert(makeTrigger());
        // A slot claim lands first: the update on the version it read is refused.
        const claimed = await triggerStore.claimSlot('t1', at(0), 1, { nextRunAt: at(1000), lastRunAt: at(0), status: 'active', updatedAt: at(1) });
        expect(claimed?.version).toBe(2);
        expect(await update('t1', 1, { status: 'paused', updatedAt: at(2) })).toBeNull();
        const paused = await update('t1', 2, { status: 'paused', updatedAt: at(2) });
        expect(paused?.status).toBe('paused');
        expect(paused?.version).toBe(3);
        const stored = await triggerStore.get('t1');
        // What the claim wrote stays: only the update's own fields changed.
        expect(stored?.nextRunAt?.getTime()).toBe(at(1000).getTime());
        expect(stored?.lastRunAt?.getTime()).toBe(at(0).getTime());
        expect(stored?.status).toBe('paused');
        expect(stored?.name).toBe('t1');
        expect(stored?.version).toBe(3);
        // A paused trigger is not due.
        expect(await triggerStore.findDue(at(5000), 10, ['h'])).toEqual([]);
        expect(await update('missing', 1, { status: 'paused' })).toBeNull();
      });

      it('indexes events and dependencies, and forgets them on remove', async () => {
        const { triggerStore } = await fresh();
        await triggerStore.insert(makeTrigger({ id: 'e1', nextRunAt: null, schedule: { kind: 'event', event: 'run.done', filter: {} } }));
        await triggerStore.insert(makeTrigger({ id: 'd1', nextRunAt: null, schedule: { kind: 'after', after: 'e1', on: 'success' } }));
        expect((await triggerStore.findByEvent('run.done')).map((t) => t.id)).toEqual(['e1']);
        expect((await triggerStore.findDependents('e1')).map((t) => t.id)).toEqual(['d1']);
        expect(await triggerStore.dependencyEdges()).toEqual([{ id: 'd1', after: 'e1' }]);
        expect(await triggerStore.remove('d1')).toBe(true);
        expect(await triggerStore.remove('d1')).toBe(false);
        expect(await triggerStore.findDependents('e1')).toEqual([]);
        expect(await triggerStore.dependencyEdges()).toEqual([]);
      });

      it('lists by id with filters and cursor paging', async () => {
        const { triggerStore } = await fresh();
        for (const id of ['c', 'a', 'e', 'b', 'd']) {
          await triggerStore.insert(makeTrigger({ id, tags: id === 'b' || id === 'd' ? ['x'] : [], status: id === 'e' ? 'paused' : 'active' }));
        }
        const first = await triggerStore.list({ limit: 2 });
        expect(first.items.map((t) => t.id)).toEqual(['a', 'b']);
        expect(first.nextCursor).not.toBeNull();
        const second = await triggerStore.list({ limit: 2, cursor: first.nextCursor! });
        expect(second.items.map((t) => t.id)).toEqual(['c', 'd']);
        const third = await triggerStore.list({ limit: 2, cursor: second.nextCursor! });
        expect(third.items.map((t) => t.id)).toEqual(['e']);
        expect(third.nextCursor).toBeNull();
        expect((await triggerStore.list({ tag: 'x' })).items.map((t) => t.id)).toEqual(['b', 'd']);
        expect((await triggerStore.list({ status: 'paused' })).items.map((t) => t.id)).toEqual(['e']);
      });
    });

    describe('JobStore', () => {
      it('insert refuses a duplicate key and hands out copies', async () => {
        const { jobStore } = await fresh();
        const stored = await jobStore.insert(makeJob());
        expect(stored?.id).toBe('j1');
        expect(await jobStore.insert(makeJob({ id: 'j2', key: 'slot:t1:j1' }))).toBeNull();
        const read = await jobStore.get('j1');
        read!.history.push({ status: 'failed', at: at(1), instanceId: null, reason: null });
        expect((await jobStore.get('j1'))?.history).toHaveLength(1);
        expect((await jobStore.getByKey('slot:t1:j1'))?.id).toBe('j1');
      });

      it('insertMany stores each job on its own: taken keys answer null, the rest are stored', async () => {
        const { jobStore } = await fresh();
        expect(jobStore.insertMany).toBeTypeOf('function');
        await jobStore.insert(makeJob({ id: 'j2' }));
        const answers = await jobStore.insertMany!([
          makeJob({ id: 'j1' }),
          makeJob({ id: 'j2-again', key: 'slot:t1:j2' }),
          makeJob({ id: 'j3' }),
          makeJob({ id: 'j3-again', key: 'slot:t1:j3' }),
        ]);
        expect(answers.map((job) => job?.id ?? null)).toEqual(['j1', null, 'j3', null]);
        expect(await jobStore.get('j2-again')).toBeNull();
        expect((await jobStore.getByKey('slot:t1:j2'))?.id).toBe('j2');
        expect((await jobStore.get('j3'))?.key).toBe('slot:t1:j3');
        expect(await jobStore.insertMany!([])).toEqual([]);
      });

      it('conditional update checks status and lease token, appends history', async () => {
        const { jobStore } = await fresh();
        await jobStore.insert(makeJob({ status: 'running', fence: 3, lease: { owner: 'a', token: 3, expiresAt: at(30_000) } }));
        const wrongToken = await jobStore.update('j1', { status: ['running'], leaseToken: 2 }, { status: 'succeeded' });
        expect(wrongToken).toBeNull();
        const wrongStatus = await jobStore.update('j1', { status: ['pending'] }, { status: 'succeeded' });
        expect(wrongStatus).toBeNull();
        const ok = await jobStore.update(
          'j1',
          { status: ['running'], leaseToken: 3 },
          { status: 'succeeded', result: { ok: true }, lease: null, finishedAt: at(10) },
          [{ status: 'succeeded', at: at(10), instanceId: 'a', reason: 'done' }],
        );
        expect(ok?.status).toBe('succeeded');
        expect(ok?.result).toEqual({ ok: true });
        expect(ok?.history.map((h) => h.status)).toEqual(['pending', 'succeeded']);
        expect((await jobStore.get('j1'))?.lease).toBeNull();
      });

      it('claimPending takes due jobs by runAt then priority, raises the fence, respects handlers and gates', async () => {
        const { jobStore } = await fresh();
        await jobStore.insert(makeJob({ id: 'low', key: 'k-low', runAt: at(0), priority: 0 }));
        await jobStore.insert(makeJob({ id: 'high', key: 'k-high', runAt: at(0), priority: 5 }));
        await jobStore.insert(makeJob({ id: 'future', key: 'k-future', runAt: at(60_000) }));
        await jobStore.insert(makeJob({ id: 'other', key: 'k-other', runAt: at(-10), handler: 'other' }));
        await jobStore.insert(makeJob({ id: 'gated', key: 'k-gated', runAt: at(-20), gate: 't1' }));
        const options = (gate: string | null) => ({
          handlers: ['h'],
          owner: 'me',
          leaseExpiresAt: at(30_000),
          history: { status: 'running' as const, at: at(1), instanceId: 'me', reason: 'claimed' },
          gate,
        });
        const first = await jobStore.claimPending(at(1), options(null));
        expect(first?.id).toBe('high');
        expect(first?.status).toBe('running');
        expect(first?.fence).toBe(1);
        expect(first?.lease).toEqual({ owner: 'me', token: 1, expiresAt: at(30_000) });
        expect((await jobStore.claimPending(at(1), options(null)))?.id).toBe('low');
        expect(await jobStore.claimPending(at(1), options(null))).toBeNull();
        expect(await jobStore.gatedTriggerIds(at(1), ['h'], 10)).toEqual(['t1']);
        const gated = await jobStore.claimPending(at(1), options('t1'));
        expect(gated?.id).toBe('gated');
        expect(gated?.gate).toBeNull();
        expect(await jobStore.nextPendingAt(['h'])).toEqual(at(60_000));
      });

      it('renews leases only for the holder, and finds expired ones', async () => {
        const { jobStore } = await fresh();
        await jobStore.insert(makeJob({ status: 'running', fence: 1, lease: { owner: 'a', token: 1, expiresAt: at(1000) } }));
        expect(await jobStore.renewLease('j1', 2, at(5000))).toBeNull();
        const renewed = await jobStore.renewLease('j1', 1, at(5000));
        expect(renewed?.lease?.expiresAt).toEqual(at(5000));
        expect(await jobStore.findExpiredLeases(at(4000), 10)).toEqual([]);
        expect((await jobStore.findExpiredLeases(at(6000), 10)).map((j) => j.id)).toEqual(['j1']);
      });

      it('counts active jobs per trigger', async () => {
        const { jobStore } = await fresh();
        await jobStore.insert(makeJob({ id: 'a', key: 'a', status: 'running' }));
        await jobStore.insert(makeJob({ id: 'b', key: 'b', status: 'pending' }));
        await jobStore.insert(makeJob({ id: 'c', key: 'c', status: 'pending' }));
        await jobStore.insert(makeJob({ id: 'd', key: 'd', status: 'succeeded' }));
        await jobStore.insert(makeJob({ id: 'e', key: 'e', status: 'running', triggerId: 't2' }));
        expect(await jobStore.countActive('t1')).toEqual({ running: 1, pending: 2 });
      });

      it('lists newest slot first with filters and cursor paging', async () => {
        const { jobStore } = await fresh();
        for (let i = 0; i < 5; i++) {
          await jobStore.insert(makeJob({ id: `j${i}`, key: `k${i}`, scheduledFor: at(i * 1000), status: i % 2 ? 'failed' : 'succeeded' }));
        }
        const first = await jobStore.list({ limit: 2 });
        expect(first.items.map((j) => j.id)).toEqual(['j4', 'j3']);
        const second = await jobStore.list({ limit: 2, cursor: first.nextCursor! });
        expect(second.items.map((j) => j.id)).toEqual(['j2', 'j1']);
        const third = await jobStore.list({ limit: 2, cursor: second.nextCursor! });
        expect(third.items.map((j) => j.id)).toEqual(['j0']);
        expect(third.nextCursor).toBeNull();
        expect((await jobStore.list({ status: 'failed' })).items.map((j) => j.id)).toEqual(['j3', 'j1']);
        expect((await jobStore.list({ from: at(1000), to: at(3000) })).items.map((j) => j.id)).toEqual(['j2', 'j1']);
        await expect(jobStore.list({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ field: 'cursor' });
      });

      it('stats count statuses and duration percentiles per trigger; purge removes old final jobs only', async () => {
        const { jobStore } = await fresh();
        const durations = [10, 20, 30, 40, 100];
        for (const [i, durationMs] of durations.entries()) {
          await jobStore.insert(
            makeJob({
              id: `s${i}`,
              key: `s${i}`,
              status: 'succeeded',
              dependentsFired: true,
              finishedAt: at(i),
              metrics: { queuedMs: 0, durationMs, cpuUserMs: null, cpuSystemMs: null, heapUsedBytes: null, threadWaitMs: null },
            }),
          );
        }
        await jobStore.insert(makeJob({ id: 'f', key: 'f', status: 'failed', dependentsFired: true, finishedAt: at(100_000) }));
        await jobStore.insert(makeJob({ id: 'p', key: 'p', status: 'pending' }));
        const stats = await jobStore.stats({});
        expect(stats.byStatus).toMatchObject({ succeeded: 5, failed: 1, pending: 1, running: 0 });
        expect(stats.byTrigger.t1).toMatchObject({ runs: 6, succeeded: 5, failed: 1, p50DurationMs: 30, p95DurationMs: 100 });
        expect(await jobStore.purge(at(50_000))).toBe(5);
        expect(await jobStore.get('f')).not.toBeNull();
        expect(await jobStore.get('p')).not.toBeNull();
        expect(await jobStore.get('s0')).toBeNull();
      });
    });

    describe('LockManager', () => {
      it('gives a lock to one owner at a time, with tokens that keep growing', async () => {
        const { lockManager } = await fresh();
        const a = await lockManager.acquire('k', 'a', 1000, at(0));
        expect(a?.owner).toBe('a');
        expect(await lockManager.acquire('k', 'b', 1000, at(500))).toBeNull();
        const renewed = await lockManager.renew(a!, 1000, at(900));
        expect(renewed?.expiresAt).toEqual(at(1900));
        const b = await lockManager.acquire('k', 'b', 1000, at(2000));
        expect(b?.token).toBeGreaterThan(a!.token);
        expect(await lockManager.renew(a!, 1000, at(2100))).toBeNull();
        expect(await lockManager.release(a!)).toBe(false);
        expect(await lockManager.release(b!)).toBe(true);
        const c = await lockManager.acquire('k', 'c', 1000, at(2200));
        expect(c?.token).toBeGreaterThan(b!.token);
      });

      it('lists the owners of the live locks under a prefix', async () => {
        const { lockManager } = await fresh();
        expect(lockManager.holders).toBeTypeOf('function');
        await lockManager.acquire('member:a', 'a', 1000, at(0));
        await lockManager.acquire('member:b', 'b', 5000, at(0));
        const c = await lockManager.acquire('member:c', 'c', 5000, at(0));
        await lockManager.acquire('membership', 'x', 5000, at(0));
        await lockManager.acquire('other:d', 'd', 5000, at(0));
        await lockManager.release(c!);
        // a expired at 1000; c released; 'membership' and 'other:d' are not under the prefix.
        expect((await lockManager.holders!('member:', at(2000))).sort()).toEqual(['b']);
        expect((await lockManager.holders!('member:', at(500))).sort()).toEqual(['a', 'b']);
        expect(await lockManager.holders!('none:', at(0))).toEqual([]);
      });
    });

    runInstanceLeaseContract(fresh);
    runSchedulerContract(fresh);
  });
}
