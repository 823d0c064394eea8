/**
 * The backend contract: one suite that every backend runs unchanged. A backend test file calls
 * `runBackendContract(name, factory)`; the factory returns fresh, empty stores each time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { blankTrigger } from '../../src/engine/trigger-input.js';
import type { JobStore, LockManager, TriggerStore } from '../../src/ports.js';
import type { Job, Trigger } from '../../src/types.js';
import { runAddOnlyContract } from './add-only.js';
import { runDeclaredTriggerContract } from './declared-triggers.js';
import { runAlertsContract } from './alerts.js';
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
    traceparent: null,
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
      it('counts active triggers per handler (paused and completed ones left out)', async () => {
        const { triggerStore } = await fresh();
        expect(typeof triggerStore.countActiveByHandler).toBe('function');
        expect(await triggerStore.countActiveByHandler!()).toEqual([]);
        await triggerStore.insert(makeTrigger({ id: 'a1', handler: 'b.render' }));
        await triggerStore.insert(makeTrigger({ id: 'a2', handler: 'a.send' }));
        await triggerStore.insert(makeTrigger({ id: 'a3', handler: 'b.render' }));
        await triggerStore.insert(makeTrigger({ id: 'p1', handler: 'c.paused', status: 'paused' }));
        await triggerStore.insert(makeTrigger({ id: 'd1', handler: 'a.send', status: 'completed', nextRunAt: null }));
        expect(await triggerStore.countActiveByHandler!()).toEqual([
          { handler: 'a.send', count: 1 },
          { handler: 'b.render', count: 2 },
        ]);
      });

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

      it('claimSlots answers each claim on its own: won, stale version, taken slot, paused, missing', async () => {
        const { triggerStore } = await fresh();
        expect(typeof triggerStore.claimSlots).toBe('function');
        for (const id of ['a', 'b', 'c', 'd']) await triggerStore.insert(makeTrigger({ id }));
        await triggerStore.insert(makeTrigger({ id: 'stale', version: 3 }));
        await triggerStore.insert(makeTrigger({ id: 'late', nextRunAt: at(1000) }));
        await triggerStore.insert(makeTrigger({ id: 'paused', status: 'paused' }));
        const update = { nextRunAt: at(1000), lastRunAt: at(0), status: 'active' as const, updatedAt: at(5) };
        const claim = (id: string, expectedVersion = 1, slot = at(0)) => ({ id, slot, expectedVersion, update });
        // Claims that write the same thing and claims that do not, won and lost, in one batch.
        const answers = await triggerStore.claimSlots!([
          claim('a'),
          claim('stale'),
          claim('b'),
          claim('late'),
          claim('paused'),
          claim('missing'),
          { ...claim('c'), update: { ...update, nextRunAt: null, status: 'completed' } },
          claim('d', 1, at(0)),
        ]);
        expect(answers).toEqual([true, false, true, false, false, false, true, true]);
        const a = await triggerStore.get('a');
        expect(a?.version).toBe(2);
        expect(a?.nextRunAt).toEqual(at(1000));
        expect(a?.lastRunAt).toEqual(at(0));
        expect((await triggerStore.get('c'))?.status).toBe('completed');
        expect((await triggerStore.get('stale'))?.version).toBe(3);
        expect((await triggerStore.get('late'))?.version).toBe(1);
        // The same claims again: every one was taken (or never could be).
        const again = await triggerStore.claimSlots!([claim('a'), claim('b'), claim('stale')]);
        expect(again).toEqual([false, false, false]);
        // All won, all lost, and nothing at all.
        expect(await triggerStore.claimSlots!([claim('a', 2, at(1000)), claim('b', 2, at(1000))])).toEqual([true, true]);
        expect(await triggerStore.claimSlots!([])).toEqual([]);
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
        expect(typeof triggerStore.update).toBe('function');
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
      it('counts pending jobs per handler (running and final ones left out)', async () => {
        const { jobStore } = await fresh();
        expect(typeof jobStore.countPendingByHandler).toBe('function');
        expect(await jobStore.countPendingByHandler!()).toEqual([]);
        await jobStore.insert(makeJob({ id: 'j1', key: 'k1', handler: 'x' }));
        await jobStore.insert(makeJob({ id: 'j2', key: 'k2', handler: 'x', runAt: at(60_000) }));
        await jobStore.insert(makeJob({ id: 'j3', key: 'k3', handler: 'w' }));
        await jobStore.insert(makeJob({ id: 'j4', key: 'k4', handler: 'y', status: 'succeeded', finishedAt: at(1) }));
        await jobStore.insert(makeJob({ id: 'j5', key: 'k5', handler: 'z', status: 'running', fence: 1, lease: { owner: 'o', token: 1, expiresAt: at(30_000) } }));
        expect(await jobStore.countPendingByHandler!()).toEqual([
          { handler: 'w', count: 1 },
          { handler: 'x', count: 2 },
        ]);
      });

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
        expect(typeof jobStore.insertMany).toBe('function');
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

      it('writeMany fences each write by its own conditions: stale tokens and wrong statuses in the batch write nothing', async () => {
        const { jobStore } = await fresh();
        expect(typeof jobStore.writeMany).toBe('function');
        const running = (id: string, token: number) =>
          makeJob({ id, key: `k-${id}`, status: 'running', fence: token, lease: { owner: 'a', token, expiresAt: at(30_000) } });
        await jobStore.insert(running('ok1', 3));
        await jobStore.insert(running('stale', 4));
        await jobStore.insert(running('ok2', 1));
        await jobStore.insert(makeJob({ id: 'done', key: 'k-done', status: 'succeeded', finishedAt: at(1) }));
        const end = (id: string, token: number) => ({
          id,
          condition: { status: ['running' as const], leaseToken: token },
          patch: { status: 'succeeded' as const, lease: null, result: { id }, finishedAt: at(10) },
          history: [{ status: 'succeeded' as const, at: at(10), instanceId: 'a', reason: `end of ${id}` }],
        });
        const answers = await jobStore.writeMany!([end('ok1', 3), end('stale', 3), end('missing', 1), end('ok2', 1), end('done', 0)]);
        expect(answers).toEqual([true, false, false, true, false]);
        const ok1 = await jobStore.get('ok1');
        expect(ok1?.status).toBe('succeeded');
        expect(ok1?.result).toEqual({ id: 'ok1' });
        expect(ok1?.lease).toBeNull();
        expect(ok1?.history.map((h) => h.reason)).toEqual(['test', 'end of ok1']);
        const stale = await jobStore.get('stale');
        expect(stale?.status).toBe('running');
        expect(stale?.lease?.token).toBe(4);
        expect(stale?.history).toHaveLength(1);
        expect((await jobStore.get('done'))?.history).toHaveLength(1);
        // Written once: the same ends again are all refused (the lease is gone), and an empty batch is nothing.
        expect(await jobStore.writeMany!([end('ok1', 3), end('ok2', 1)])).toEqual([false, false]);
        expect(await jobStore.writeMany!([end('stale', 4)])).toEqual([true]);
        expect(await jobStore.writeMany!([])).toEqual([]);
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
              metrics: { queuedMs: durationMs / 10, durationMs, cpuUserMs: null, cpuSystemMs: null, heapUsedBytes: null, threadWaitMs: null },
            }),
          );
        }
        await jobStore.insert(makeJob({ id: 'f', key: 'f', status: 'failed', dependentsFired: true, finishedAt: at(100_000) }));
        await jobStore.insert(makeJob({ id: 'p', key: 'p', status: 'pending' }));
        const stats = await jobStore.stats({});
        expect(stats.byStatus).toMatchObject({ succeeded: 5, failed: 1, pending: 1, running: 0 });
        expect(stats.byTrigger.t1).toMatchObject({ runs: 6, succeeded: 5, failed: 1, p50DurationMs: 30, p95DurationMs: 100 });
        // One pending job now, the last success at s4's end, one failure since.
        expect(stats.byTrigger.t1).toMatchObject({ pending: 1, running: 0, lastSucceededAt: at(4), failedInRow: 1, p50LagMs: 3, p95LagMs: 10 });
        expect(await jobStore.purge(at(50_000))).toBe(5);
        expect(await jobStore.get('f')).not.toBeNull();
        expect(await jobStore.get('p')).not.toBeNull();
        expect(await jobStore.get('s0')).toBeNull();
      });

      it('list leaves out the fields named in omit: payload and result null, history empty', async () => {
        const { jobStore } = await fresh();
        await jobStore.insert(makeJob({ id: 'o1', key: 'o1', payload: { big: 'x'.repeat(1000) }, status: 'succeeded', result: { r: 1 }, finishedAt: at(1) }));
        const full = (await jobStore.list({})).items[0]!;
        const slim = (await jobStore.list({ omit: ['payload', 'result', 'history'] })).items[0]!;
        expect(slim).toEqual({ ...full, payload: null, result: null, history: [] });
        const noHistory = (await jobStore.list({ omit: ['history'] })).items[0]!;
        expect(noHistory).toEqual({ ...full, history: [] });
        expect(full.history.length).toBeGreaterThan(0);
      });

      it('stats keep a trigger id "__proto__" or "constructor" as data, never touching Object.prototype', async () => {
        const { jobStore } = await fresh();
        const metrics = { queuedMs: 0, durationMs: 30, cpuUserMs: null, cpuSystemMs: null, heapUsedBytes: null, threadWaitMs: null };
        for (const triggerId of ['__proto__', 'constructor']) {
          await jobStore.insert(makeJob({ id: `p-${triggerId}`, key: `p-${triggerId}`, triggerId, status: 'succeeded', finishedAt: at(1), metrics }));
        }
        try {
          const stats = await jobStore.stats({});
          expect(({} as Record<string, unknown>)['p50DurationMs']).toBeUndefined();
          expect(Object.getPrototypeOf({})).toBe(Object.prototype);
          expect(Object.getOwnPropertyDescriptor(stats.byTrigger, '__proto__')?.value).toMatchObject({ runs: 1, p50DurationMs: 30 });
          expect(Object.getOwnPropertyDescriptor(stats.byTrigger, 'constructor')?.value).toMatchObject({ runs: 1 });
          expect(JSON.stringify(stats.byTrigger)).toContain('"__proto__":{"runs":1,');
        } finally {
          // A failure here would otherwise leak into every later test of the process.
          for (const key of ['runs', 'succeeded', 'failed', 'lastFinishedAt', 'p50DurationMs', 'p95DurationMs']) {
            delete (Object.prototype as Record<string, unknown>)[key];
          }
        }
      });
    });

    describe('alerts', () => {
      it('findLate returns the active triggers whose next slot is alertAfterMs overdue, oldest first', async () => {
        const { triggerStore } = await fresh();
        expect(typeof triggerStore.findLate).toBe('function');
        await triggerStore.insert(makeTrigger({ id: 'late', nextRunAt: at(0), alertAfterMs: 5000 }));
        await triggerStore.insert(makeTrigger({ id: 'later', nextRunAt: at(-1000), alertAfterMs: 5000 }));
        await triggerStore.insert(makeTrigger({ id: 'not-yet', nextRunAt: at(0), alertAfterMs: 60_000 }));
        await triggerStore.insert(makeTrigger({ id: 'no-alert', nextRunAt: at(-50_000) }));
        await triggerStore.insert(makeTrigger({ id: 'paused', nextRunAt: at(-50_000), alertAfterMs: 1000, status: 'paused' }));
        await triggerStore.insert(makeTrigger({ id: 'future', nextRunAt: at(60_000), alertAfterMs: 1000 }));
        expect((await triggerStore.findLate!(at(10_000), 10)).map((t) => t.id)).toEqual(['later', 'late']);
        expect((await triggerStore.findLate!(at(10_000), 1)).map((t) => t.id)).toEqual(['later']);
        expect(await triggerStore.findLate!(at(3999), 10)).toEqual([]);
        // A claimed slot moves nextRunAt on: no longer late.
        await triggerStore.claimSlot('late', at(0), 1, { nextRunAt: at(20_000), lastRunAt: at(0), status: 'active', updatedAt: at(10_000) });
        expect((await triggerStore.findLate!(at(10_000), 10)).map((t) => t.id)).toEqual(['later']);
        expect((await triggerStore.get('later'))?.alertAfterMs).toBe(5000);
        expect((await triggerStore.get('no-alert'))?.alertAfterMs).toBeNull();
      });

      it('stats count failures since the last success, and jobs running per trigger', async () => {
        const { jobStore } = await fresh();
        await jobStore.insert(makeJob({ id: 'a', key: 'a', status: 'succeeded', dependentsFired: true, finishedAt: at(1) }));
        for (const i of [2, 3, 4]) await jobStore.insert(makeJob({ id: `f${i}`, key: `f${i}`, status: 'failed', dependentsFired: true, finishedAt: at(i) }));
        await jobStore.insert(makeJob({ id: 'r', key: 'r', status: 'running', triggerId: 't2' }));
        await jobStore.insert(makeJob({ id: 'k', key: 'k', status: 'skipped', triggerId: 't2', dependentsFired: true, finishedAt: at(5) }));
        const stats = await jobStore.stats({});
        expect(stats.byTrigger.t1).toMatchObject({ runs: 4, failedInRow: 3, lastSucceededAt: at(1), running: 0 });
        expect(stats.byTrigger.t2).toMatchObject({ runs: 0, running: 1, pending: 0, skipped: 1, lastSucceededAt: null, failedInRow: 0, p95LagMs: null });
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
        expect(typeof lockManager.holders).toBe('function');
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
    runDeclaredTriggerContract(fresh);
    runAddOnlyContract(fresh);
    runAlertsContract(fresh);
  });
}
