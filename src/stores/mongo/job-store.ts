/**
 * MongoDB `JobStore`: one document per job in `<prefix>jobs`, `_id` = job id, unique index on `key`.
 *
 * The unique `key` index is what makes a slot produce one job even when two instances both believe
 * they won the slot claim (possible on FerretDB, whose updates are not atomic): the second insert
 * fails with a duplicate key and `insert` returns `null`. The store creates that index itself
 * before its first insert, so this guard never depends on someone having run `ensureIndexes()`.
 *
 * Lease token = fence. A classic update cannot set a field to the value another field is being
 * incremented to, and FerretDB refuses pipeline updates, so `claimPending` raises `fence` with
 * `$inc` and stores the lease as `{ owner, expiresAt }`; the public `lease.token` is filled in from
 * `fence` when the document is read. Fencing conditions (`leaseToken`) therefore test
 * `{ fence: token, lease: { $ne: null } }`, which is exactly "the lease with this token is held".
 *
 * On FerretDB, where a conditional update can have several winners, `claimPending` also records a
 * claim marker (`claims.ts`) so that only one of them runs the job. And since FerretDB scans the
 * whole collection for every filtered query, the per-poll pending queries are answered from a
 * cache there that every pending-affecting write invalidates (`pending-hints.ts`).
 */
import type { Collection, Db, Filter, UpdateFilter } from 'mongodb';
import { InvalidArgumentError, StoreError } from '../../errors.js';
import type { ClaimPendingOptions, ExpiredLeaseFilter, HandlerCount, JobCondition, JobPatch, JobStatsSummary, JobStore, JobWrite } from '../../ports.js';
import { FINAL_JOB_STATUSES, type Job, type JobHistoryEntry, type JobQuery, type JobStatus, type Page } from '../../types.js';
import { decodeTimeIdCursor, jobPage, pageLimit } from '../cursor.js';
import { bulkUpdatesProbe, writeJobsInBulk, type BulkUpdateMode } from './batches.js';
import { idPushdownProbe, type IdPushdownMode } from './id-pushdown.js';
import { jobStats } from './job-stats.js';
import { ClaimMarkers, type ClaimMarkerMode } from './claims.js';
import { measureClockOffset } from './clock.js';
import { collectionNames, openCollection, type ClaimMarkerDocument, type JobDocument, type SignalDocument } from './documents.js';
import { assertDocumentSize, date, duplicateKeyPositions, isDuplicateKeyError, num, str, strings } from './guards.js';
import { conditionFilter, conditionHolds, historyEntry, mayChangePending, mayChangeUnfired, owesDependents, patchToSet } from './job-writes.js';
import { byHandler, documentToJob, jobToDocument } from './mapping.js';
import { PendingHints, type PendingHintMode } from './pending-hints.js';

/** Options of `new MongoJobStore()`. */
export interface MongoJobStoreOptions {
  /**
   * Prefix of the collection name: the collection is `<prefix>jobs`.
   * @default 'scheduler_'
   */
  collectionPrefix?: string;
  /**
   * Most finished jobs per trigger that `stats()` reads to compute duration percentiles (the most
   * recent ones). Counts are always exact; percentiles of a trigger with more finished jobs than
   * this describe its most recent runs.
   * @default 10000
   */
  statsSampleSize?: number;
  /**
   * Guard job claims with claim markers in `<prefix>claims`. `'auto'`: only on FerretDB, whose
   * updates are not atomic. Not needed on MongoDB.
   * @default 'auto'
   */
  claimMarkers?: ClaimMarkerMode;
  /**
   * Answer the per-poll pending queries (`nextPendingAt`, `gatedTriggerIds`) from a cache that
   * every write able to change them invalidates through a signal document in `<prefix>signals`.
   * `'auto'`: only on FerretDB, which scans the whole collection for those queries.
   * @default 'auto'
   */
  pendingHints?: PendingHintMode;
  /**
   * Longest use of a cached pending answer, in ms: covers a writer that died before stamping the signal.
   * @default 5000
   */
  pendingHintMaxAgeMs?: number;
  /**
   * Send the writes of a batch as one command. `'auto'`: not on FerretDB (see docs/mongodb.md).
   * @default 'auto'
   */
  bulkUpdates?: BulkUpdateMode;
  /**
   * Whether the server finds `{ _id, ...conditions }` by `_id`. In the claim-marker mode, `false`
   * checks a write's conditions on the document read by `_id` and writes by bare `_id` (two cheap
   * commands instead of one that reads the whole collection). `'auto'`: `true` on MongoDB, and on
   * FerretDB what its `explain` says (see docs/mongodb.md).
   * @default 'auto'
   */
  idPushdown?: IdPushdownMode;
}

