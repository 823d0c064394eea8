/**
 * The batch paths of the MongoDB stores: the slot claims and the job writes of one engine turn in
 * one round trip each where the server allows, every operation conditional on its own trigger
 * version or lease token, as the one-by-one calls are.
 *
 * Slot claims that write the same thing (a herd: one slot instant, one next instant, one version)
 * are one `updateMany` on their ids, still conditional per document; the groups go in one
 * unordered `bulkWrite`. Job writes are one `updateOne` each in one unordered `bulkWrite`.
 *
 * A bulk write answers with counts, not with which operation matched. When all or none matched the
 * counts say it all (the usual case). Otherwise one batched read of the batch's documents tells
 * each operation's fate:
 *
 * - a slot claim won when its trigger stands exactly as the claim leaves it (version raised by one,
 *   the claim's `nextRunAt`, `lastRunAt` and status). An identical claim racing it for the same
 *   slot leaves the same state; either way the slot is advanced as the caller wanted, and the job
 *   key, not the advance, decides who runs the slot. A claim that landed and was changed since
 *   reads as lost: the engine then reads the trigger again and finds it claimed past the slot;
 * - a job write sets `writeStamp` to a value of its own (batch token and position), so a stored
 *   stamp is proof that this very write matched.
 *
 * FerretDB v1 differs twice. Its PostgreSQL backend holds one pooled connection per statement of
 * a command until the command ends, so a command with more statements than the pool has
 * connections (or several such commands at once) never ends and takes the server down with it:
 * there every operation goes as a command of its own (`bulkUpdates: false`), all at once, and each
 * answers for itself. And it finds a document by `_id` cheaply only where its backend is given the
 * filter (id-pushdown.ts): PostgreSQL is given `{ _id, ...conditions }`, so each claim and write
 * goes conditional, with no read. SQLite is given only a bare `_id`: there a herd's claims go as
 * one `updateMany` (one scan, not one per claim), and job writes (claim-marker mode: its updates
 * are not atomic anyway) read first: one `find` of the batch by `_id`, the conditions checked on
 * the documents in hand, then each write by bare `_id`. Never `{ _id: { $in } }` where it is not
 * needed: no FerretDB backend is given that filter, so it decodes the whole collection.
 */
import { randomBytes } from 'node:crypto';
import type { AnyBulkWriteOperation, Collection, Db, Filter, UpdateFilter } from 'mongodb';
import type { JobWrite, SlotClaim } from '../../ports.js';
import type { Trigger } from '../../types.js';
import { isFerretDb } from './claims.js';
import type { JobDocument, TriggerDocument } from './documents.js';
import { assertDocumentSize, date, num, str } from './guards.js';
import { conditionFilter, conditionHolds, historyEntry, patchToSet } from './job-writes.js';

/**
 * Whether a batch's updates go as one multi-statement command: always, never (one command per
 * update, all at once), or unless the server is FerretDB (`'auto'`).
 */
export type BulkUpdateMode = boolean | 'auto';

/** Resolves the mode (under `'auto'`, from the server's one `buildInfo` answer per `Db`: `isFerretDb`). */
export function bulkUpdatesProbe(db: Db, mode: BulkUpdateMode): () => Promise<boolean> {
  if (typeof mode === 'boolean') return () => Promise.resolve(mode);
  return async () => !(await isFerretDb(db));
}

interface WantedClaim {
  id: string;
  version: number;
  nextRunAt: number | null;
  lastRunAt: number;
  status: Trigger['status'];
}

/**
 * Claim several slots; whether each claim won, in order.
 *
 * @param bulk send the updates as one command (else one command each, all at once)
 * @param idPushdown the server finds `{ _id, ...conditions }` by `_id` (id-pushdown.ts): without
 *   `bulk`, each claim is then its own conditional update, answering for itself
 */
