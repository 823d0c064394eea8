/**
 * Test helpers for talking to a real MongoDB-wire-protocol server.
 *
 * Server selection:
 *  - `MONGODB_URI` set (CI: FerretDB started by `.ci/ferretdb.sh`): use it, never stop it.
 *  - otherwise start `mongodb-memory-server` (needs a downloadable or cached mongod binary;
 *    on machines without internet access run `eval "$(bash .ci/ferretdb.sh start)"` first).
 *
 * Servers differ (FerretDB v1 has no TTL indexes, no change streams, ...), so tests that need
 * such features should gate on `detectCapabilities(db)` rather than on the server's name.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient, MongoServerError, type Db, type Document } from 'mongodb';

export interface MongoHandle {
  uri: string;
  stop(): Promise<void>;
}

export interface TestDb {
  client: MongoClient;
  db: Db;
  dbName: string;
  /** Drops the database and closes the client. Safe to call more than once. */
  close(): Promise<void>;
}

export interface MongoCapabilities {
  /** `createIndex` accepts `expireAfterSeconds` (whether documents really expire is not checked). */
  ttlIndexes: boolean;
  /** `watch()` opens a change stream (needs a replica set on MongoDB; unsupported on FerretDB v1). */
  changeStreams: boolean;
  /** `find().explain()` returns a plan. */
  explain: boolean;
  /** `hello` reply carries `localTime` (a server clock reading). */
  serverTimeInHello: boolean;
  /** `buildInfo` identifies the server as FerretDB. */
  isFerret: boolean;
  /**
   * The server filters on fields other than `_id` itself (MongoDB; FerretDB v1 on PostgreSQL)
   * rather than reading and testing every document (FerretDB v1 on SQLite: its `explain()` says
   * `filterPushdown: false`). What decides whether it keeps up with issue 10's load.
   */
  filterPushdown: boolean;
}

const DB_PREFIX = 'sched_test_';
/** MongoDB and FerretDB both reject database names longer than 63 bytes. */
const MAX_DB_NAME = 63;

export async function startMongo(): Promise<MongoHandle> {
  const envUri = process.env['MONGODB_URI'];
  if (envUri !== undefined && envUri.trim() !== '') {
    return { uri: envUri.trim(), stop: async () => {} };
  }

  const { MongoMemoryServer } = await import('mongodb-memory-server');
  let server: InstanceType<typeof MongoMemoryServer>;
  try {
    server = await MongoMemoryServer.create({ instance: { ip: '127.0.0.1' } });
  } catch (err) {
    throw new Error(
      'MONGODB_URI is not set and mongodb-memory-server could not start a mongod ' +
        '(it downloads one on first use). Start FerretDB instead: eval "$(bash .ci/ferretdb.sh start)"',
      { cause: err },
    );
  }
  return {
    uri: server.getUri(),
    stop: async () => {
      await server.stop();
    },
  };
}

// One server per test worker, started on first use. mongodb-memory-server kills its mongod
// when the worker exits; call stopSharedMongo() from an afterAll to stop it earlier.
let shared: Promise<MongoHandle> | undefined;

function sharedMongo(): Promise<MongoHandle> {
  if (shared === undefined) {
    const starting = startMongo();
    shared = starting;
    // A failed start should not poison later attempts.
    starting.catch(() => {
      if (shared === starting) shared = undefined;
    });
  }
  return shared;
}

export async function stopSharedMongo(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (current !== undefined) {
    const handle = await current.catch(() => undefined);
    await handle?.stop();
  }
}

function uniqueDbName(name?: string): string {
  const suffix = `${process.pid.toString(36)}_${randomBytes(6).toString('hex')}`;
  const label = (name ?? '').replace(/[^A-Za-z0-9_]/g, '_');
  const room = MAX_DB_NAME - DB_PREFIX.length - suffix.length - 1;
  const trimmed = label.slice(0, Math.max(0, room));
  return trimmed === '' ? `${DB_PREFIX}${suffix}` : `${DB_PREFIX}${trimmed}_${suffix}`;
}

