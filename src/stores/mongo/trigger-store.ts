/**
 * MongoDB `TriggerStore`: one document per trigger in `<prefix>triggers`, `_id` = trigger id.
 *
 * Every write is a single-document operation, so the guarantees rest on MongoDB's per-document
 * atomicity alone (no transactions, no change streams). The slot claim is a compare-and-set on
 * `(status, nextRunAt, version)`; see docs/mongodb.md for what this means on FerretDB.
 */
import type { Collection, Db, Filter } from 'mongodb';
import { InvalidTriggerConfigError } from '../../errors.js';
import type { HandlerCount, SlotClaim, SlotClaimUpdate, TriggerFields, TriggerStore } from '../../ports.js';
import type { Page, Trigger, TriggerQuery } from '../../types.js';
import { decodeIdCursor, pageLimit, triggerPage } from '../cursor.js';
import { bulkUpdatesProbe, claimSlotsInBulk, type BulkUpdateMode } from './batches.js';
import { collectionNames, openCollection, type SignalDocument, type TriggerDocument } from './documents.js';
import { PendingHints } from './pending-hints.js';
import { idPushdownProbe, type IdPushdownMode } from './id-pushdown.js';
import { assertDocumentSize, date, isDuplicateKeyError, num, str, strings } from './guards.js';
import { byHandler, documentToTrigger, triggerToDocument } from './mapping.js';

/** The fields `update` may write; `satisfies` keeps the list in step with `Trigger`. */
const UPDATABLE = {
  name: true,
  handler: true,
  schedule: true,
  payload: true,
  status: true,
  nextRunAt: true,
  lastRunAt: true,
  createdAt: true,
  updatedAt: true,
  retry: true,
  timeoutMs: true,
  maxStalls: true,
  misfire: true,
  overlap: true,
  maxConcurrent: true,
  window: true,
  jitterMs: true,
  priority: true,
  startAt: true,
  endAt: true,
  tags: true,
  alertAfterMs: true,
} as const satisfies Record<keyof TriggerFields, true>;

/** Options of `new MongoTriggerStore()`. */
export interface MongoTriggerStoreOptions {
  /**
   * Prefix of the collection name: the collection is `<prefix>triggers`.
   * @default 'scheduler_'
   */
  collectionPrefix?: string;
  /**
   * Send the slot claims of a batch as one command. `'auto'`: not on FerretDB, where they go as
   * one command each (see docs/mongodb.md).
   * @default 'auto'
   */
  bulkUpdates?: BulkUpdateMode;
  /**
   * Whether the server finds `{ _id, ...conditions }` by `_id`. Without bulk updates, `true` sends
   * each slot claim as its own conditional update, `false` a herd's claims as one `updateMany`.
   * `'auto'`: `true` on MongoDB, and on FerretDB what its `explain` says (see docs/mongodb.md).
   * @default 'auto'
   */
  idPushdown?: IdPushdownMode;
}

/** Triggers in a MongoDB collection. */
export class MongoTriggerStore implements TriggerStore {
  readonly #db: Db;
  readonly #triggers: Collection<TriggerDocument>;
  readonly #bulk: () => Promise<boolean>;
  readonly #idPushdown: () => Promise<boolean>;
  /** The `triggers` signal: stamped on every change of a trigger, on every server. */
  readonly #changes: PendingHints;

  /** Use `<prefix>triggers` in `db`. Creates nothing: call the backend's `ensureIndexes()` once. */
  constructor(db: Db, options: MongoTriggerStoreOptions = {}) {
    this.#db = db;
    const names = collectionNames(options.collectionPrefix);
    this.#triggers = openCollection<TriggerDocument>(db, names.triggers);
    this.#bulk = bulkUpdatesProbe(db, options.bulkUpdates ?? 'auto');
    this.#idPushdown = idPushdownProbe(db, this.#triggers, options.idPushdown ?? 'auto');
    this.#changes = new PendingHints(openCollection<SignalDocument>(db, names.signals), () => Promise.resolve(true));
  }

  /** The underlying collection (for inspection and tests). */
  get collection(): Collection<TriggerDocument> {
    return this.#triggers;
  }

