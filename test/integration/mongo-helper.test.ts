import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoServerError } from 'mongodb';
import {
  detectCapabilities,
  startMongo,
  stopSharedMongo,
  withTestDb,
  type MongoCapabilities,
  type TestDb,
} from '../helpers/mongo.js';

const START_TIMEOUT = 120_000;

describe('test/helpers/mongo', () => {
  let t: TestDb;

  beforeAll(async () => {
    t = await withTestDb('helper');
  }, START_TIMEOUT);

  afterAll(async () => {
    // t is unset when beforeAll failed (no server); don't hide that error behind a TypeError.
    if ((t as TestDb | undefined) !== undefined) await t.close();
    await stopSharedMongo();
  });

  it('gives each call its own sched_test_ database', async () => {
    const other = await withTestDb('helper');
    try {
      expect(t.dbName).toMatch(/^sched_test_helper_[a-z0-9_]+$/);
      expect(other.dbName).toMatch(/^sched_test_helper_/);
      expect(other.dbName).not.toBe(t.dbName);
      expect(t.dbName.length).toBeLessThanOrEqual(63);
    } finally {
      await other.close();
    }
  });

  it('round-trips a document', async () => {
    const jobs = t.db.collection<{ _id: string; runAt: Date; attempts: number; tags: string[] }>(
      'roundtrip',
    );
    const runAt = new Date('2030-03-31T01:30:00.000Z');
    await jobs.insertOne({ _id: 'job-1', runAt, attempts: 0, tags: ['a', 'b'] });

    const found = await jobs.findOne({ _id: 'job-1' });
    expect(found).toEqual({ _id: 'job-1', runAt, attempts: 0, tags: ['a', 'b'] });
    expect(found?.runAt).toBeInstanceOf(Date);

    const updated = await jobs.findOneAndUpdate(
      { _id: 'job-1', attempts: 0 },
      { $inc: { attempts: 1 } },
      { returnDocument: 'after' },
    );
    expect(updated?.attempts).toBe(1);
  });

  it('rejects a duplicate key on a unique index with code 11000', async () => {
    const slots = t.db.collection<{ jobId: string; slot: number }>('slots');
    await slots.createIndex({ jobId: 1, slot: 1 }, { unique: true });
    await slots.insertOne({ jobId: 'j', slot: 1 });

    const err: unknown = await slots.insertOne({ jobId: 'j', slot: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
    expect(await slots.countDocuments({ jobId: 'j' })).toBe(1);
  });

  it('detects capabilities by probing, and cleans up after itself', async () => {
    const before = (await t.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    const caps: MongoCapabilities = await detectCapabilities(t.db);
    const after = (await t.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);

    expect(Object.keys(caps).sort()).toEqual(
      ['changeStreams', 'explain', 'filterPushdown', 'isFerret', 'serverTimeInHello', 'ttlIndexes'].sort(),
    );
    for (const value of Object.values(caps)) expect(typeof value).toBe('boolean');
    expect(after.sort()).toEqual(before.sort());

    // Both MongoDB and FerretDB v1 support these.
    expect(caps.explain).toBe(true);
    expect(caps.serverTimeInHello).toBe(true);
    if (caps.isFerret) {
      // FerretDB v1.24 (see docs/ferretdb-notes.md); if this changes, update the notes.
      expect(caps.ttlIndexes).toBe(false);
      expect(caps.changeStreams).toBe(false);
    } else {
      expect(caps.ttlIndexes).toBe(true);
      // MongoDB always filters in the server.
      expect(caps.filterPushdown).toBe(true);
    }
  });

  it('close() drops the database', async () => {
    const scratch = await withTestDb('dropme');
    await scratch.db.collection('x').insertOne({ a: 1 });
    // t.client talks to the same (shared) server.
    const listNames = async (): Promise<string[]> =>
      (await t.client.db('admin').admin().listDatabases({ nameOnly: true })).databases.map(
        (d) => d.name,
      );
    expect(await listNames()).toContain(scratch.dbName);
    await scratch.close();
    await scratch.close(); // idempotent
    expect(await listNames()).not.toContain(scratch.dbName);
  });

  it.runIf(process.env['MONGODB_URI'])('startMongo() uses MONGODB_URI and does not own it', async () => {
    const handle = await startMongo();
    expect(handle.uri).toBe(process.env['MONGODB_URI']?.trim());
    await handle.stop();
    // The server is still there after stop().
    const pong = await t.db.admin().command({ ping: 1 });
    expect(pong['ok']).toBe(1);
  });
});
