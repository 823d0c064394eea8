/**
 * `createMongoBackend()`: the three MongoDB stores over one database, plus index setup and a
 * clock-skew probe.
 */
import type { Db, MongoClient } from 'mongodb';
import { InvalidArgumentError } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import { toLogger, type LoggerLike } from '../../logger-adapter.js';
import type { BulkUpdateMode } from './batches.js';
import type { ClaimMarkerMode } from './claims.js';
import type { IdPushdownMode } from './id-pushdown.js';
import { measureClockOffset } from './clock.js';
import { collectionNames, DEFAULT_COLLECTION_PREFIX } from './documents.js';
import { ensureIndexes, type IndexReport } from './indexes.js';
import { MongoJobStore } from './job-store.js';
import { MongoLockManager } from './lock-manager.js';
import { MongoTriggerStore } from './trigger-store.js';

/** Where the backend's collections live: a `Db`, or a client and a database name. */
export type MongoBackendTarget = { db: Db } | { client: MongoClient; dbName: string };

/** Options of `createMongoBackend()`. */
export type MongoBackendOptions = MongoBackendTarget & {
  /**
   * Prefix of every collection name.
   * @default 'scheduler_'
   * @example collectionPrefix: 'billing_scheduler_'
   */
  collectionPrefix?: string;
  /**
   * Days a final job is kept. Used for the TTL index on `jobs.finishedAt` where the server
   * supports one; pass the scheduler the same value so its `purge()` agrees.
   * @default 90
   */
  jobRetentionDays?: number;
  /**
   * Where `ensureIndexes()` reports what it could not create.
   * @default silentLogger
   */
  logger?: Logger | LoggerLike;
  /**
   * Guard job claims and lock take-overs with claim markers. `'auto'`: only when the server is
   * FerretDB, whose single-document updates are not atomic (see docs/mongodb.md).
   * @default 'auto'
   */
  claimMarkers?: ClaimMarkerMode;
  /**
   * Send the slot claims and job writes of a batch as one command each. `'auto'`: not when the
   * server is FerretDB, whose PostgreSQL backend can hang on a command of many statements; there
   * each goes as a command of its own (see docs/mongodb.md).
   * @default 'auto'
   */
  bulkUpdates?: BulkUpdateMode;
  /**
   * Whether the server finds a filter of `_id` plus conditions by `_id` (MongoDB does, by its
   * index). Decides how the stores write on a server without bulk updates or atomic updates.
   * `'auto'`: `true` on MongoDB, and on FerretDB what its `explain` says: `true` on its PostgreSQL
   * backend, `false` on SQLite (see docs/mongodb.md).
   * @default 'auto'
   */
  idPushdown?: IdPushdownMode;
};

/** What `createMongoBackend()` returns: spread the stores into `new Scheduler({ ...backend })`. */
export interface MongoBackend {
  /** Trigger storage. */
  triggerStore: MongoTriggerStore;
  /** Job storage. */
  jobStore: MongoJobStore;
  /** Named locks. */
  lockManager: MongoLockManager;
  /** Create every index the engine's queries need (idempotent; run at deploy or start-up). */
  ensureIndexes(): Promise<IndexReport>;
  /**
   * Server time minus local time, in ms, from one `hello` round trip (the server's `localTime`
   * against the midpoint of the local clock before and after). Positive: the server is ahead.
   */
  clockOffset(): Promise<number>;
}

/** Build the MongoDB backend. Connects nothing: the caller owns the client and its lifecycle. */
export function createMongoBackend(options: MongoBackendOptions): MongoBackend {
  const db = 'db' in options ? options.db : options.client.db(options.dbName);
  const collectionPrefix = options.collectionPrefix ?? DEFAULT_COLLECTION_PREFIX;
  const names = collectionNames(collectionPrefix);
  const jobRetentionDays = options.jobRetentionDays ?? 90;
  if (typeof jobRetentionDays !== 'number' || !Number.isFinite(jobRetentionDays) || jobRetentionDays <= 0) {
    throw new InvalidArgumentError('jobRetentionDays', 'must be a positive number');
  }
  const logger = options.logger === undefined ? silentLogger : toLogger(options.logger);
  const claimMarkers = options.claimMarkers ?? 'auto';
  const bulkUpdates = options.bulkUpdates ?? 'auto';
  const idPushdown = options.idPushdown ?? 'auto';
  return {
    triggerStore: new MongoTriggerStore(db, { collectionPrefix, bulkUpdates, idPushdown }),
    jobStore: new MongoJobStore(db, { collectionPrefix, claimMarkers, bulkUpdates, idPushdown }),
    lockManager: new MongoLockManager(db, { collectionPrefix, claimMarkers }),
    ensureIndexes: () => ensureIndexes(db, names, jobRetentionDays, logger),
    clockOffset: () => measureClockOffset(db),
  };
}
