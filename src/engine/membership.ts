/**
 * Which live instance fires which trigger's slots. Every instance holds an expiring lock
 * `member:<instanceId>`, renewed on each poll, whose owner field names the instance and the
 * handlers it has registered, and reads who else holds one; a trigger belongs to the member that
 * ranks first for the trigger's ownership bucket (util/ownership-bucket.ts) by rendezvous hashing
 * (highest hash of member and bucket) among the members that have the trigger's handler (services
 * sharing a database register different handlers). Every member computes the same owner from the
 * same list, and when a member joins or leaves only the buckets it wins or held change hands.
 * Where every member has the handlers asked for, an instance's own triggers are its own buckets
 * (`ownBuckets`), which a store can filter on: each poll then reads its own share only.
 *
 * Ownership is an optimisation, never a guarantee: the slot claim (compare-and-set) and the job
 * key still make every slot fire once. It spares the n-1 losing claims per slot that n instances
 * racing for every slot would cost. Without a `LockManager.holders`, every instance owns every
 * trigger (they race, as before).
 */
import type { Lease, LockManager } from '../ports.js';
import { hash32, OWNERSHIP_BUCKETS, triggerBucket } from '../util/ownership-bucket.js';

const MEMBER_PREFIX = 'member:';

interface Member {
  id: string;
  /** Its handler names; `null` when its lock does not say (then it is taken to have them all). */
  handlers: ReadonlySet<string> | null;
}

/** This instance's view of the live instances. */
export class Membership {
  readonly #locks: LockManager;
  readonly #instanceId: string;
  readonly #ttlMs: number;
  readonly #handlers: () => string[];
  #lease: Lease | null = null;
  #members: Member[] = [];
  #signature = '';
  /** Per bucket, whether it is this instance's with every member eligible; made once per member list. */
  #mineByBucket: boolean[] | null = null;
  /** The same as a list of bucket numbers (`ownBuckets`). */
  #ownBuckets: number[] | null = null;

  /** @param handlers this instance's handler names (read at every refresh: they may change) */
  constructor(locks: LockManager, instanceId: string, ttlMs: number, handlers: () => string[]) {
    this.#locks = locks;
    this.#instanceId = instanceId;
    this.#ttlMs = ttlMs;
    this.#handlers = handlers;
  }

  /** The live members' ids as last read, this instance included, sorted. */
  get members(): readonly string[] {
    return this.#members.map((member) => member.id);
  }

