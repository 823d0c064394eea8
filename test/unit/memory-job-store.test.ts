/**
 * The memory job store's indexes (running list, active counts per trigger, gated jobs, pending
 * heap, unfired dependents) against a model: random inserts, conditional writes, claims and purges,
 * and after each step every indexed answer must equal the same answer computed by scanning the
 * jobs one by one.
 */
import { describe, expect, it } from 'vitest';
import { MemoryJobStore } from '../../src/stores/memory/index.js';
import type { JobStatus } from '../../src/types.js';
import { makeJob } from '../../src/testing/fixtures.js';
import { seededRandom } from '../helpers/random.js';

const T0 = Date.UTC(2026, 2, 1, 10);
const STATUSES: JobStatus[] = ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'];

describe('MemoryJobStore indexes', () => {
  it('answer like a scan of every job, through random inserts, writes, claims and purges', async () => {
    const random = seededRandom(42);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const store = new MemoryJobStore();
    const ids: string[] = [];
    const triggers = ['a', 'b', 'c'];
    const handlers = ['h1', 'h2'];
    const now = new Date(T0 + 500);

    const scan = async () => {
      const jobs = (await Promise.all(ids.map((id) => store.get(id)))).filter((job) => job !== null);
      return jobs;
    };

    for (let step = 0; step < 1500; step++) {
      const roll = random();
      if (roll < 0.35 || ids.length === 0) {
        const id = `j${step}`;
        const status = pick(['pending', 'pending', 'running', 'succeeded'] as const);
        const token = 1 + Math.floor(random() * 3);
        const job = makeJob({
          id,
          key: `k${step}`,
          triggerId: pick(triggers),
          handler: pick(handlers),
          status,
          runAt: new Date(T0 + Math.floor(random() * 1000)),
          gate: status === 'pending' && random() < 0.3 ? 'gate' : null,
          fence: status === 'running' ? token : 0,
          lease: status === 'running' ? { owner: 'i1', token, expiresAt: new Date(T0 + Math.floor(random() * 1000)) } : null,
          finishedAt: status === 'succeeded' ? new Date(T0) : null,
          dependentsFired: random() < 0.5,
        });
        if (job.gate !== null) job.gate = job.triggerId;
        expect(await store.insert(job)).not.toBeNull();
        ids.push(id);
      } else if (roll < 0.75) {
        const id = pick(ids);
        const to = pick(STATUSES);
        const current = await store.get(id);
        const condition = random() < 0.5 ? { status: [current!.status] } : { status: [pick(STATUSES)] };
        const final = to !== 'pending' && to !== 'running';
        const token = (current?.fence ?? 0) + 1;
        const patch = {
          status: to,
          runAt: new Date(T0 + Math.floor(random() * 1000)),
          lease: to === 'running' ? { owner: 'i1', token, expiresAt: new Date(T0 + Math.floor(random() * 1000)) } : null,
          fence: to === 'running' ? token : current!.fence,
          gate: to === 'pending' && random() < 0.3 ? current!.triggerId : null,
          finishedAt: final ? new Date(T0 + 10) : null,
          dependentsFired: final ? random() < 0.5 : false,
        };
        const history = [{ status: to, at: new Date(T0), instanceId: 'i1', reason: 'step' }];
        if (random() < 0.5) await store.update(id, condition, patch, history);
        else await store.writeMany([{ id, condition, patch, history }]);
      } else if (roll < 0.9) {
        const gate = random() < 0.3 ? pick(triggers) : null;
        await store.claimPending(now, {
          handlers: random() < 0.5 ? handlers : [pick(handlers)],
          owner: 'i2',
          leaseExpiresAt: new Date(T0 + Math.floor(random() * 1000)),
          history: { status: 'running', at: now, instanceId: 'i2', reason: 'claimed' },
          gate,
        });
      } else {
        const removed = await store.purge(new Date(T0 + 5));
        if (removed > 0) {
          const left = await Promise.all(ids.map((id) => store.get(id)));
          ids.splice(0, ids.length, ...ids.filter((_, i) => left[i] !== null));
        }
      }

      const jobs = await scan();
      for (const triggerId of triggers) {
        const mine = jobs.filter((job) => job.triggerId === triggerId);
        expect(await store.countActive(triggerId)).toEqual({
          running: mine.filter((job) => job.status === 'running').length,
          pending: mine.filter((job) => job.status === 'pending').length,
        });
      }
      const bound = T0 + 400;
      const expired = jobs.filter((job) => job.status === 'running' && job.lease !== null && job.lease.expiresAt.getTime() < bound);
      expect((await store.findExpiredLeases(new Date(bound), 10_000)).map((job) => job.id).sort()).toEqual(expired.map((job) => job.id).sort());
      const gated = new Set(jobs.filter((job) => job.status === 'pending' && job.gate !== null && job.runAt <= now).map((job) => job.triggerId));
      expect((await store.gatedTriggerIds(now, handlers, 100)).sort()).toEqual([...gated].sort());
      const pending = jobs.filter((job) => job.status === 'pending' && job.gate === null).map((job) => job.runAt.getTime());
      expect((await store.nextPendingAt(handlers))?.getTime() ?? null).toBe(pending.length ? Math.min(...pending) : null);
      const final = (status: JobStatus): boolean => status !== 'pending' && status !== 'running';
      const unfired = jobs.filter((job) => final(job.status) && !job.dependentsFired && job.finishedAt !== null && job.finishedAt.getTime() < T0 + 100);
      expect((await store.findUnfiredDependents(new Date(T0 + 100), 10_000)).map((job) => job.id).sort()).toEqual(unfired.map((job) => job.id).sort());
    }
    expect(ids.length).toBeGreaterThan(50);
  });

  it('writeMany answers each write on its own, in order', async () => {
    const store = new MemoryJobStore();
    await store.insert(makeJob({ id: 'a', key: 'ka', status: 'running', fence: 1, lease: { owner: 'i', token: 1, expiresAt: new Date(T0) } }));
    await store.insert(makeJob({ id: 'b', key: 'kb', status: 'running', fence: 2, lease: { owner: 'i', token: 2, expiresAt: new Date(T0) } }));
    const answers = await store.writeMany([
      { id: 'a', condition: { status: ['running'], leaseToken: 1 }, patch: { status: 'succeeded', lease: null } },
      { id: 'b', condition: { status: ['running'], leaseToken: 1 }, patch: { status: 'succeeded', lease: null } },
      { id: 'missing', condition: {}, patch: { status: 'failed' } },
    ]);
    expect(answers).toEqual([true, false, false]);
    expect((await store.get('a'))?.status).toBe('succeeded');
    expect((await store.get('b'))?.status).toBe('running');
    expect((await store.findExpiredLeases(new Date(T0 + 1), 10)).map((job) => job.id)).toEqual(['b']);
  });
});
