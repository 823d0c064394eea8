/**
 * Index definitions of the MongoDB backend: one per engine query (see docs/mongodb.md for which
 * query each serves), plus the two TTL indexes where the server supports them.
 */
import type { CreateIndexesOptions, Db, IndexSpecification } from 'mongodb';
import type { Logger } from '../../logger.js';
import type { CollectionNames } from './documents.js';
import { serverErrorCode } from './guards.js';
import { JOB_KEY_INDEX } from './job-store.js';

/** What `ensureIndexes()` did. */
export interface IndexReport {
  /** Index names that exist after the call, by collection name (the `_id` index left out). */
  indexes: Record<string, string[]>;
  /**
   * Whether both TTL indexes (lock expiry, job retention) exist. `false` where the server refuses
   * TTL indexes (FerretDB v1): then lock documents are only removed by `release()` and old jobs
   * only by the scheduler's periodic `purge()`; correctness does not depend on either.
   */
  ttl: boolean;
}

interface IndexDefinition {
  collection: keyof CollectionNames;
  key: IndexSpecification;
  options: CreateIndexesOptions & { name: string };
  ttl?: boolean;
}

/** Every index of the backend. */
export function indexDefinitions(jobRetentionDays: number): IndexDefinition[] {
  return [
    // findDue: equality on status, range + sort on nextRunAt; handler and the ownership bucket are
    // tested on the index key (an instance's poll reads its own share). Replaces `due` (without
    // the bucket), which `ensureIndexes` drops.
    { collection: 'triggers', key: { status: 1, nextRunAt: 1, handler: 1, bucket: 1 }, options: { name: 'due_owned' } },
    // findByEvent / findDependents / dependencyEdges: most triggers have neither, hence sparse.
    { collection: 'triggers', key: { 'schedule.event': 1 }, options: { name: 'event', sparse: true } },
    { collection: 'triggers', key: { 'schedule.after': 1 }, options: { name: 'after', sparse: true } },
    // listTriggers({ tag }).
    { collection: 'triggers', key: { tags: 1 }, options: { name: 'tags' } },
    // One job per slot / event delivery / upstream job: the exactly-once guard.
    { collection: 'jobs', key: { key: 1 }, options: { name: JOB_KEY_INDEX, unique: true } },
    // claimPending, nextPendingAt, gatedTriggerIds.
    { collection: 'jobs', key: { status: 1, gate: 1, runAt: 1, priority: -1 }, options: { name: 'claim' } },
    // countActive, stats per trigger.
    { collection: 'jobs', key: { triggerId: 1, status: 1 }, options: { name: 'trigger_status' } },
    // listJobs({ triggerId }) newest first, with the id tie-break of the cursor.
    { collection: 'jobs', key: { triggerId: 1, scheduledFor: -1, _id: -1 }, options: { name: 'trigger_scheduled' } },
    // listJobs() newest first.
    { collection: 'jobs', key: { scheduledFor: -1, _id: -1 }, options: { name: 'scheduled' } },
    // findExpiredLeases.
    { collection: 'jobs', key: { status: 1, 'lease.expiresAt': 1 }, options: { name: 'lease_expiry' } },
    // findUnfiredDependents, purge.
    { collection: 'jobs', key: { status: 1, dependentsFired: 1, finishedAt: 1 }, options: { name: 'finished' } },
    // TTL: expired locks vanish (queries never rely on it).
    { collection: 'locks', key: { expiresAt: 1 }, options: { name: 'ttl_expires', expireAfterSeconds: 0 }, ttl: true },
    // TTL: final jobs go after the retention period (pending/running jobs have finishedAt null).
    {
      collection: 'jobs',
      key: { finishedAt: 1 },
      options: { name: 'ttl_finished', expireAfterSeconds: Math.round(jobRetentionDays * 86_400) },
      ttl: true,
    },
  ];
}

/** Indexes of earlier versions that a current one replaces: dropped by `ensureIndexes`. */
const REPLACED_INDEXES: ReadonlyArray<{ collection: keyof CollectionNames; name: string }> = [{ collection: 'triggers', name: 'due' }];

// Server error codes met while creating indexes.
const NOT_IMPLEMENTED = 238; // FerretDB answers this code when it refuses the expireAfterSeconds index option
const INDEX_OPTIONS_CONFLICT = 85; // same name or key, other options (e.g. a new retention period)
const INDEX_NOT_FOUND = 27;
const NAMESPACE_NOT_FOUND = 26;

/**
 * Create every index, idempotently, and drop the ones a current index replaces. TTL indexes the
 * server refuses are logged and reported as `ttl: false`; a retention period changed since the
 * last run is applied with `collMod`.
 */
export async function ensureIndexes(db: Db, names: CollectionNames, jobRetentionDays: number, logger: Logger): Promise<IndexReport> {
  const indexes: Record<string, string[]> = { [names.triggers]: [], [names.jobs]: [], [names.locks]: [], [names.counters]: [] };
  let ttl = true;
  for (const definition of indexDefinitions(jobRetentionDays)) {
    const collection = names[definition.collection];
    try {
      await db.collection(collection).createIndex(definition.key, definition.options);
      indexes[collection]!.push(definition.options.name);
    } catch (error) {
      const code = serverErrorCode(error);
      if (definition.ttl && code === NOT_IMPLEMENTED) {
        ttl = false;
        logger.warn(
          { collection, index: definition.options.name, code, error: (error as Error).message },
          'the server does not support TTL indexes; expired locks and old jobs are removed by release() and purge() instead',
        );
        continue;
      }
      if (definition.ttl && code === INDEX_OPTIONS_CONFLICT && definition.options.expireAfterSeconds !== undefined) {
        await db.command({ collMod: collection, index: { name: definition.options.name, expireAfterSeconds: definition.options.expireAfterSeconds } });
        logger.info({ collection, index: definition.options.name, expireAfterSeconds: definition.options.expireAfterSeconds }, 'updated the TTL of an index');
        indexes[collection]!.push(definition.options.name);
        continue;
      }
      throw error;
    }
  }
  for (const { collection, name } of REPLACED_INDEXES) {
    try {
      await db.collection(names[collection]).dropIndex(name);
      logger.info({ collection: names[collection], index: name }, 'dropped an index a newer one replaces');
    } catch (error) {
      const code = serverErrorCode(error);
      // Never made (a new database), or dropped by an earlier call.
      if (code !== INDEX_NOT_FOUND && code !== NAMESPACE_NOT_FOUND) throw error;
    }
  }
  return { indexes, ttl };
}