  /** How many live members (this instance included) have every one of these handlers registered. */
  countWith(handlers: readonly string[]): number {
    let count = 0;
    for (const member of this.#members) if (member.handlers === null || handlers.every((name) => member.handlers!.has(name))) count += 1;
    return count;
  }

  /**
   * Renew (or take) this instance's membership and read the live members. Returns whether the
   * members or their handlers changed since the last call.
   */
  async refresh(now: Date): Promise<boolean> {
    if (!this.#locks.holders) return false;
    const owner = JSON.stringify([this.#instanceId, [...this.#handlers()].sort()]);
    if (this.#lease && this.#lease.owner !== owner) {
      // Handlers were registered since: say so under a new lease.
      await this.#locks.release(this.#lease);
      this.#lease = null;
    }
    let lease = this.#lease ? await this.#locks.renew(this.#lease, this.#ttlMs, now) : null;
    lease ??= await this.#locks.acquire(MEMBER_PREFIX + this.#instanceId, owner, this.#ttlMs, now);
    this.#lease = lease;
    const byId = new Map<string, Member>();
    for (const holder of [...(await this.#locks.holders(MEMBER_PREFIX, now)), owner]) {
      const member = parseOwner(holder);
      byId.set(member.id, member);
    }
    const members = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const signature = members.map((m) => `${m.id}\u0000${m.handlers === null ? '*' : [...m.handlers].join(',')}`).join('\n');
    const changed = signature !== this.#signature;
    if (changed) this.#forgetBuckets();
    this.#members = members;
    this.#signature = signature;
    return changed;
  }

  /**
   * Whether this instance is the one to fire the trigger's slots: the best-ranked of the members
   * that have its handler (always, when it is the only one).
   */
  owns(triggerId: string, handler: string): boolean {
    if (this.#members.length <= 1) return true;
    const bucket = triggerBucket(triggerId);
    // Every member has the handler (the usual cluster): the bucket table made once per member list.
    if (this.#allHave(handler)) return this.#mine()[bucket]!;
    const best = bucketOwner(this.#members, bucket, (member) => member.handlers === null || member.handlers.has(handler));
    return best === '' || best === this.#instanceId;
  }

  /**
   * The ownership buckets whose triggers of these handlers are this instance's, when every live
   * member has all of them (then one set serves them all); `null` when that set would not say it
   * all: this instance is alone (it owns everything), or some member lacks one of the handlers.
   */
  ownBuckets(handlers: readonly string[]): number[] | null {
    if (this.#members.length <= 1 || !handlers.every((name) => this.#allHave(name))) return null;
    if (this.#ownBuckets === null) {
      const mine = this.#mine();
      this.#ownBuckets = [];
      for (let bucket = 0; bucket < OWNERSHIP_BUCKETS; bucket++) if (mine[bucket]) this.#ownBuckets.push(bucket);
    }
    return this.#ownBuckets;
  }

  /** The member list changed (or this instance left): the bucket tables are made again on next use. */
  #forgetBuckets(): void {
    this.#mineByBucket = null;
    this.#ownBuckets = null;
  }

  /** Whether every live member has this handler (a member whose lock does not say has them all). */
  #allHave(handler: string): boolean {
    return this.#members.every((member) => member.handlers === null || member.handlers.has(handler));
  }

  /** Per bucket, whether this instance ranks first among all members: made once per member list. */
  #mine(): boolean[] {
    this.#mineByBucket ??= Array.from({ length: OWNERSHIP_BUCKETS }, (_, bucket) => bucketOwner(this.#members, bucket, () => true) === this.#instanceId);
    return this.#mineByBucket;
  }

  /**
   * The handler names the live instances have registered, read from the store now (without joining:
   * a process that never started can ask too). `'all'` when some member's lock does not say which
   * it has; `null` when the lock manager cannot list holders (nobody can tell).
   */
  async liveHandlers(now: Date): Promise<ReadonlySet<string> | 'all' | null> {
    if (!this.#locks.holders) return null;
    const names = new Set<string>();
    for (const holder of await this.#locks.holders(MEMBER_PREFIX, now)) {
      const member = parseOwner(holder);
      if (member.handlers === null) return 'all';
      for (const name of member.handlers) names.add(name);
    }
    return names;
  }

  /** Give up the membership (a stopping instance), so the others take its triggers at once. */
  async leave(): Promise<void> {
    const lease = this.#lease;
    this.#lease = null;
    this.#members = [];
    this.#signature = '';
    this.#forgetBuckets();
    if (lease) await this.#locks.release(lease);
  }
}

/** A member lock's owner: `[instanceId, handlers]` as JSON, or a bare id (handlers unknown). */
function parseOwner(owner: string): Member {
  try {
    const parsed: unknown = JSON.parse(owner);
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && Array.isArray(parsed[1])) {
      return { id: parsed[0], handlers: new Set(parsed[1].filter((name): name is string => typeof name === 'string')) };
    }
  } catch {
    // Not ours to read: fall through.
  }
  return { id: owner, handlers: null };
}

/** The id of the best-ranked eligible member for a bucket (`''` when none is eligible). */
function bucketOwner(members: readonly Member[], bucket: number, eligible: (member: Member) => boolean): string {
  const key = String(bucket);
  let best = '';
  let bestScore = -1;
  for (const member of members) {
    if (!eligible(member)) continue;
    const score = rendezvousScore(member.id, key);
    if (score > bestScore || (score === bestScore && member.id < best)) {
      best = member.id;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The member that fires a trigger's slots among `members` (instance ids, each with every handler):
 * what every instance computes, for tests and tools that need to know it ahead.
 */
export function ownerOf(members: readonly string[], triggerId: string): string {
  return bucketOwner(members.map((id) => ({ id, handlers: null })), triggerBucket(triggerId), () => true);
}

/** The rendezvous score of a member for a key (an ownership bucket's number): {@link hash32} of both. */
export function rendezvousScore(member: string, key: string): number {
  return hash32(member, key);
}
