import { describe, expect, it } from 'vitest';
import { Membership, ownerOf, rendezvousScore } from '../../src/engine/membership.js';
import { OWNERSHIP_BUCKETS, triggerBucket } from '../../src/util/ownership-bucket.js';
import type { LockManager } from '../../src/ports.js';
import { MemoryLockManager } from '../../src/stores/memory/index.js';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const ids = Array.from({ length: 3000 }, (_, i) => `trigger-${i}`);

async function members(lockManager: MemoryLockManager, names: string[], at: number): Promise<Membership[]> {
  const all = names.map((name) => new Membership(lockManager, name, 3000, () => ['h']));
  for (const member of all) await member.refresh(new Date(at));
  // A second round: the first members read the list before the later ones joined.
  for (const member of all) await member.refresh(new Date(at));
  return all;
}

describe('Membership', () => {
  it('gives every trigger to exactly one member, in roughly equal shares', async () => {
    const all = await members(new MemoryLockManager(), ['a', 'b', 'c'], T0);
    expect(all.map((m) => m.members)).toEqual([['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c']]);
    const shares = all.map((m) => ids.filter((id) => m.owns(id, 'h')).length);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(ids.length);
    for (const id of ids) expect(all.filter((m) => m.owns(id, 'h'))).toHaveLength(1);
    for (const share of shares) expect(share).toBeGreaterThan(ids.length * 0.27);
  });

  it('moves only the leaving member’s triggers, and notices members that stop renewing', async () => {
    const lockManager = new MemoryLockManager();
    const [a, b, c] = await members(lockManager, ['a', 'b', 'c'], T0);
    const before = new Map(ids.map((id) => [id, [a!, b!, c!].find((m) => m.owns(id, 'h'))]));
    await c!.leave();
    expect(await a!.refresh(new Date(T0 + 100))).toBe(true);
    expect(await b!.refresh(new Date(T0 + 100))).toBe(true);
    expect(await b!.refresh(new Date(T0 + 150))).toBe(false);
    expect(a!.members).toEqual(['a', 'b']);
    for (const id of ids) {
      const owner = before.get(id);
      if (owner !== c) expect(owner!.owns(id, 'h')).toBe(true);
    }
    // b stops renewing: after its 3 s the others take it for gone.
    expect(await a!.refresh(new Date(T0 + 2000))).toBe(false);
    expect(await a!.refresh(new Date(T0 + 3200))).toBe(true);
    expect(a!.members).toEqual(['a']);
    expect(ids.every((id) => a!.owns(id, 'h'))).toBe(true);
  });

  it('shares a trigger only among the members that have its handler', async () => {
    const lockManager = new MemoryLockManager();
    const handlersOf: Record<string, string[]> = { a: ['mail', 'report'], b: ['mail'], c: ['report'] };
    const all = Object.keys(handlersOf).map((name) => new Membership(lockManager, name, 3000, () => handlersOf[name]!));
    for (const round of [0, 1]) for (const member of all) await member.refresh(new Date(T0 + round));
    const [a, b, c] = all;
    for (const id of ids.slice(0, 500)) {
      expect([a!, b!].filter((m) => m.owns(id, 'mail'))).toHaveLength(1);
      expect([a!, c!].filter((m) => m.owns(id, 'report'))).toHaveLength(1);
    }
    expect(ids.some((id) => b!.owns(id, 'mail'))).toBe(true);
    expect(ids.some((id) => a!.owns(id, 'mail'))).toBe(true);
    // A handler registered later is announced at the next refresh, and changes the split.
    handlersOf['b'] = ['mail', 'report'];
    expect(await b!.refresh(new Date(T0 + 10))).toBe(true);
    expect(await a!.refresh(new Date(T0 + 11))).toBe(true);
    expect(ids.some((id) => b!.owns(id, 'report'))).toBe(true);
  });

  it('shares the ownership buckets: disjoint, all covered, and what owns() says', async () => {
    const all = await members(new MemoryLockManager(), ['a', 'b', 'c'], T0);
    const sets = all.map((m) => m.ownBuckets(['h']));
    for (const set of sets) expect(set).not.toBeNull();
    const seen = sets.flatMap((set) => set!);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((x, y) => x - y)).toEqual(Array.from({ length: OWNERSHIP_BUCKETS }, (_, i) => i));
    for (const set of sets) expect(set!.length).toBeGreaterThan(OWNERSHIP_BUCKETS * 0.25);
    for (const id of ids.slice(0, 500)) {
      for (const [k, member] of all.entries()) expect(member.owns(id, 'h')).toBe(sets[k]!.includes(triggerBucket(id)));
      expect(['a', 'b', 'c'][all.findIndex((m) => m.owns(id, 'h'))]).toBe(ownerOf(['a', 'b', 'c'], id));
    }
  });

  it('has no bucket list alone, or when members have other handlers', async () => {
    const lockManager = new MemoryLockManager();
    const [alone] = await members(lockManager, ['a'], T0);
    expect(alone!.ownBuckets(['h'])).toBeNull();
    const handlersOf: Record<string, string[]> = { x: ['mail', 'report'], y: ['mail'] };
    const shared = new MemoryLockManager();
    const both = Object.keys(handlersOf).map((name) => new Membership(shared, name, 3000, () => handlersOf[name]!));
    for (const round of [0, 1]) for (const member of both) await member.refresh(new Date(T0 + round));
    // Both have mail: one list serves it; y lacks report, so x's report triggers are not a bucket list.
    expect(both[0]!.ownBuckets(['mail'])).not.toBeNull();
    expect(both[0]!.ownBuckets(['mail', 'report'])).toBeNull();
    // A member that leaves changes the list.
    const before = both[0]!.ownBuckets(['mail'])!.length;
    await both[1]!.leave();
    await both[0]!.refresh(new Date(T0 + 10));
    expect(both[0]!.ownBuckets(['mail'])).toBeNull();
    expect(before).toBeLessThan(OWNERSHIP_BUCKETS);
  });

  it('owns everything without a LockManager that lists holders', async () => {
    const locks = new MemoryLockManager();
    const plain: LockManager = { acquire: locks.acquire.bind(locks), renew: locks.renew.bind(locks), release: locks.release.bind(locks) };
    const member = new Membership(plain, 'a', 3000, () => ['h']);
    expect(await member.refresh(new Date(T0))).toBe(false);
    expect(ids.every((id) => member.owns(id, 'h'))).toBe(true);
  });

  it('scores are stable and spread', () => {
    expect(rendezvousScore('a', 'x')).toBe(rendezvousScore('a', 'x'));
    const scores = new Set(ids.map((id) => rendezvousScore('instance-1', id)));
    expect(scores.size).toBeGreaterThan(ids.length - 5);
  });
});
