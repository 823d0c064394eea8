/**
 * The `LockManager` port's contract for named locks: one owner at a time, growing tokens, holders
 * under a prefix.
 */
import { fixtureAt as at } from '../fixtures.js';
import type { BackendUnderTest } from '../fixtures.js';
import type { ContractRunner } from '../runner.js';

/** `LockManager` cases, on fresh stores from `fresh`. */
export function runLockManagerContract(fresh: () => Promise<BackendUnderTest>, { describe, it, expect }: ContractRunner): void {
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

    it('renewMany (optional) extends in one call only the locks still held with their token', async () => {
      const { lockManager } = await fresh();
      // Optional: without it the engine renews each permit on its own.
      if (lockManager.renewMany === undefined) return;
      const held = await lockManager.acquire('p:1', 'a', 1000, at(0));
      const takenOver = await lockManager.acquire('p:2', 'a', 1000, at(0));
      const expired = await lockManager.acquire('p:3', 'a', 100, at(0));
      expect(await lockManager.release(takenOver!)).toBe(true);
      const thief = await lockManager.acquire('p:2', 'b', 1000, at(10));
      expect(await lockManager.renewMany([], 1000, at(500))).toBe(0);
      expect(await lockManager.renewMany([held!, takenOver!, expired!], 1000, at(500))).toBe(1);
      // Renewed to 1500: still held at 1200, where its first term would have run out.
      expect(await lockManager.acquire('p:1', 'b', 1000, at(1200))).toBeNull();
      // The thief's lock kept its own term (1010), and the expired lock was not revived.
      expect(await lockManager.acquire('p:2', 'c', 1000, at(1011))).not.toBeNull();
      expect(await lockManager.renew(thief!, 1000, at(1011))).toBeNull();
      expect(await lockManager.acquire('p:3', 'c', 1000, at(600))).not.toBeNull();
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
}
