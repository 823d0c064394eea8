/**
 * Claim markers: the race guard for servers whose single-document updates are not atomic.
 *
 * On MongoDB a conditional `findOneAndUpdate` has exactly one winner. FerretDB v1 (SQLite) reads,
 * modifies and writes a document without a transaction, so several racers can all see their
 * condition hold and all "win". Inserting into a unique index stays exclusive there, so after such a
 * win the racer inserts a marker named after what it claimed *and the generation it claimed*
 * (`job:<id>:<new fence>`, `lock:<key>:<token it replaced>`): racers of one generation collide on the
 * same name and only the first insert keeps the claim. A later, legitimate claim is a new
 * generation with a new name, so markers never block progress and can be deleted once old.
 */
import type { Collection, Db } from 'mongodb';
import type { ClaimMarkerDocument } from './documents.js';
import { isDuplicateKeyError, serverErrorCode } from './guards.js';

/** Whether to write claim markers: always, never, or when the server is FerretDB (`'auto'`). */
export type ClaimMarkerMode = boolean | 'auto';

/** Decides once per store whether markers are needed, then writes them. */
export class ClaimMarkers {
  readonly #db: Db;
  readonly #markers: Collection<ClaimMarkerDocument>;
  readonly #mode: ClaimMarkerMode;

  /** Markers in `collection`; `mode` `'auto'` asks the server who it is on first use. */
  constructor(db: Db, collection: Collection<ClaimMarkerDocument>, mode: ClaimMarkerMode) {
    this.#db = db;
    this.#markers = collection;
    this.#mode = mode;
  }

  /** Whether markers are written (resolved on first call, retried after a failed probe). */
  async enabled(): Promise<boolean> {
    if (typeof this.#mode === 'boolean') return this.#mode;
    return this.isFerretDb();
  }

  /** Whether the server is FerretDB, whatever the mode (asked once per `Db`; see `isFerretDb`). */
  isFerretDb(): Promise<boolean> {
    return isFerretDb(this.#db);
  }

  /** Record a claim; `false` when another racer recorded the same claim first. */
  async record(id: string, at: Date): Promise<boolean> {
    try {
      await this.#markers.insertOne({ _id: id, at });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  /** Delete markers older than the instant (they only matter while a race is in flight). */
  async purge(before: Date): Promise<void> {
    await this.#markers.deleteMany({ at: { $lt: before } });
  }
}

/** The answers of `isFerretDb`, per `Db`: every store and probe on one `Db` shares one `buildInfo`. */
const ferretAnswers = new WeakMap<Db, Promise<boolean>>();

/**
 * Whether the server is FerretDB: its `buildInfo` carries `ferretdbVersion` (and
 * `ferretdbFeatures`); MongoDB's never has a `ferretdb*` field. Asked once per `Db` (again after
 * a failed probe).
 */
export function isFerretDb(db: Db): Promise<boolean> {
  let answer = ferretAnswers.get(db);
  if (answer === undefined) {
    const asking = askBuildInfo(db);
    answer = asking;
    ferretAnswers.set(db, asking);
    asking.catch(() => {
      if (ferretAnswers.get(db) === asking) ferretAnswers.delete(db);
    });
  }
  return answer;
}

async function askBuildInfo(db: Db): Promise<boolean> {
  try {
    const info = await db.command({ buildInfo: 1 });
    return Object.keys(info).some((key) => key.toLowerCase().startsWith('ferretdb'));
  } catch (error) {
    // A server that refuses buildInfo to this user is not FerretDB (which always answers it).
    if (serverErrorCode(error) !== null) return false;
    throw error;
  }
}
