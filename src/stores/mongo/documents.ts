/**
 * Document shapes of the MongoDB backend and the collections that hold them.
 *
 * Records keep their public shape in the database, with two changes at the boundary: `id` is
 * stored as `_id`, and a job's lease is stored without its token, because the token *is* the job's
 * `fence` (see `job-store.ts` for why).
 */
import type { Collection, Db } from 'mongodb';
import { InvalidArgumentError } from '../../errors.js';
import type { Job, Trigger } from '../../types.js';

/**
 * A trigger as stored in `<prefix>triggers`. `bucket` is its ownership bucket
 * (util/ownership-bucket.ts), written with every insert and replacement so that a poll can ask for
 * its own share; documents written before it existed have none (a query for `null` matches them),
 * and every poll reads those.
 */
export type TriggerDocument = Omit<Trigger, 'id'> & {
  _id: string;
  /**
   * The id's ownership bucket, `triggerBucket(_id)`.
   * @default absent (a document written before buckets existed; queries for `null` match it)
   */
  bucket?: number | null;
};

/** A job's lease as stored: the fencing token is the job's `fence` field. */
export interface StoredJobLease {
  /** Instance id of the holder. */
  owner: string;
  /** The lease is void after this instant unless renewed. */
  expiresAt: Date;
}

/**
 * A job as stored in `<prefix>jobs`. `writeStamp` is the mark of the last batched write that
 * matched it (`batches.ts`): how a bulk write's caller learns which of its writes matched.
 */
export type JobDocument = Omit<Job, 'id' | 'lease'> & { _id: string; lease: StoredJobLease | null; writeStamp?: string };

/** A held (or expired, not yet removed) named lock in `<prefix>locks`. */
export interface LockDocument {
  /** Lock name. */
  _id: string;
  /** Holder. */
  owner: string;
  /** Fencing token of the current (or last) holder. */
  token: number;
  /** Void after this instant unless renewed. */
  expiresAt: Date;
}

/** An instance's liveness record in `<prefix>instances` (see `InstanceLeases`). */
export interface InstanceDocument {
  /** Instance id. */
  _id: string;
  /** Tag of the current registration. */
  epoch: string;
  /** The instance counts as alive until this instant unless renewed. */
  expiresAt: Date;
  /** Jobs whose cancel other instances asked for since the last renewal. */
  cancels: string[];
}

/** A token counter in `<prefix>counters` (`_id` is `lock:<key>`); never deleted, so tokens only grow. */
export interface CounterDocument {
  /** `lock:<key>`. */
  _id: string;
  /** Last token drawn. */
  seq: number;
}

/**
 * A claim marker in `<prefix>claims`, written only on servers whose single-document updates are not
 * atomic (FerretDB v1): of several instances that all "won" the same compare-and-set, the one
 * whose insert of this marker succeeds keeps the claim. `_id` is `job:<jobId>:<fence>` or
 * `lock:<key>:<replaced token>`.
 */
export interface ClaimMarkerDocument {
  /** What was claimed, at which generation. */
  _id: string;
  /** When (the caller's `now`); `purge()` removes markers older than its cut-off. */
  at: Date;
}

/**
 * A signal in `<prefix>signals`, written only where pending hints are on (FerretDB v1): `_id`
 * `pending` is stamped with a fresh token by every job write that can change what the pending
 * queries answer (see `pending-hints.ts`).
 */
export interface SignalDocument {
  /** Which signal (`pending`). */
  _id: string;
  /** Random, new on every stamp. */
  token: string;
  /** When it was last stamped (for people reading the collection). */
  at: Date;
}

/** Collection names derived from a prefix. */
export interface CollectionNames {
  /** Triggers. */
  triggers: string;
  /** Jobs. */
  jobs: string;
  /** Named locks. */
  locks: string;
  /** Lock token counters. */
  counters: string;
  /** Claim markers (only used on servers without atomic updates). */
  claims: string;
  /** Signals of pending hints (only used on servers that scan for filtered queries). */
  signals: string;
  /** Liveness records of instances. */
  instances: string;
}

/** Default prefix of every collection name. */
export const DEFAULT_COLLECTION_PREFIX = 'scheduler_';

/** Names of the backend's collections for a prefix (validated: MongoDB refuses `$` and NUL in names). */
export function collectionNames(prefix: string = DEFAULT_COLLECTION_PREFIX): CollectionNames {
  if (typeof prefix !== 'string' || prefix.includes('$') || prefix.includes('\0') || prefix.startsWith('system.')) {
    throw new InvalidArgumentError('collectionPrefix', 'must be a string without "$" or NUL that does not start with "system."');
  }
  return {
    triggers: `${prefix}triggers`,
    jobs: `${prefix}jobs`,
    locks: `${prefix}locks`,
    counters: `${prefix}counters`,
    claims: `${prefix}claims`,
    signals: `${prefix}signals`,
    instances: `${prefix}instances`,
  };
}

/**
 * Open a collection of the backend. `ignoreUndefined` because the BSON serializer otherwise writes
 * an `undefined` optional field (e.g. `retry.backoff: undefined`) as `null`, and it would come back
 * as a field the record never had.
 */
export function openCollection<T extends { _id: string }>(db: Db, name: string): Collection<T> {
  return db.collection<T>(name, { ignoreUndefined: true });
}
