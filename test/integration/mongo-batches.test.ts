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
import { MongoJobStore } from '../../src/stores/mongo/job-store.js';
import { MongoTriggerStore } from '../../src/stores/mongo/trigger-store.js';
import { makeJob, makeTrigger } from '../../src/testing/fixtures.js';
import { startMongo, type MongoHandle } from '../helpers/mongo.js';

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
  { bulkUpdates: true, claimMarkers: false },
  { bulkUpdates: false, claimMarkers: false },
  { bulkUpdates: true, claimMarkers: true },
  { bulkUpdates: false, claimMarkers: true },
])('MongoDB batches with %o', ({ bulkUpdates, claimMarkers }) => {
  it('claims a herd in one command, and answers a mixed batch claim by claim', async () => {
    const triggers = new MongoTriggerStore(db, { collectionPrefix: prefix(), bulkUpdates });
    const ids = Array.from({ length: 20 }, (_, i) => `t${i}`);
    for (const id of ids) await triggers.insert(makeTrigger({ id }));
    const herd = await counted(() => triggers.claimSlots(ids.map((id) => claim(id))));
    expect(herd.value).toEqual(ids.map(() => true));
    // Twenty claims writing the same thing: one `updateMany`, in one command either way.
    expect(herd.commands).toEqual(['update:triggers']);
    // Half of them stale now (version 2 is stored), half right: one read tells them apart.
    const mixed = await counted(() => triggers.claimSlots(ids.map((id, i) => ({ ...claim(id, i % 2 === 0 ? 2 : 1), slot: at(1000), update: { ...update, nextRunAt: at(2000), lastRunAt: at(1000) } }))));
    expect(mixed.value).toEqual(ids.map((_, i) => i % 2 === 0));
    expect(mixed.commands.filter((c) => c === 'find:triggers')).toHaveLength(1);
    expect((await triggers.get('t0'))?.nextRunAt).toEqual(at(2000));
    expect((await triggers.get('t1'))?.nextRunAt).toEqual(at(1000));
  });

  it('writes a batch of fenced ends with a stale token among them, with one read at most', async () => {
    const jobs = new MongoJobStore(db, { collectionPrefix: prefix(), bulkUpdates, claimMarkers, pendingHints: false });
    const ids = Array.from({ length: 12 }, (_, i) => `j${i}`);
    for (const id of ids) await jobs.insert(makeJob({ id, key: `k-${id}`, status: 'running', fence: 2, lease: { owner: 'a', token: 2, expiresAt: at(30_000) } }));
    // Every third write carries a stale token.
    const writes = ids.map((id, i) => end(id, i % 3 === 0 ? 1 : 2));
    const batch = await counted(() => jobs.writeMany(writes));
    expect(batch.value).toEqual(ids.map((_, i) => i % 3 !== 0));
    expect(batch.commands.filter((c) => c.startsWith('find')).length).toBeLessThanOrEqual(1);
    if (bulkUpdates) expect(batch.commands.filter((c) => c === 'update:jobs')).toHaveLength(1);
    for (const [i, id] of ids.entries()) {
      const job = await jobs.get(id);
      expect(job?.status).toBe(i % 3 === 0 ? 'running' : 'succeeded');
      expect(job?.history).toHaveLength(i % 3 === 0 ? 1 : 2);
    }
    // All matched: no read at all where the conditions are checked by the server.
    const rest = await counted(() => jobs.writeMany(ids.filter((_, i) => i % 3 === 0).map((id) => end(id, 2))));
    expect(rest.value).toEqual([true, true, true, true]);
    if (!claimMarkers) expect(rest.commands.filter((c) => c.startsWith('find'))).toEqual([]);
  });
});
