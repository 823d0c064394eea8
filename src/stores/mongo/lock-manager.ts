/**
 * MongoDB `LockManager`: one document per held lock in `<prefix>locks`
 * (`{ _id: key, owner, token, expiresAt }`) and one token counter per key in `<prefix>counters`
 * (`{ _id: 'lock:<key>', seq }`), which is never deleted, so tokens keep growing after a lock
 * document was released or removed by the TTL monitor.
 *
 * Expiry is always checked in the query (`expiresAt <= now` to take over, `> now` to renew), so
 * correctness never waits for the TTL monitor; the TTL index only keeps the collection small.
 *
 * Why acquiring is more than "draw a token, upsert the lock": two acquirers can draw tokens 5 and 6
 * and then reach the lock in the opposite order. Two rules keep every granted token larger than
 * every token granted before it:
 *  - taking over an existing document requires its token to be smaller than ours, so a late,
 *    smaller token cannot follow a larger one;
 *  - when the document did not exist (first use, or it was released/expired away), an older grant
 *    may have carried a larger token than ours. If the counter moved past our token meanwhile we
 *    draw a fresh one and stamp it on the lock we now hold: while we hold it nobody else is
 *    granted it, and the fresh token is larger than anything drawn before.
 *
 * On FerretDB, where a conditional update can have several winners, taking over an expired lock
 * also records a claim marker named after the token it replaced (`claims.ts`): racers replacing the
 * same token collide, and only the first keeps the lock. Creating the document needs no marker,
 * because inserts into a unique index are exclusive there too.
 */
import type { Collection, Db, ModifyResult } from 'mongodb';
import { StoreError } from '../../errors.js';
import type { InstanceLease, InstanceLeases, Lease, LockManager } from '../../ports.js';
import { ClaimMarkers, type ClaimMarkerMode } from './claims.js';
import { collectionNames, openCollection, type ClaimMarkerDocument, type CounterDocument, type LockDocument } from './documents.js';
import { date, isDuplicateKeyError, num, str } from './guards.js';
import { MongoInstanceLeases } from './instance-leases.js';

/** Options of `new MongoLockManager()`. */
export interface MongoLockManagerOptions {
  /**
   * Prefix of the collection names: `<prefix>locks` and `<prefix>counters`.
   * @default 'scheduler_'
   */
  collectionPrefix?: string;
  /**
   * Guard lock take-overs with claim markers in `<prefix>claims`. `'auto'`: only on FerretDB,
   * whose updates are not atomic. Not needed on MongoDB.
   * @default 'auto'
   */
  claimMarkers?: ClaimMarkerMode;
}

// Concurrent upserts of one new counter can make all but one fail with a duplicate key (on MongoDB
// and FerretDB alike); the document exists afterwards, so a retry increments it.
const COUNTER_UPSERT_ATTEMPTS = 5;

/** Expiring named locks with growing fencing tokens, in MongoDB. */
export class MongoLockManager implements LockManager, InstanceLeases {
  readonly #locks: Collection<LockDocument>;
  readonly #counters: Collection<CounterDocument>;
  readonly #markers: ClaimMarkers;
  readonly #instances: MongoInstanceLeases;

  /** Use `<prefix>locks`, `<prefix>counters` and `<prefix>instances` (and, on FerretDB, `<prefix>claims`) in `db`. */
  constructor(db: Db, options: MongoLockManagerOptions = {}) {
    const names = collectionNames(options.collectionPrefix);
    this.#instances = new MongoInstanceLeases(db, names.instances);
    this.#locks = openCollection<LockDocument>(db, names.locks);
    this.#counters = openCollection<CounterDocument>(db, names.counters);
    this.#markers = new ClaimMarkers(db, openCollection<ClaimMarkerDocument>(db, names.claims), options.claimMarkers ?? 'auto');
  }

  /** The lock collection (for inspection and tests). */
  get collection(): Collection<LockDocument> {
    return this.#locks;
  }

  /** The instance lease collection (for inspection and tests). */
  get instanceCollection(): MongoInstanceLeases['collection'] {
    return this.#instances.collection;
  }

  /** The token counter collection (for inspection and tests). */
  get counterCollection(): Collection<CounterDocument> {
    return this.#counters;
  }