export async function claimSlotsInBulk(triggers: Collection<TriggerDocument>, claims: SlotClaim[], bulk: boolean, idPushdown: boolean): Promise<boolean[]> {
  // Checked before anything is written: a bad claim refuses the whole batch.
  const checked = claims.map(checkedClaim);
  // A trigger claimed twice in one batch (never by the engine): its later claims go once the
  // first ones have answered, so they see what the first ones wrote.
  const seen = new Set<string>();
  const later = new Set<number>();
  for (const [i, { id }] of checked.entries()) {
    if (seen.has(id)) later.add(i);
    seen.add(id);
  }
  if (later.size > 0) {
    const firstAt = checked.map((_, i) => i).filter((i) => !later.has(i));
    const laterAt = [...later];
    const answers = claims.map(() => false);
    const first = await claimSlotsInBulk(triggers, firstAt.map((i) => claims[i]!), bulk, idPushdown);
    for (const [k, i] of firstAt.entries()) answers[i] = first[k]!;
    const then = await claimSlotsInBulk(triggers, laterAt.map((i) => claims[i]!), bulk, idPushdown);
    for (const [k, i] of laterAt.entries()) answers[i] = then[k]!;
    return answers;
  }
  if (!bulk && idPushdown) return claimOneByOne(triggers, checked);
  const wanted: WantedClaim[] = [];
  // Claims that write the same thing on the same version: one `updateMany` on their ids.
  const groups = new Map<string, { ids: string[]; filter: Filter<TriggerDocument>; update: UpdateFilter<TriggerDocument> }>();
  for (const { id, version, slot, nextRunAt, lastRunAt, status, updatedAt } of checked) {
    wanted.push({ id, version: version + 1, nextRunAt: nextRunAt?.getTime() ?? null, lastRunAt: lastRunAt.getTime(), status });
    const key = `${slot.getTime()}|${version}|${nextRunAt?.getTime() ?? ''}|${lastRunAt.getTime()}|${status}|${updatedAt.getTime()}`;
    const group = groups.get(key);
    if (group) {
      group.ids.push(id);
      continue;
    }
    groups.set(key, { ids: [id], ...claimWrite({ version, slot, nextRunAt, lastRunAt, status, updatedAt }) });
  }
  const ops: Array<AnyBulkWriteOperation<TriggerDocument>> = [];
  for (const { ids, filter, update } of groups.values()) {
    if (ids.length === 1) ops.push({ updateOne: { filter: { _id: ids[0]!, ...filter }, update } });
    else ops.push({ updateMany: { filter: { _id: { $in: ids }, ...filter }, update } });
  }
  const matched = await runUpdates(triggers, ops, bulk);
  if (matched === claims.length) return claims.map(() => true);
  if (matched === 0) return claims.map(() => false);
  const docs = await triggers
    .find({ _id: { $in: [...seen] } }, { projection: { _id: 1, status: 1, nextRunAt: 1, lastRunAt: 1, version: 1 } })
    .toArray();
  const byId = new Map(docs.map((doc) => [doc._id, doc]));
  return wanted.map((w) => {
    const doc = byId.get(w.id);
    return (
      doc !== undefined &&
      doc.version === w.version &&
      doc.status === w.status &&
      (doc.nextRunAt?.getTime() ?? null) === w.nextRunAt &&
      doc.lastRunAt?.getTime() === w.lastRunAt
    );
  });
}

type CheckedClaim = { id: string; version: number; slot: Date; nextRunAt: Date | null; lastRunAt: Date; status: Trigger['status']; updatedAt: Date };

/** A claim's fields, checked. */
function checkedClaim(claim: SlotClaim): CheckedClaim {
  return {
    id: str(claim.id, 'claim.id'),
    version: num(claim.expectedVersion, 'claim.expectedVersion'),
    slot: date(claim.slot, 'claim.slot'),
    nextRunAt: claim.update.nextRunAt === null ? null : date(claim.update.nextRunAt, 'claim.update.nextRunAt'),
    lastRunAt: date(claim.update.lastRunAt, 'claim.update.lastRunAt'),
    status: str(claim.update.status, 'claim.update.status') as Trigger['status'],
    updatedAt: date(claim.update.updatedAt, 'claim.update.updatedAt'),
  };
}

/** What a claim requires of its trigger (beside its `_id`) and writes into it. */
function claimWrite(claim: Omit<CheckedClaim, 'id'>): { filter: Filter<TriggerDocument>; update: UpdateFilter<TriggerDocument> } {
  const { version, slot, nextRunAt, lastRunAt, status, updatedAt } = claim;
  return { filter: { status: 'active', nextRunAt: slot, version }, update: { $set: { nextRunAt, lastRunAt, status, updatedAt }, $inc: { version: 1 } } };
}

/** Each claim (of distinct triggers) its own conditional `updateOne`, all at once, each answering for itself. */
function claimOneByOne(triggers: Collection<TriggerDocument>, claims: CheckedClaim[]): Promise<boolean[]> {
  return Promise.all(
    claims.map(async (claim) => {
      const { filter, update } = claimWrite(claim);
      return (await triggers.updateOne({ _id: claim.id, ...filter }, update)).matchedCount === 1;
    }),
  );
}

/**
 * Run `work` on every item at once, except that items of one `id` run one after the other, in
 * order (so two conditional writes of one document never race each other); results in order.
 */
