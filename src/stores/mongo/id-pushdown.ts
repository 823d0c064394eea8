/**
 * Whether the server finds a document by `_id` cheaply when the filter also carries conditions
 * (`{ _id, version }`, `{ _id, status, fence }`): the shape of every fenced write.
 *
 * MongoDB does, by its `_id` index. FerretDB v1 translates a filter into its backend's SQL only in
 * part, and where it cannot, it reads and decodes every document of the collection. Measured on
 * v1.24.2 with 20,000 jobs: on PostgreSQL such a filter is pushed down (~8 ms, the same as a bare
 * `_id`), while `{ _id: { $in: [...] } }` is not (~1.4 s); on SQLite only a bare `_id` is pushed
 * down (~0.2 s), a filter with conditions is not (~1.7 s). FerretDB's `explain` says which:
 * `filterPushdown`. A store asks it once and picks the cheaper way to write (batches.ts).
 */
import type { Collection, Db, Document } from 'mongodb';
import { isFerretDb } from './claims.js';
import { serverErrorCode } from './guards.js';

/** Whether `{ _id, ...conditions }` is found by `_id`: always, never, or as the server says (`'auto'`). */
export type IdPushdownMode = boolean | 'auto';

/**
 * Resolves the mode for one collection. Under `'auto'`: `true` on MongoDB without asking more;
 * on FerretDB what `explain` says about a conditional `_id` filter on this collection. FerretDB
 * pushes nothing down on a collection that does not exist yet, so a `false` is kept only once the
 * collection exists (until then each call asks again); a failed probe is asked again too.
 */
export function idPushdownProbe<T extends Document>(db: Db, collection: Collection<T>, mode: IdPushdownMode): () => Promise<boolean> {
  if (typeof mode === 'boolean') return () => Promise.resolve(mode);
  let answer: Promise<boolean> | null = null;
  return () => {
    if (answer === null) {
      const asking: Promise<boolean> = probe(db, collection).then(({ pushdown, final }) => {
        if (!final && answer === asking) answer = null;
        return pushdown;
      });
      answer = asking;
      asking.catch(() => {
        if (answer === asking) answer = null;
      });
    }
    return answer;
  };
}

async function probe<T extends Document>(db: Db, collection: Collection<T>): Promise<{ pushdown: boolean; final: boolean }> {
  if (!(await isFerretDb(db))) return { pushdown: true, final: true };
  let pushdown = false;
  try {
    const plan = await db.command({ explain: { find: collection.collectionName, filter: { _id: '', version: 0 } } });
    pushdown = plan['filterPushdown'] === true;
  } catch (error) {
    // A server that cannot explain this: read first, which is right on any server.
    if (serverErrorCode(error) === null) throw error;
    return { pushdown: false, final: true };
  }
  if (pushdown) return { pushdown, final: true };
  const exists = (await db.listCollections({ name: collection.collectionName }, { nameOnly: true }).toArray()).length > 0;
  return { pushdown, final: exists };
}