  /** @inheritdoc */
  async acquire(key: string, owner: string, ttlMs: number, now: Date): Promise<Lease | null> {
    str(key, 'key');
    str(owner, 'owner');
    const expiresAt = new Date(date(now, 'now').getTime() + num(ttlMs, 'ttlMs'));
    const markers = await this.#markers.enabled();
    const token = await this.#drawToken(key);
    let result: ModifyResult<LockDocument>;
    try {
      // 'before': a take-over needs the token it replaced (for the claim marker); the new state
      // is exactly what we set.
      result = await this.#locks.findOneAndUpdate(
        { _id: key, expiresAt: { $lte: now }, token: { $lt: token } },
        { $set: { owner, token, expiresAt } },
        { upsert: true, returnDocument: 'before', includeResultMetadata: true },
      );
    } catch (error) {
      // The document exists and did not match: held by someone (or taken with a newer token).
      if (isDuplicateKeyError(error)) return null;
      throw error;
    }
    const lease: Lease = { key, owner, token, expiresAt };
    const replaced = result.value;
    if (replaced !== null) {
      if (markers && !(await this.#markers.record(`lock:${key}:${replaced.token}`, now))) return null;
      return lease;
    }
    if (result.lastErrorObject?.['updatedExisting'] === true) throw new StoreError(`lock "${key}": the update returned no previous document`);
    // We created the document: check that no token was drawn since ours (see the file comment).
    const counter = await this.#counters.findOne({ _id: counterId(key) });
    if (counter?.seq === token) return lease;
    const fresh = await this.#drawToken(key);
    const restamped = await this.#locks.findOneAndUpdate({ _id: key, token }, { $set: { token: fresh } }, { returnDocument: 'after' });
    return restamped ? toLease(restamped) : null;
  }

  /** @inheritdoc */
  async renew(lease: Lease, ttlMs: number, now: Date): Promise<Lease | null> {
    const doc = await this.#locks.findOneAndUpdate(
      { _id: str(lease.key, 'lease.key'), token: num(lease.token, 'lease.token'), expiresAt: { $gt: date(now, 'now') } },
      { $set: { expiresAt: new Date(now.getTime() + num(ttlMs, 'ttlMs')) } },
      { returnDocument: 'after' },
    );
    return doc ? toLease(doc) : null;
  }

  /**
   * @inheritdoc
   *
   * One `updateMany` over an `$or` of `{ _id, token }` pairs: each branch is answered from the
   * `_id` index, and a lock taken over meanwhile (another token) or run out is left alone.
   */
  async renewMany(leases: readonly Lease[], ttlMs: number, now: Date): Promise<number> {
    if (leases.length === 0) return 0;
    const pairs = leases.map((lease, i) => ({ _id: str(lease.key, `leases[${i}].key`), token: num(lease.token, `leases[${i}].token`) }));
    const result = await this.#locks.updateMany(
      { $or: pairs, expiresAt: { $gt: date(now, 'now') } },
      { $set: { expiresAt: new Date(now.getTime() + num(ttlMs, 'ttlMs')) } },
    );
    return result.matchedCount;
  }

  /** @inheritdoc */
  async release(lease: Lease): Promise<boolean> {
    const result = await this.#locks.deleteOne({ _id: str(lease.key, 'lease.key'), token: num(lease.token, 'lease.token') });
    return result.deletedCount === 1;
  }

  /**
   * @inheritdoc
   *
   * A range on `_id` (the prefix up to the highest code unit after it), so MongoDB answers from the
   * `_id` index; expiry is checked in the query, not left to the TTL monitor.
   */
  async holders(prefix: string, now: Date): Promise<string[]> {
    const from = str(prefix, 'prefix');
    const docs = await this.#locks
      .find({ _id: { $gte: from, $lt: `${from}\uffff` }, expiresAt: { $gt: date(now, 'now') } }, { projection: { owner: 1 } })
      .toArray();
    return [...new Set(docs.map((doc) => doc.owner))];
  }

  /** Next token of a key: `$inc` upsert on its counter. A drawn token that goes unused is harmless. */
  async #drawToken(key: string): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        const doc = await this.#counters.findOneAndUpdate(
          { _id: counterId(key) },
          { $inc: { seq: 1 } },
          { upsert: true, returnDocument: 'after' },
        );
        if (!doc || typeof doc.seq !== 'number') throw new StoreError(`lock "${key}": the token counter returned no value`);
        return doc.seq;
      } catch (error) {
        if (!isDuplicateKeyError(error) || attempt >= COUNTER_UPSERT_ATTEMPTS) throw error;
      }
    }
  }

  /** @inheritdoc */
  registerInstance(lease: InstanceLease): Promise<InstanceLease | null> {
    return this.#instances.registerInstance(lease);
  }

  /** @inheritdoc */
  renewInstance(lease: InstanceLease, expiresAt: Date): Promise<{ cancels: string[] } | null> {
    return this.#instances.renewInstance(lease, expiresAt);
  }

  /** @inheritdoc */
  liveInstances(at: Date): Promise<InstanceLease[]> {
    return this.#instances.liveInstances(at);
  }

  /** @inheritdoc */
  fenceInstance(instanceId: string, expiredBefore: Date): Promise<boolean> {
    return this.#instances.fenceInstance(instanceId, expiredBefore);
  }

  /** @inheritdoc */
  requestCancel(instanceId: string, jobId: string): Promise<boolean> {
    return this.#instances.requestCancel(instanceId, jobId);
  }

  /** @inheritdoc */
  releaseInstance(lease: InstanceLease): Promise<boolean> {
    return this.#instances.releaseInstance(lease);
  }
}

function counterId(key: string): string {
  return `lock:${key}`;
}

function toLease(doc: LockDocument): Lease {
  return { key: doc._id, owner: doc.owner, token: doc.token, expiresAt: doc.expiresAt };
}