/**
 * A fresh database on the shared test server (`MONGODB_URI`, else mongodb-memory-server), or on
 * `options.uri` when given (a second server, e.g. `RELIABILITY_MONGODB_URI`).
 */
export async function withTestDb(name?: string, options: { uri?: string } = {}): Promise<TestDb> {
  const uri = options.uri ?? (await sharedMongo()).uri;
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  const dbName = uniqueDbName(name);
  const db = client.db(dbName);

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      try {
        await db.dropDatabase();
      } finally {
        await client.close();
      }
    })();
    return closed;
  };

  return { client, db, dbName, close };
}

async function succeeds(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch {
    return false;
  }
}

async function dropQuietly(db: Db, collection: string): Promise<void> {
  try {
    await db.collection(collection).drop();
  } catch (err) {
    // NamespaceNotFound: nothing was created.
    if (!(err instanceof MongoServerError && err.code === 26)) throw err;
  }
}

async function probeTtl(db: Db, collection: string): Promise<boolean> {
  try {
    return await succeeds(() =>
      db.collection(collection).createIndex({ expireAt: 1 }, { expireAfterSeconds: 3600 }),
    );
  } finally {
    await dropQuietly(db, collection);
  }
}

async function probeChangeStream(db: Db, collection: string): Promise<boolean> {
  try {
    const stream = db.collection(collection).watch([], { maxAwaitTimeMS: 100 });
    try {
      // The aggregate with $changeStream is only sent when the stream is first iterated.
      return await succeeds(() => stream.tryNext());
    } finally {
      await stream.close();
    }
  } finally {
    await dropQuietly(db, collection);
  }
}

async function probeExplain(db: Db, collection: string): Promise<boolean> {
  try {
    await db.collection(collection).insertOne({ probe: 1 });
    const plan: Document = await db.collection(collection).find({ probe: 1 }).explain();
    return typeof plan === 'object' && plan !== null && 'queryPlanner' in plan;
  } catch {
    return false;
  } finally {
    await dropQuietly(db, collection);
  }
}

async function probeFilterPushdown(db: Db, collection: string): Promise<boolean> {
  try {
    await db.collection(collection).insertOne({ probe: 1 });
    const plan: Document = await db.collection(collection).find({ probe: 1 }).explain();
    // MongoDB's plans have no such field (it always filters in the server); FerretDB says.
    return plan['filterPushdown'] !== false;
  } catch {
    return false;
  } finally {
    await dropQuietly(db, collection);
  }
}

async function probeHelloTime(db: Db): Promise<boolean> {
  try {
    const hello = await db.admin().command({ hello: 1 });
    return hello['localTime'] instanceof Date;
  } catch {
    return false;
  }
}

async function probeFerret(db: Db): Promise<boolean> {
  try {
    const info = await db.admin().command({ buildInfo: 1 });
    return Object.keys(info).some((key) => key.toLowerCase().startsWith('ferretdb'));
  } catch {
    return false;
  }
}

/**
 * Finds out what the server behind `db` supports by trying each feature on throwaway
 * collections in `db` (dropped again afterwards).
 */
export async function detectCapabilities(db: Db): Promise<MongoCapabilities> {
  const tag = randomBytes(4).toString('hex');
  const ttlIndexes = await probeTtl(db, `__caps_ttl_${tag}`);
  const changeStreams = await probeChangeStream(db, `__caps_cs_${tag}`);
  const explain = await probeExplain(db, `__caps_explain_${tag}`);
  const serverTimeInHello = await probeHelloTime(db);
  const isFerret = await probeFerret(db);
  const filterPushdown = await probeFilterPushdown(db, `__caps_pushdown_${tag}`);
  return { ttlIndexes, changeStreams, explain, serverTimeInHello, isFerret, filterPushdown };
}