/** Name of the unique index on `key` (shared with `ensureIndexes`). */
export const JOB_KEY_INDEX = 'key_unique';

/** MongoDB's (and FerretDB's) code for a `$set` into a path that cannot hold the field (e.g. inside `null`). */
const PATH_NOT_VIABLE = 28;
/** Most unfired-dependent jobs a pending-hints cache keeps (a bigger answer is asked for again each time). */
const UNFIRED_CACHE_MAX = 1000;


/** Jobs in a MongoDB collection. */
export class MongoJobStore implements JobStore {
  readonly #db: Db;
  readonly #jobs: Collection<JobDocument>;
  readonly #sampleSize: number;
  readonly #markers: ClaimMarkers;
  readonly #hints: PendingHints;
  readonly #bulk: () => Promise<boolean>;
  readonly #idPushdown: () => Promise<boolean>;
  #keyIndex: Promise<unknown> | null = null;

  /** Use `<prefix>jobs` in `db`. Call the backend's `ensureIndexes()` once for the query indexes. */
  constructor(db: Db, options: MongoJobStoreOptions = {}) {
    this.#db = db;
    const names = collectionNames(options.collectionPrefix);
    this.#jobs = openCollection<JobDocument>(db, names.jobs);
    this.#markers = new ClaimMarkers(db, openCollection<ClaimMarkerDocument>(db, names.claims), options.claimMarkers ?? 'auto');
    const hintMode = options.pendingHints ?? 'auto';
    // 'auto' follows the server probe the claim markers make (FerretDB or not), not their own setting.
    const hintsEnabled = typeof hintMode === 'boolean' ? () => Promise.resolve(hintMode) : () => this.#markers.isFerretDb();
    this.#hints = new PendingHints(openCollection<SignalDocument>(db, names.signals), hintsEnabled, options.pendingHintMaxAgeMs);
    this.#bulk = bulkUpdatesProbe(db, options.bulkUpdates ?? 'auto');
    this.#idPushdown = idPushdownProbe(db, this.#jobs, options.idPushdown ?? 'auto');
    const sample = options.statsSampleSize ?? 10_000;
    if (!Number.isInteger(sample) || sample < 1) throw new InvalidArgumentError('statsSampleSize', 'must be a positive integer');
    this.#sampleSize = sample;
  }

  /** The underlying collection (for inspection and tests). */
  get collection(): Collection<JobDocument> {
    return this.#jobs;
  }

  /** @inheritdoc */
  async insert(job: Job): Promise<Job | null> {
    str(job.id, 'job.id');
    str(job.key, 'job.key');
    const doc = jobToDocument(job);
    await assertDocumentSize(doc, `job "${job.id}"`);
    await this.#ensureKeyIndex();
    try {
      await this.#jobs.insertOne(doc);
    } catch (error) {
      // Same key (or same id): another instance made this job first.
      if (isDuplicateKeyError(error)) return null;
      throw error;
    }
    await this.#stampInserted([doc]);
    // What was written is exactly `doc`; rebuild from a copy rather than read it back.
    return documentToJob(structuredClone(doc));
  }