  /** @inheritdoc */
  async insert(trigger: Trigger): Promise<void> {
    str(trigger.id, 'trigger.id');
    const doc = triggerToDocument(trigger);
    await assertDocumentSize(doc, `trigger "${trigger.id}"`);
    try {
      await this.#triggers.insertOne(doc);
    } catch (error) {
      if (isDuplicateKeyError(error)) {
        throw new InvalidTriggerConfigError('id', `a trigger with id "${trigger.id}" already exists`);
      }
      throw error;
    }
    await this.#changes.changed('triggers');
  }

  /** @inheritdoc */
  async get(id: string): Promise<Trigger | null> {
    const doc = await this.#triggers.findOne({ _id: str(id, 'id') });
    return doc ? documentToTrigger(doc) : null;
  }

  /** @inheritdoc */
  async replace(trigger: Trigger, expectedVersion: number): Promise<boolean> {
    const id = str(trigger.id, 'trigger.id');
    const doc = triggerToDocument(trigger);
    await assertDocumentSize(doc, `trigger "${id}"`);
    const { _id: _ignored, ...replacement } = doc;
    const result = await this.#triggers.replaceOne({ _id: id, version: num(expectedVersion, 'expectedVersion') }, replacement);
    if (result.matchedCount === 1) await this.#changes.changed('triggers');
    return result.matchedCount === 1;
  }