async function inTurnPerId<I extends { id: string }>(items: I[], work: (item: I) => Promise<boolean>): Promise<boolean[]> {
  const results = items.map(() => false);
  const chains = new Map<string, Promise<void>>();
  for (const [i, item] of items.entries()) {
    const before = chains.get(item.id) ?? Promise.resolve();
    chains.set(
      item.id,
      before.then(async () => {
        results[i] = await work(item);
      }),
    );
  }
  await Promise.all(chains.values());
  return results;
}

/**
 * Several conditional job writes; whether each was written, in order.
 *
 * @param bulk send the updates as one command (else one command each, all at once)
 * @param readFirst check the conditions on documents read by `_id` and write by bare `_id` (FerretDB)
 */
export async function writeJobsInBulk(jobs: Collection<JobDocument>, writes: JobWrite[], bulk: boolean, readFirst: boolean): Promise<boolean[]> {
  if (writes.length === 0) return [];
  // Built (and checked) before anything is written: a bad patch refuses the whole batch.
  const stampBase = randomBytes(6).toString('hex');
  const prepared: Array<{ id: string; filter: Filter<JobDocument> & { _id: string }; update: UpdateFilter<JobDocument>; stamp: string }> = [];
  for (const [i, write] of writes.entries()) {
    const id = str(write.id, 'write.id');
    const set = patchToSet(write.patch);
    await assertDocumentSize(set, `update of job "${id}"`);
    const stamp = `${stampBase}.${i}`;
    const update: UpdateFilter<JobDocument> = { $set: { ...set, writeStamp: stamp } };
    if (write.history !== undefined && write.history.length > 0) update.$push = { history: { $each: write.history.map(historyEntry) } };
    prepared.push({ id, filter: conditionFilter(id, write.condition), update, stamp });
  }
  let sent = prepared.map((_, i) => i);
  if (readFirst) {
    const docs = await jobs.find({ _id: { $in: [...new Set(prepared.map((p) => p.id))] } }, { projection: { _id: 1, status: 1, fence: 1, lease: 1 } }).toArray();
    const byId = new Map(docs.map((doc) => [doc._id, doc]));
    const seen = new Set<string>();
    sent = sent.filter((i) => {
      const doc = byId.get(prepared[i]!.id);
      // Two writes of one job in a batch: only the first is tried here (its condition was read before either).
      if (!doc || seen.has(doc._id) || !conditionHolds(doc, writes[i]!.condition)) return false;
      seen.add(doc._id);
      return true;
    });
  }
  const written = writes.map(() => false);
  if (sent.length === 0) return written;
  const ops: Array<AnyBulkWriteOperation<JobDocument>> = sent.map((i) => ({
    updateOne: { filter: readFirst ? { _id: prepared[i]!.id } : prepared[i]!.filter, update: prepared[i]!.update },
  }));
  if (!bulk) {
    // One command each, each answering for itself; two writes of one job in turn.
    const answers = await inTurnPerId(
      sent.map((i, k) => ({ id: prepared[i]!.id, op: ops[k]! })),
      async ({ op }) => (await runUpdates(jobs, [op], false)) === 1,
    );
    for (const [k, i] of sent.entries()) written[i] = answers[k]!;
    return written;
  }
  const matched = await runUpdates(jobs, ops, true);
  if (matched === sent.length) {
    for (const i of sent) written[i] = true;
    return written;
  }
  if (matched === 0) return written;
  // Some matched: the stamps say which.
  const docs = await jobs.find({ _id: { $in: [...new Set(sent.map((i) => prepared[i]!.id))] } }, { projection: { _id: 1, writeStamp: 1 } }).toArray();
  const stamps = new Set(docs.map((doc) => doc.writeStamp));
  for (const i of sent) written[i] = stamps.has(prepared[i]!.stamp);
  return written;
}

/** Run update operations, as one unordered bulk write or as one command each (all at once); how many documents matched. */
async function runUpdates<T extends { _id: string }>(collection: Collection<T>, ops: Array<AnyBulkWriteOperation<T>>, bulk: boolean): Promise<number> {
  if (bulk || ops.length === 1) {
    if (!bulk) return matchedBy(collection, ops[0]!);
    const result = await collection.bulkWrite(ops, { ordered: false });
    return result.matchedCount;
  }
  const counts = await Promise.all(ops.map((op) => matchedBy(collection, op)));
  return counts.reduce((a, b) => a + b, 0);
}

async function matchedBy<T extends { _id: string }>(collection: Collection<T>, op: AnyBulkWriteOperation<T>): Promise<number> {
  if ('updateOne' in op) return (await collection.updateOne(op.updateOne.filter, op.updateOne.update)).matchedCount;
  if ('updateMany' in op) return (await collection.updateMany(op.updateMany.filter, op.updateMany.update)).matchedCount;
  throw new TypeError('only update operations are run here');
}