  /** @inheritdoc One unordered `insertMany` for the whole batch: one round trip. */
  async insertMany(jobs: Job[]): Promise<Array<Job | null>> {
    if (jobs.length === 0) return [];
    const docs: JobDocument[] = [];
    for (const job of jobs) {
      str(job.id, 'job.id');
      str(job.key, 'job.key');
      const doc = jobToDocument(job);
      await assertDocumentSize(doc, `job "${job.id}"`);
      docs.push(doc);
    }
    await this.#ensureKeyIndex();
    let taken: Set<number> = new Set();
    try {
      await this.#jobs.insertMany(docs, { ordered: false });
    } catch (error) {
      // Unordered: every other document was written; only those whose key was taken were not.
      const positions = duplicateKeyPositions(error);
      if (!positions) throw error;
      taken = positions;
    }
    await this.#stampInserted(docs.filter((_, i) => !taken.has(i)));
    return docs.map((doc, i) => (taken.has(i) ? null : documentToJob(structuredClone(doc))));
  }

  /** @inheritdoc */
  async get(id: string): Promise<Job | null> {
    const doc = await this.#jobs.findOne({ _id: str(id, 'id') });
    return doc ? documentToJob(doc) : null;
  }

  /** @inheritdoc */
  async getByKey(key: string): Promise<Job | null> {
    const doc = await this.#jobs.findOne({ key: str(key, 'key') });
    return doc ? documentToJob(doc) : null;
  }

  /** @inheritdoc */
  async list(query: JobQuery): Promise<Page<Job>> {
    const limit = pageLimit(query.limit);
    const and: Array<Filter<JobDocument>> = [];
    if (query.triggerId !== undefined) and.push({ triggerId: str(query.triggerId, 'triggerId') });
    if (query.status !== undefined) {
      const statuses = Array.isArray(query.status) ? query.status : [query.status];
      and.push({ status: { $in: strings(statuses, 'status') as JobStatus[] } });
    }
    if (query.from !== undefined) and.push({ scheduledFor: { $gte: queryDate(query.from, 'from') } });
    if (query.to !== undefined) and.push({ scheduledFor: { $lt: queryDate(query.to, 'to') } });
    if (query.cursor !== undefined) {
      const [ms, id] = decodeTimeIdCursor(str(query.cursor, 'cursor'));
      const at = new Date(ms);
      // Strictly after the previous page's last item in (scheduledFor desc, _id desc) order.
      and.push({ $or: [{ scheduledFor: { $lt: at } }, { scheduledFor: at, _id: { $lt: id } }] });
    }
    const filter: Filter<JobDocument> = and.length === 0 ? {} : and.length === 1 ? and[0]! : { $and: and };
    // Left-out fields are projected out: never read from disk nor sent over the wire. The mapping
    // reads a missing payload or result as null and a missing history as [].
    // Only the known names: a projection key is a field path the caller must not choose.
    const omit = (query.omit ?? []).filter((field) => field === 'payload' || field === 'result' || field === 'history');
    const projection = omit.length === 0 ? {} : { projection: Object.fromEntries(omit.map((field) => [field, 0])) };
    const docs = await this.#jobs.find(filter, projection).sort({ scheduledFor: -1, _id: -1 }).limit(limit + 1).toArray();
    return jobPage(docs.slice(0, limit).map(documentToJob), docs.length > limit);
  }

  /** @inheritdoc */
  async update(id: string, condition: JobCondition, patch: JobPatch, history?: JobHistoryEntry[]): Promise<Job | null> {
    const filter = conditionFilter(str(id, 'id'), condition);
    const set = patchToSet(patch);
    await assertDocumentSize(set, `update of job "${id}"`);
    const update: UpdateFilter<JobDocument> = {};
    if (Object.keys(set).length > 0) update.$set = set;
    if (history !== undefined && history.length > 0) {
      update.$push = { history: { $each: history.map(historyEntry) } };
    }
    if (update.$set === undefined && update.$push === undefined) {
      // Nothing to write (MongoDB refuses an empty update): the answer is whether the condition holds.
      const doc = await this.#jobs.findOne(filter);
      return doc ? documentToJob(doc) : null;
    }
    const doc = await this.#conditionalUpdate(filter, (current) => conditionHolds(current, condition), update);
    if (doc && mayChangePending(condition, patch)) await this.#hints.changed('pending');
    if (doc && mayChangeUnfired(patch)) await this.#hints.changed('unfired');
    return doc ? documentToJob(doc) : null;
  }

