/**
 * The MongoDB batch paths (`batches.ts`) in each of their modes, whatever the server: one bulk
 * command (MongoDB's default) or one command per update (FerretDB's), with or without reading the
 * job conditions first (the claim-marker mode). Each batch mixes writes that match with writes that
 * do not, so the per-operation answers come from the batched read; and a herd costs the commands
 * it should. The contract suite covers the default mode of the server it runs on.
 */
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobWrite, SlotClaim } from '../../src/ports.js';
import { createMongoBackend } from '../../src/stores/mongo/backend.js';
import { MongoJobStore } from '../../src/stores/mongo/job-store.js';
import { idPushdownProbe } from '../../src/stores/mongo/id-pushdown.js';
import { MongoTriggerStore } from '../../src/stores/mongo/trigger-store.js';
import { makeJob, makeTrigger } from '../../src/testing/fixtures.js';
import { detectCapabilities, startMongo, type MongoHandle } from '../helpers/mongo.js';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);

let server: MongoHandle;
let client: MongoClient;
let db: Db;
let prefixes = 0;
const commands: string[] = [];

beforeAll(async () => {
  server = await startMongo();
  client = new MongoClient(server.uri, { monitorCommands: true, serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  db = client.db(`sched_test_batches_${process.pid}`);
  client.on('commandStarted', (event) => {
    const collection: unknown = event.command[event.commandName];
    if (typeof collection === 'string' && collection.startsWith('b')) commands.push(`${event.commandName}:${collection.replace(/^b\d+_/, '')}`);
  });
});

afterAll(async () => {
  await db?.dropDatabase();
  await client?.close();
  await server?.stop();
});

function prefix(): string {
  prefixes += 1;
  return `b${prefixes}_`;
}

/** The commands issued while `work` ran. */
async function counted<T>(work: () => Promise<T>): Promise<{ value: T; commands: string[] }> {
  commands.length = 0;
  const value = await work();
  return { value, commands: [...commands] };
}

const update = { nextRunAt: at(1000), lastRunAt: at(0), status: 'active' as const, updatedAt: at(5) };
const claim = (id: string, expectedVersion = 1): SlotClaim => ({ id, slot: at(0), expectedVersion, update });

const end = (id: string, token: number): JobWrite => ({
  id,
  condition: { status: ['running'], leaseToken: token },
  patch: { status: 'succeeded', lease: null, result: { id }, finishedAt: at(10) },
  history: [{ status: 'succeeded', at: at(10), instanceId: 'a', reason: `end of ${id}` }],
});

describe.each([
  { bulkUpdates: true, claimMarkers: false, idPushdown: true },
  { bulkUpdates: false, claimMarkers: false, idPushdown: true },
  { bulkUpdates: false, claimMarkers: false, idPushdown: false },
  { bulkUpdates: true, claimMarkers: true, idPushdown: true },
  { bulkUpdates: false, claimMarkers: true, idPushdown: true },
  { bulkUpdates: false, claimMarkers: true, idPushdown: false },
])('MongoDB batches with %o', ({ bulkUpdates, claimMarkers, idPushdown }) => {
  // One command per claim, each answering for itself, only where the server is given `{ _id, ... }`
  // and bulk updates are off (FerretDB on PostgreSQL); elsewhere a herd is one `updateMany`.
  const claimEach = !bulkUpdates && idPushdown;
  const readsFirst = claimMarkers && !idPushdown;

  it(claimEach ? 'claims each slot with a command of its own, with no read' : 'claims a herd in one command, and answers a mixed batch claim by claim', async () => {
    const triggers = new MongoTriggerStore(db, { collectionPrefix: prefix(), bulkUpdates, idPushdown });
    const ids = Array.from({ length: 20 }, (_, i) => `t${i}`);
    for (const id of ids) await triggers.insert(makeTrigger({ id }));
    const herd = await counted(() => triggers.claimSlots(ids.map((id) => claim(id))));
    expect(herd.value).toEqual(ids.map(() => true));
    // Twenty claims writing the same thing: one `updateMany`, in one command either way.
    expect(herd.commands).toEqual(claimEach ? ids.map(() => 'update:triggers') : ['update:triggers']);
    // Half of them stale now (version 2 is stored), half right: one read tells them apart (none when each answers for itself).
    const mixed = await counted(() => triggers.claimSlots(ids.map((id, i) => ({ ...claim(id, i % 2 === 0 ? 2 : 1), slot: at(1000), update: { ...update, nextRunAt: at(2000), lastRunAt: at(1000) } }))));
    expect(mixed.value).toEqual(ids.map((_, i) => i % 2 === 0));
    expect(mixed.commands.filter((c) => c === 'find:triggers')).toHaveLength(claimEach ? 0 : 1);
    expect((await triggers.get('t0'))?.nextRunAt).toEqual(at(2000));
    expect((await triggers.get('t1'))?.nextRunAt).toEqual(at(1000));
  });

  it('claims one trigger twice in a batch: the first claim wins, the second is lost', async () => {
    const triggers = new MongoTriggerStore(db, { collectionPrefix: prefix(), bulkUpdates, idPushdown });
    await triggers.insert(makeTrigger({ id: 'once' }));
    expect(await triggers.claimSlots([claim('once'), claim('once')])).toEqual([true, false]);
    expect((await triggers.get('once'))?.version).toBe(2);
  });

  it('writes a batch of fenced ends with a stale token among them, with one read at most', async () => {
    const jobs = new MongoJobStore(db, { collectionPrefix: prefix(), bulkUpdates, claimMarkers, idPushdown, pendingHints: false });
    const ids = Array.from({ length: 12 }, (_, i) => `j${i}`);
    for (const id of ids) await jobs.insert(makeJob({ id, key: `k-${id}`, status: 'running', fence: 2, lease: { owner: 'a', token: 2, expiresAt: at(30_000) } }));
    // Every third write carries a stale token.
    const writes = ids.map((id, i) => end(id, i % 3 === 0 ? 1 : 2));
    const batch = await counted(() => jobs.writeMany(writes));
    expect(batch.value).toEqual(ids.map((_, i) => i % 3 !== 0));
    // A read only where the conditions are checked on documents in hand, or a bulk answer needs its stamps.
    expect(batch.commands.filter((c) => c.startsWith('find'))).toHaveLength(readsFirst || bulkUpdates ? 1 : 0);
    if (bulkUpdates) expect(batch.commands.filter((c) => c === 'update:jobs')).toHaveLength(1);
    for (const [i, id] of ids.entries()) {
      const job = await jobs.get(id);
      expect(job?.status).toBe(i % 3 === 0 ? 'running' : 'succeeded');
      expect(job?.history).toHaveLength(i % 3 === 0 ? 1 : 2);
    }
    // All matched: no read at all where the conditions are checked by the server.
    const rest = await counted(() => jobs.writeMany(ids.filter((_, i) => i % 3 === 0).map((id) => end(id, 2))));
    expect(rest.value).toEqual([true, true, true, true]);
    expect(rest.commands.filter((c) => c.startsWith('find'))).toHaveLength(readsFirst ? 1 : 0);
  });

  it('writes one job twice in a batch in order: the second write sees the first', async () => {
    const jobs = new MongoJobStore(db, { collectionPrefix: prefix(), bulkUpdates, claimMarkers, idPushdown, pendingHints: false });
    await jobs.insert(makeJob({ id: 'twice', key: 'k-twice', status: 'running', fence: 2, lease: { owner: 'a', token: 2, expiresAt: at(30_000) } }));
    // Both require `running` with token 2: once the first ended the job, the second no longer holds.
    expect(await jobs.writeMany([end('twice', 2), end('twice', 2)])).toEqual([true, false]);
    expect((await jobs.get('twice'))?.history).toHaveLength(2);
  });
});

describe('asking who the server is', () => {
  it('every store and probe on one Db shares one buildInfo', async () => {
    const other = client.db(`sched_test_batches_probe_${process.pid}`);
    let asked = 0;
    const count = (event: { commandName: string; databaseName: string }): void => {
      if (event.commandName === 'buildInfo' && event.databaseName === other.databaseName) asked += 1;
    };
    client.on('commandStarted', count);
    try {
      const backend = createMongoBackend({ db: other, collectionPrefix: prefix() });
      await backend.triggerStore.insert(makeTrigger({ id: 'p1' }));
      await backend.triggerStore.claimSlots([claim('p1')]);
      await backend.jobStore.insert(makeJob({ id: 'pj', key: 'k-pj', status: 'running', fence: 2, lease: { owner: 'a', token: 2, expiresAt: at(30_000) } }));
      expect(await backend.jobStore.writeMany([end('pj', 2)])).toEqual([true]);
      // Claim markers, pending hints, bulk updates and id pushdown all asked: one buildInfo.
      expect(asked).toBe(1);
    } finally {
      client.off('commandStarted', count);
      await other.dropDatabase();
    }
  });
});

describe('the id-pushdown probe', () => {
  it('says what the server does with a conditional _id filter, asking again while the collection is missing', async () => {
    const caps = await detectCapabilities(db);
    const collection = db.collection(`${prefix()}probe`);
    const ask = idPushdownProbe(db, collection, 'auto');
    const before = await ask();
    await collection.insertOne({ _id: 'x' } as never);
    const asked = { value: { before, after: await ask(), again: await ask() } };
    // MongoDB filters in the server by its index; FerretDB pushes `{ _id, ... }` down on PostgreSQL,
    // not on SQLite (the capability probe tests the same with a field other than `_id`).
    expect(asked.value.after).toBe(caps.filterPushdown);
    expect(asked.value.again).toBe(caps.filterPushdown);
    // FerretDB pushes nothing down on a collection that does not exist yet: that answer is not kept.
    expect(asked.value.before).toBe(caps.isFerret ? false : true);
    expect(await idPushdownProbe(db, collection, false)()).toBe(false);
  });
});
