/**
 * Which live instance fires which trigger's slots. Every instance holds an expiring lock
 * `member:<instanceId>`, renewed on each poll, and reads who else holds one; a trigger belongs to
 * the member that ranks first for it by rendezvous hashing (highest hash of member and trigger
 * id). Every member computes the same owner from the same member list, and when a member joins
 * or leaves only the triggers it wins or held change hands.
 *
 * Ownership is an optimisation, never a guarantee: the slot claim (compare-and-set) and the job
 * key still make every slot fire once. It spares the n-1 losing claims per slot that n instances
 * racing for every slot would cost. Without a `LockManager.holders`, every instance owns every
 * trigger (they race, as before).
 */
import type { Lease, LockManager } from '../ports.js';

const MEMBER_PREFIX = 'member:';

/** This instance's view of the live instances. */
export class Membership {
  readonly #locks: LockManager;
  readonly #instanceId: string;
  readonly #ttlMs: number;
  #lease: Lease | null = null;
  #members: string[] = [];

  constructor(locks: LockManager, instanceId: string, ttlMs: number) {
    this.#locks = locks;
    this.#instanceId = instanceId;
    this.#ttlMs = ttlMs;
  }

  /** The live members as last read, this instance included, sorted. */
  get members(): readonly string[] {
    return this.#members;
  }

  /**
   * Renew (or take) this instance's membership and read the live members. Returns whether the
   * member list changed since the last call.
   */
  async refresh(now: Date): Promise<boolean> {
    if (!this.#locks.holders) return false;
    let lease = this.#lease ? await this.#locks.renew(this.#lease, this.#ttlMs, now) : null;
    lease ??= await this.#locks.acquire(MEMBER_PREFIX + this.#instanceId, this.#instanceId, this.#ttlMs, now);
    this.#lease = lease;
    const holders = await this.#locks.holders(MEMBER_PREFIX, now);
    const members = [...new Set([...holders, this.#instanceId])].sort();
    const changed = members.length !== this.#members.length || members.some((member, i) => member !== this.#members[i]);
    this.#members = members;
    return changed;
  }

  /** Whether this instance is the one to fire the trigger's slots (always, when alone). */
  owns(triggerId: string): boolean {
    if (this.#members.length <= 1) return true;
    let best = '';
    let bestScore = -1;
    for (const member of this.#members) {
      const score = rendezvousScore(member, triggerId);
      if (score > bestScore || (score === bestScore && member < best)) {
        best = member;
        bestScore = score;
      }
    }
    return best === this.#instanceId;
  }

  /** Give up the membership (a stopping instance), so the others take its triggers at once. */
  async leave(): Promise<void> {
    const lease = this.#lease;
    this.#lease = null;
    this.#members = [];
    if (lease) await this.#locks.release(lease);
  }
}

/** 32-bit FNV-1a of `member`, a separator and `triggerId`. */
export function rendezvousScore(member: string, triggerId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < member.length; i++) hash = Math.imul(hash ^ member.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ 0, 0x01000193);
  for (let i = 0; i < triggerId.length; i++) hash = Math.imul(hash ^ triggerId.charCodeAt(i), 0x01000193);
  // FNV's low bits mix poorly for short inputs: finish with a murmur3-style avalanche.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