  /**
   * @inheritdoc One unordered `bulkWrite` for the whole batch, each write fenced by its own
   * conditions (on FerretDB one batched read first, then one command per write); see `batches.ts`.
   */
  async writeMany(writes: JobWrite[]): Promise<boolean[]> {
    const written = await writeJobsInBulk(this.#jobs, writes, await this.#bulk(), await this.#readsFirst());
    const landed = writes.filter((_, i) => written[i]);
    if (landed.some((w) => mayChangePending(w.condition, w.patch))) await this.#hints.changed('pending');
    if (landed.some((w) => mayChangeUnfired(w.patch))) await this.#hints.changed('unfired');
    return written;
  }

  /**
   * `findOneAndUpdate(filter, update)`, where `filter` is `{ _id, ...conditions }`, for `update()`
   * (above all a job's completion) and `renewLease()`. On MongoDB: one atomic write. FerretDB on
   * SQLite finds a document by `_id` cheaply only for a bare `{ _id }` filter and reads the whole
   * collection for any other, and its conditional writes are not atomic anyway: there the condition
   * is checked on the document read by `_id` and the write is by `_id` alone. Two cheap round trips
   * instead of one full scan, and no weaker than the server already is (`#readsFirst`).
   */
  async #conditionalUpdate(
    filter: Filter<JobDocument> & { _id: string },
    holds: (current: JobDocument) => boolean,
    update: UpdateFilter<JobDocument>,
  ): Promise<JobDocument | null> {
    if (!(await this.#readsFirst())) {
      return this.#jobs.findOneAndUpdate(filter, update, { returnDocument: 'after' });
    }
    const current = await this.#jobs.findOne({ _id: filter._id });
    if (!current || !holds(current)) return null;
    return this.#jobs.findOneAndUpdate({ _id: filter._id }, update, { returnDocument: 'after' });
  }

  /**
   * Whether a conditional write reads its document by bare `_id` first: in the claim-marker mode
   * (the server's updates are not atomic anyway) on a server that does not find a conditional
   * `_id` filter by `_id` (FerretDB on SQLite). Never on MongoDB unless both are forced.
   */
  async #readsFirst(): Promise<boolean> {
    return (await this.#markers.enabled()) && !(await this.#idPushdown());
  }

  /** @inheritdoc */
  async claimPending(now: Date, options: ClaimPendingOptions): Promise<Job | null> {
    const handlers = strings(options.handlers, 'handlers');
    if (handlers.length === 0) return null;
    const gate = options.gate === null ? null : str(options.gate, 'gate');
    const owner = str(options.owner, 'owner');
    const lease = { owner, expiresAt: date(options.leaseExpiresAt, 'leaseExpiresAt') };
    const markers = await this.#markers.enabled();
    const doc = await this.#jobs.findOneAndUpdate(
      { status: 'pending', gate, handler: { $in: handlers }, runAt: { $lte: date(now, 'now') } },
      {
        $set: { status: 'running', gate: null, instanceId: owner, lease },
        // The new fence is the lease's token (see the file comment).
        $inc: { fence: 1 },
        $push: { history: historyEntry(options.history) },
      },
      // Earliest due first, then highest priority, as the memory store orders its heap.
      { sort: { runAt: 1, priority: -1 }, returnDocument: 'after' },
    );
    if (!doc) {
      // Whatever a cached answer said was due is not (claimed elsewhere): ask the server next time.
      this.#hints.forget('pending');
      return null;
    }
    // It left `pending`: the other instances' cached answers may point at it.
    await this.#hints.changed('pending');
    // Racers that all "won" computed the same new fence, so they collide on this marker. A losing
    // racer's write may still be the one stored (its owner name in `lease.owner`); the token is the
    // same, so fencing holds, and the winner's start write sets `instanceId`. Undoing it would take
    // another whole-document write, which on FerretDB could itself overwrite the winner's.
    if (markers && !(await this.#markers.record(`job:${doc._id}:${doc.fence}`, now))) return null;
    return documentToJob(doc);
  }

  /** @inheritdoc */
  async gatedTriggerIds(now: Date, handlers: string[], limit: number): Promise<string[]> {
    const wanted = strings(handlers, 'handlers');
    const max = num(limit, 'limit');
    if (wanted.length === 0 || max < 1) return [];
    const at = date(now, 'now');
    if (await this.#hints.enabled()) {
      // Cached is every gated job's trigger and due time (not only those due now): `now` moves on
      // between polls, the set of gated jobs only changes with a write that stamps the signal.
      const gated = await this.#hints.answer('pending', `gated:${wanted.join('\0')}`, () =>
        this.#jobs.find({ status: 'pending', gate: { $ne: null }, handler: { $in: wanted } }, { projection: { _id: 0, triggerId: 1, runAt: 1 } }).toArray(),
      );
      const due = new Set<string>();
      for (const job of gated) if (job.runAt instanceof Date && job.runAt <= at && typeof job.triggerId === 'string') due.add(job.triggerId);
      return [...due].slice(0, Math.floor(max));
    }
    const ids = await this.#jobs.distinct('triggerId', {
      status: 'pending',
      gate: { $ne: null },
      handler: { $in: wanted },
      runAt: { $lte: at },
    });
    return ids.filter((id): id is string => typeof id === 'string').slice(0, Math.floor(max));
  }

  /** @inheritdoc */
  async nextPendingAt(handlers: string[]): Promise<Date | null> {
    const wanted = strings(handlers, 'handlers');
    if (wanted.length === 0) return null;
    const runAt = await this.#hints.answer('pending', `next:${wanted.join('\0')}`, async () => {
      const doc = await this.#jobs.findOne({ status: 'pending', gate: null, handler: { $in: wanted } }, { sort: { runAt: 1 }, projection: { runAt: 1 } });
      return doc?.runAt instanceof Date ? doc.runAt : null;
    });
    return runAt === null ? null : new Date(runAt);
  }

  /** @inheritdoc */
  async renewLease(id: string, token: number, expiresAt: Date): Promise<Job | null> {
    const condition: JobCondition = { status: ['running'], leaseToken: num(token, 'token') };
    try {
      const doc = await this.#conditionalUpdate(
        conditionFilter(str(id, 'id'), condition),
        (current) => conditionHolds(current, condition),
        { $set: { 'lease.expiresAt': date(expiresAt, 'expiresAt') } },
      );
      return doc ? documentToJob(doc) : null;
    } catch (error) {
      // Only on FerretDB's read-then-write path: the lease was cleared (the job ended or was
      // recovered) between the read and the write, so the server refused to set a field inside
      // `lease: null` (code 28) and wrote nothing. The lease is not this holder's any more.
      if ((error as { code?: unknown }).code === PATH_NOT_VIABLE) return null;
      throw error;
    }
  }

  /** @inheritdoc */
  async findExpiredLeases(now: Date, limit: number, filter: ExpiredLeaseFilter = {}): Promise<Job[]> {
    const max = num(limit, 'limit');
    if (max < 1) return [];
    const query: Filter<JobDocument> = { status: 'running', 'lease.expiresAt': { $lt: date(now, 'now') } };
    if (filter.owner !== undefined) query['lease.owner'] = str(filter.owner, 'owner');
    else if (filter.exceptOwners !== undefined && filter.exceptOwners.length > 0) query['lease.owner'] = { $nin: strings(filter.exceptOwners, 'exceptOwners') };
    const docs = await this.#jobs
      .find(query)
      .sort({ 'lease.expiresAt': 1 })
      .limit(Math.floor(max))
      .toArray();
    return docs.map(documentToJob);
  }

  /** @inheritdoc */
  async countActive(triggerId: string): Promise<{ running: number; pending: number }> {
    const rows = await this.#jobs
      .aggregate<{ _id: unknown; n: number }>([
        { $match: { triggerId: str(triggerId, 'triggerId'), status: { $in: ['running', 'pending'] } } },
        { $group: { _id: '$status', n: { $sum: 1 } } },
      ])
      .toArray();
    const counts = { running: 0, pending: 0 };
    for (const row of rows) if (row._id === 'running' || row._id === 'pending') counts[row._id] = row.n;
    return counts;
  }

  /** @inheritdoc */
  async findUnfiredDependents(finishedBefore: Date, limit: number): Promise<Job[]> {
    const max = num(limit, 'limit');
    if (max < 1) return [];
    const before = date(finishedBefore, 'finishedBefore');
    const unfired = { status: { $in: FINAL_JOB_STATUSES }, dependentsFired: false } as const;
    if (await this.#hints.enabled()) {
      // Cached is every such job (up to a bound), not only those finished before `finishedBefore`:
      // that instant moves on between passes, the set only changes with a write that stamps.
      const all = await this.#hints.answer(
        'unfired',
        'unfired',
        () => this.#jobs.find(unfired).sort({ finishedAt: 1 }).limit(UNFIRED_CACHE_MAX).toArray(),
        (docs) => docs.length < UNFIRED_CACHE_MAX,
      );
      return all.filter((doc) => doc.finishedAt instanceof Date && doc.finishedAt < before).slice(0, Math.floor(max)).map((doc) => documentToJob(structuredClone(doc)));
    }
    const docs = await this.#jobs.find({ ...unfired, finishedAt: { $lt: before } }).sort({ finishedAt: 1 }).limit(Math.floor(max)).toArray();
    return docs.map(documentToJob);
  }

  /** Stamp the signals an insert of these (stored) documents concerns. */
  async #stampInserted(docs: JobDocument[]): Promise<void> {
    if (docs.some((doc) => doc.status === 'pending')) await this.#hints.changed('pending');
    if (docs.some(owesDependents)) await this.#hints.changed('unfired');
  }

  /** @inheritdoc Two `$group` counts and one bounded query per trigger (see `job-stats.ts`). */
  async stats(filter: { triggerId?: string }): Promise<JobStatsSummary> {
    return jobStats(this.#jobs, filter.triggerId === undefined ? undefined : str(filter.triggerId, 'triggerId'), this.#sampleSize);
  }

  /** @inheritdoc */
  async purge(finishedBefore: Date): Promise<number> {
    // Only final jobs whose dependents were fired: the others still owe a downstream trigger a run.
    const result = await this.#jobs.deleteMany({
      status: { $in: FINAL_JOB_STATUSES },
      finishedAt: { $lt: date(finishedBefore, 'finishedBefore') },
      dependentsFired: true,
    });
    // Claim markers (jobs' and locks') matter only while a race is in flight; old ones go too.
    if (await this.#markers.enabled()) await this.#markers.purge(finishedBefore);
    return result.deletedCount;
  }

  /** @inheritdoc */
  async ping(): Promise<void> {
    await this.#db.command({ ping: 1 });
  }

  /** @inheritdoc */
  async countPendingByHandler(): Promise<HandlerCount[]> {
    // The `claim` index starts with `status`: only pending jobs are read.
    const rows = await this.#jobs.aggregate<{ _id: unknown; n: number }>([{ $match: { status: 'pending' } }, { $group: { _id: '$handler', n: { $sum: 1 } } }]).toArray();
    return byHandler(rows);
  }

  /**
   * The server's clock minus this process's system clock (`Date.now()`), in ms, from one `hello`.
   * @inheritdoc
   */
  async measureClockOffset(): Promise<number> {
    return measureClockOffset(this.#db);
  }

  /** Create the unique `key` index once per store (idempotent on the server; retried after a failure). */
  async #ensureKeyIndex(): Promise<void> {
    if (this.#keyIndex === null) {
      const creating = this.#jobs.createIndex({ key: 1 }, { name: JOB_KEY_INDEX, unique: true });
      this.#keyIndex = creating;
      creating.catch(() => {
        if (this.#keyIndex === creating) this.#keyIndex = null;
      });
    }
    await this.#keyIndex;
  }
}

// `from`/`to` are `DateInput`s; an unparseable one is refused rather than sent as an invalid date.
function queryDate(value: Date | string | number, field: string): Date {
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new StoreError(`${field} is not a valid date`);
  return parsed;
}
