/**
 * MongoDB `InstanceLeases`: one document per instance id in `<prefix>instances`
 * (`{ _id: instanceId, epoch, expiresAt, cancels }`), always read and written by `_id`, so every
 * call is one round trip on the `_id` index, FerretDB included.
 *
 * A fence deletes the document rather than marking it: a delete is the one write that a racing
 * renewal cannot undo on a server without atomic updates (FerretDB v1 applies an update to the
 * document it read before, by `_id`; a document deleted meanwhile is not written again). The
 * fence reads the record back to answer, so a renewal that landed first is seen as alive.
 */
import type { Collection, Db } from 'mongodb';
import type { InstanceLease, InstanceLeases } from '../../ports.js';
import type { InstanceDocument } from './documents.js';
import { openCollection } from './documents.js';
import { date, str } from './guards.js';

/** Liveness records of instances in MongoDB. */
export class MongoInstanceLeases implements InstanceLeases {
  readonly #records: Collection<InstanceDocument>;

  /** Use the collection `name` in `db`. */
  constructor(db: Db, name: string) {
    this.#records = openCollection<InstanceDocument>(db, name);
  }

  /** The collection (for inspection and tests). */
  get collection(): Collection<InstanceDocument> {
    return this.#records;
  }

  /** @inheritdoc */
  async registerInstance(lease: InstanceLease): Promise<InstanceLease | null> {
    const before = await this.#records.findOneAndReplace(
      { _id: str(lease.instanceId, 'instanceId') },
      { epoch: str(lease.epoch, 'epoch'), expiresAt: date(lease.expiresAt, 'expiresAt'), cancels: [] },
      { upsert: true, returnDocument: 'before' },
    );
    return before ? toLease(before) : null;
  }

  /** @inheritdoc */
  async renewInstance(lease: InstanceLease, expiresAt: Date): Promise<{ cancels: string[] } | null> {
    // 'before': the cancel requests taken out by this very write.
    const before = await this.#records.findOneAndUpdate(
      { _id: str(lease.instanceId, 'instanceId'), epoch: str(lease.epoch, 'epoch') },
      { $set: { expiresAt: date(expiresAt, 'expiresAt'), cancels: [] } },
      { returnDocument: 'before' },
    );
    if (!before) return null;
    return { cancels: Array.isArray(before.cancels) ? before.cancels.filter((id): id is string => typeof id === 'string') : [] };
  }

  /** @inheritdoc */
  async liveInstances(at: Date): Promise<InstanceLease[]> {
    const docs = await this.#records.find({ expiresAt: { $gt: date(at, 'at') } }, { projection: { cancels: 0 } }).toArray();
    return docs.map(toLease);
  }

  /** @inheritdoc */
  async fenceInstance(instanceId: string, expiredBefore: Date): Promise<boolean> {
    const id = str(instanceId, 'instanceId');
    await this.#records.deleteOne({ _id: id, expiresAt: { $lt: date(expiredBefore, 'expiredBefore') } });
    return (await this.#records.findOne({ _id: id }, { projection: { _id: 1 } })) === null;
  }

  /** @inheritdoc */
  async requestCancel(instanceId: string, jobId: string): Promise<boolean> {
    const result = await this.#records.updateOne({ _id: str(instanceId, 'instanceId') }, { $addToSet: { cancels: str(jobId, 'jobId') } });
    return result.matchedCount === 1;
  }

  /** @inheritdoc */
  async releaseInstance(lease: InstanceLease): Promise<boolean> {
    const result = await this.#records.deleteOne({ _id: str(lease.instanceId, 'instanceId'), epoch: str(lease.epoch, 'epoch') });
    return result.deletedCount === 1;
  }
}

function toLease(doc: InstanceDocument): InstanceLease {
  return { instanceId: doc._id, epoch: doc.epoch, expiresAt: doc.expiresAt };
}
