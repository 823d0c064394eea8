/**
 * The backend contract for instance leases (`LockManager.registerInstance` and the rest) and the
 * owner filter of `JobStore.findExpiredLeases`, which lease recovery relies on.
 */

import { makeJob, type BackendUnderTest } from '../fixtures.js';
import type { ContractRunner } from '../runner.js';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);

/** Instance-lease cases, on fresh stores from `fresh`. */
export function runInstanceLeaseContract(fresh: () => Promise<BackendUnderTest>, { describe, it, expect }: ContractRunner): void {
  describe('instance leases', () => {
    it('registers, renews (however late) and releases a registration; a new registration replaces the old one', async () => {
      const { lockManager: locks } = await fresh();
      expect(typeof locks.registerInstance).toBe('function');
      const first = { instanceId: 'a', epoch: 'e1', expiresAt: at(1000) };
      expect(await locks.registerInstance!(first)).toBeNull();
      expect(await locks.renewInstance!(first, at(2000))).toEqual({ cancels: [] });
      // Late (expired at 2000) but not fenced: still extends.
      expect(await locks.renewInstance!(first, at(5000))).toEqual({ cancels: [] });
      expect((await locks.liveInstances!(at(4000))).map((l) => [l.instanceId, l.epoch, l.expiresAt.getTime()])).toEqual([['a', 'e1', at(5000).getTime()]]);
      const second = { instanceId: 'a', epoch: 'e2', expiresAt: at(6000) };
      expect(await locks.registerInstance!(second)).toMatchObject({ instanceId: 'a', epoch: 'e1' });
      expect(await locks.renewInstance!(first, at(7000))).toBeNull();
      expect(await locks.releaseInstance!(first)).toBe(false);
      expect(await locks.releaseInstance!(second)).toBe(true);
      expect(await locks.liveInstances!(at(0))).toEqual([]);
      expect(await locks.renewInstance!(second, at(7000))).toBeNull();
    });

    it('lists the registrations live at an instant', async () => {
      const { lockManager: locks } = await fresh();
      await locks.registerInstance!({ instanceId: 'a', epoch: 'a1', expiresAt: at(1000) });
      await locks.registerInstance!({ instanceId: 'b', epoch: 'b1', expiresAt: at(3000) });
      expect((await locks.liveInstances!(at(500))).map((l) => l.instanceId).sort()).toEqual(['a', 'b']);
      expect((await locks.liveInstances!(at(2000))).map((l) => l.instanceId)).toEqual(['b']);
      expect(await locks.liveInstances!(at(3000))).toEqual([]);
    });

    it('fences only a registration expired before the bound: its holder cannot renew it any more', async () => {
      const { lockManager: locks } = await fresh();
      const a = { instanceId: 'a', epoch: 'a1', expiresAt: at(1000) };
      await locks.registerInstance!(a);
      expect(await locks.fenceInstance!('a', at(1000))).toBe(false);
      expect(await locks.renewInstance!(a, at(4000))).not.toBeNull();
      expect(await locks.fenceInstance!('a', at(3000))).toBe(false);
      expect(await locks.fenceInstance!('a', at(4001))).toBe(true);
      expect(await locks.renewInstance!(a, at(9000))).toBeNull();
      expect(await locks.liveInstances!(at(0))).toEqual([]);
      // No registration at all: nothing alive to fence.
      expect(await locks.fenceInstance!('nobody', at(0))).toBe(true);
    });

    it('hands cancel requests to the holder at its next renewal, once', async () => {
      const { lockManager: locks } = await fresh();
      const a = { instanceId: 'a', epoch: 'a1', expiresAt: at(1000) };
      await locks.registerInstance!(a);
      expect(await locks.requestCancel!('a', 'j1')).toBe(true);
      expect(await locks.requestCancel!('a', 'j2')).toBe(true);
      expect(await locks.requestCancel!('a', 'j1')).toBe(true);
      expect(await locks.requestCancel!('nobody', 'j3')).toBe(false);
      expect((await locks.renewInstance!(a, at(2000)))?.cancels.sort()).toEqual(['j1', 'j2']);
      expect(await locks.renewInstance!(a, at(3000))).toEqual({ cancels: [] });
    });

    it('findExpiredLeases filters by lease owner, earliest expiry first', async () => {
      const { jobStore } = await fresh();
      const running = (id: string, owner: string, expiresAt: Date) =>
        makeJob({ id, key: id, status: 'running', fence: 1, attempts: 1, lease: { owner, token: 1, expiresAt } });
      await jobStore.insert(running('a1', 'a', at(300)));
      await jobStore.insert(running('a2', 'a', at(100)));
      await jobStore.insert(running('b1', 'b', at(200)));
      await jobStore.insert(running('c1', 'c', at(5000)));
      expect((await jobStore.findExpiredLeases(at(1000), 10)).map((j) => j.id)).toEqual(['a2', 'b1', 'a1']);
      expect((await jobStore.findExpiredLeases(at(1000), 2)).map((j) => j.id)).toEqual(['a2', 'b1']);
      expect((await jobStore.findExpiredLeases(at(1000), 10, { owner: 'a' })).map((j) => j.id)).toEqual(['a2', 'a1']);
      expect((await jobStore.findExpiredLeases(at(1000), 10, { exceptOwners: ['a'] })).map((j) => j.id)).toEqual(['b1']);
      expect((await jobStore.findExpiredLeases(at(1000), 10, { exceptOwners: ['a', 'b'] })).map((j) => j.id)).toEqual([]);
      expect((await jobStore.findExpiredLeases(at(1000), 10, { exceptOwners: [] })).map((j) => j.id)).toEqual(['a2', 'b1', 'a1']);
    });
  });
}