  /** @inheritdoc */
  async update(id: string, expectedVersion: number, fields: TriggerFields): Promise<Trigger | null> {
    const set: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) {
      // Only a trigger's own fields are ever written: no operator, path or id sneaks in.
      if (!(key in UPDATABLE)) throw new InvalidTriggerConfigError(key, 'is not a trigger field that can be updated');
      if (value !== undefined) set[key] = value;
    }
    await assertDocumentSize(set, `trigger "${id}"`);
    const doc = await this.#triggers.findOneAndUpdate(
      { _id: str(id, 'id'), version: num(expectedVersion, 'expectedVersion') },
      { $set: set, $inc: { version: 1 } },
      { returnDocument: 'after' },
    );
    if (doc) await this.#changes.changed('triggers');
    return doc ? documentToTrigger(doc) : null;
  }

  /** @inheritdoc */
  async remove(id: string): Promise<boolean> {
    const result = await this.#triggers.deleteOne({ _id: str(id, 'id') });
    if (result.deletedCount === 1) await this.#changes.changed('triggers');
    return result.deletedCount === 1;
  }

  /**
   * @inheritdoc A random token in `<prefix>signals` (`_id: 'triggers'`), stamped after every
   * insert, replacement, update and removal: one read by `_id` per poll, one write per trigger change.
   */
  async changeToken(): Promise<string> {
    return (await this.#changes.token('triggers')) ?? '';
  }

  /** @inheritdoc */
  async list(query: TriggerQuery): Promise<Page<Trigger>> {
    const limit = pageLimit(query.limit);
    const filter: Filter<TriggerDocument> = {};
    if (query.cursor !== undefined) filter._id = { $gt: decodeIdCursor(str(query.cursor, 'cursor')) };
    if (query.status !== undefined) filter.status = str(query.status, 'status') as Trigger['status'];
    if (query.handler !== undefined) filter.handler = str(query.handler, 'handler');
    if (query.tag !== undefined) filter.tags = str(query.tag, 'tag');
    // One extra document tells whether another page follows, without a count.
    const docs = await this.#triggers.find(filter).sort({ _id: 1 }).limit(limit + 1).toArray();
    return triggerPage(docs.slice(0, limit).map(documentToTrigger), docs.length > limit);
  }

  /** @inheritdoc */
  async findDue(until: Date, limit: number, handlers: string[], after?: Date, _held?: (id: string, version: number) => boolean, buckets?: readonly number[]): Promise<Trigger[]> {
    const wanted = strings(handlers, 'handlers');
    const bound = date(until, 'until');
    const max = num(limit, 'limit');
    if (wanted.length === 0 || max < 1) return [];
    const range = after === undefined ? { $lte: bound } : { $gt: date(after, 'after'), $lte: bound };
    const filter: Filter<TriggerDocument> = { status: 'active', nextRunAt: range, handler: { $in: wanted } };
    // Its own buckets, and the documents written before buckets were (none: `null` matches them);
    // the `due_owned` index holds the bucket, so the server skips the others' without reading them.
    if (buckets !== undefined) filter.bucket = { $in: [...buckets.map((b, i) => num(b, `buckets[${i}]`)), null] };
    const docs = await this.#triggers
      .find(filter)
      .sort({ nextRunAt: 1 })
      .limit(Math.floor(max))
      .toArray();
    return docs.map(documentToTrigger);
  }

  /** @inheritdoc */
  async findLate(now: Date, limit: number): Promise<Trigger[]> {
    const bound = date(now, 'now');
    const max = num(limit, 'limit');
    if (max < 1) return [];
    // The `due` index serves status and nextRunAt; the late ones among the due are told apart here,
    // as each trigger's bound is its own (nextRunAt + alertAfterMs), which a plain filter cannot say
    // without `$expr` (FerretDB v1 has none). Due but not yet late are only the slots being claimed now.
    const late: Trigger[] = [];
    const cursor = this.#triggers.find({ status: 'active', nextRunAt: { $lte: bound }, alertAfterMs: { $gt: 0 } }).sort({ nextRunAt: 1 });
    for await (const doc of cursor) {
      const trigger = documentToTrigger(doc);
      if (trigger.nextRunAt !== null && trigger.alertAfterMs !== null && trigger.nextRunAt.getTime() + trigger.alertAfterMs <= bound.getTime()) {
        late.push(trigger);
        if (late.length >= max) break;
      }
    }
    await cursor.close();
    return late;
  }

  /** @inheritdoc */
  async claimSlot(id: string, slot: Date, expectedVersion: number, update: SlotClaimUpdate): Promise<Trigger | null> {
    const doc = await this.#triggers.findOneAndUpdate(
      { _id: str(id, 'id'), status: 'active', nextRunAt: date(slot, 'slot'), version: num(expectedVersion, 'expectedVersion') },
      {
        $set: {
          nextRunAt: update.nextRunAt === null ? null : date(update.nextRunAt, 'update.nextRunAt'),
          lastRunAt: date(update.lastRunAt, 'update.lastRunAt'),
          status: str(update.status, 'update.status') as Trigger['status'],
          updatedAt: date(update.updatedAt, 'update.updatedAt'),
        },
        $inc: { version: 1 },
      },
      { returnDocument: 'after' },
    );
    return doc ? documentToTrigger(doc) : null;
  }

  /**
   * @inheritdoc One unordered `bulkWrite`, claims that write the same thing sharing one
   * `updateMany`; a batched read only when some but not all matched (`batches.ts`).
   */
  async claimSlots(claims: SlotClaim[]): Promise<boolean[]> {
    const bulk = await this.#bulk();
    return claimSlotsInBulk(this.#triggers, claims, bulk, !bulk && (await this.#idPushdown()));
  }

  /** @inheritdoc */
  async findByEvent(event: string): Promise<Trigger[]> {
    const docs = await this.#triggers
      .find({ 'schedule.kind': 'event', 'schedule.event': str(event, 'event'), status: 'active' })
      .sort({ _id: 1 })
      .toArray();
    return docs.map(documentToTrigger);
  }

  /** @inheritdoc */
  async findDependents(triggerId: string): Promise<Trigger[]> {
    const docs = await this.#triggers
      .find({ 'schedule.kind': 'after', 'schedule.after': str(triggerId, 'triggerId'), status: 'active' })
      .sort({ _id: 1 })
      .toArray();
    return docs.map(documentToTrigger);
  }

  /** @inheritdoc */
  async dependencyEdges(): Promise<Array<{ id: string; after: string }>> {
    // Every status counts (as in the memory store): a paused dependent still closes a cycle.
    const docs = await this.#triggers
      .find({ 'schedule.kind': 'after' }, { projection: { _id: 1, 'schedule.after': 1 } })
      .toArray();
    const edges: Array<{ id: string; after: string }> = [];
    for (const doc of docs) {
      const schedule = doc.schedule as { after?: unknown } | undefined;
      if (typeof schedule?.after === 'string') edges.push({ id: doc._id, after: schedule.after });
    }
    return edges;
  }

  /** @inheritdoc */
  async ping(): Promise<void> {
    await this.#db.command({ ping: 1 });
  }

  /** @inheritdoc */
  async countActiveByHandler(): Promise<HandlerCount[]> {
    // The `due` index starts with `status`: only active triggers are read.
    const rows = await this.#triggers.aggregate<{ _id: unknown; n: number }>([{ $match: { status: 'active' } }, { $group: { _id: '$handler', n: { $sum: 1 } } }]).toArray();
    return byHandler(rows);
  }
}

