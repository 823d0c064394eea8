/**
 * The `JobStore` port's contract: unique keys, copies, fenced writes (one by one and batched),
 * claiming pending jobs, leases, counts, listing, stats and purge.
 */
import { fixtureAt as at, makeJob } from '../fixtures.js';
import type { BackendUnderTest } from '../fixtures.js';
import type { ContractRunner } from '../runner.js';

/** `JobStore` cases, on fresh stores from `fresh`. */
export function runJobStoreContract(fresh: () => Promise<BackendUnderTest>, { describe, it, expect }: ContractRunner): void {
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

}
