/**
 * The `TriggerStore` port's contract: copies, unique ids, slot claims (one by one and batched),
 * due and late lookups, optimistic writes, event and dependency indexes, listing.
 */
import { fixtureAt as at, makeTrigger } from '../fixtures.js';
import type { BackendUnderTest } from '../fixtures.js';
import type { ContractRunner } from '../runner.js';
import { OWNERSHIP_BUCKETS, triggerBucket } from '@intellibrowse/scheduler';

/** `TriggerStore` cases, on fresh stores from `fresh`. */
export function runTriggerStoreContract(fresh: () => Promise<BackendUnderTest>, { describe, it, expect }: ContractRunner): void {
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

    it('findDue with buckets returns every due trigger in those ownership buckets', async () => {
      const { triggerStore } = await fresh();
      const ids = Array.from({ length: 40 }, (_, i) => `b${i}`);
      for (const [i, id] of ids.entries()) await triggerStore.insert(makeTrigger({ id, nextRunAt: at(100 + i) }));
      // Half the buckets: a store must return every due trigger in them (it may return others).
      const wanted = Array.from({ length: OWNERSHIP_BUCKETS / 2 }, (_, i) => i * 2);
      const inWanted = ids.filter((id) => triggerBucket(id) % 2 === 0);
      expect(inWanted.length).toBeGreaterThan(5);
      const due = (await triggerStore.findDue(at(10_000), 100, ['h'], undefined, undefined, wanted)).map((t) => t.id);
      expect(due.filter((id) => inWanted.includes(id))).toEqual(inWanted);
      // Still earliest first, and none of the ones not due.
      const times = due.map((id) => ids.indexOf(id));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(await triggerStore.findDue(at(50), 100, ['h'], undefined, undefined, wanted)).toEqual([]);
    });

    it('changeToken moves on every insert, replacement, update and removal, not on claims or refused writes', async () => {
      const { triggerStore } = await fresh();
      expect(typeof triggerStore.changeToken).toBe('function');
      const token = (): Promise<string> => triggerStore.changeToken!();
      const seen = [await token()];
      const moved = async (): Promise<boolean> => {
        const now = await token();
        const changed = now !== seen[seen.length - 1];
        seen.push(now);
        return changed;
      };
      await triggerStore.insert(makeTrigger());
      expect(await moved()).toBe(true);
      // A slot claim and reads leave it alone: polls read the window again only for a trigger's change.
      expect(await triggerStore.claimSlot('t1', at(0), 1, { nextRunAt: at(1000), lastRunAt: at(0), status: 'active', updatedAt: at(1) })).not.toBeNull();
      expect(await triggerStore.claimSlots?.([{ id: 't1', slot: at(1000), expectedVersion: 2, update: { nextRunAt: at(2000), lastRunAt: at(1000), status: 'active', updatedAt: at(2) } }])).not.toEqual([false]);
      await triggerStore.get('t1');
      await triggerStore.findDue(at(5000), 10, ['h']);
      expect(await moved()).toBe(false);
      const version = (await triggerStore.get('t1'))!.version;
      // Refused (stale version, missing id): no change either.
      expect(await triggerStore.replace(makeTrigger({ name: 'stale', version: 99 }), version - 1)).toBe(false);
      expect(await triggerStore.remove('missing')).toBe(false);
      expect(await moved()).toBe(false);
      expect(await triggerStore.replace(makeTrigger({ name: 'v2', version: version + 1 }), version)).toBe(true);
      expect(await moved()).toBe(true);
      if (triggerStore.update) {
        expect(await triggerStore.update('t1', version + 1, { name: 'v3' })).not.toBeNull();
        expect(await moved()).toBe(true);
      }
      expect(await triggerStore.remove('t1')).toBe(true);
      expect(await moved()).toBe(true);
      // Every token differs from all before it.
      expect(new Set(seen.filter((_, i) => i === 0 || seen[i] !== seen[i - 1])).size).toBe(seen.filter((_, i) => i === 0 || seen[i] !== seen[i - 1]).length);
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

}
