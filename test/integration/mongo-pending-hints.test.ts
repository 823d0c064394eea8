/**
 * Pending hints (`pending-hints.ts`): `nextPendingAt` and `gatedTriggerIds` answered from a cache
 * that every pending-affecting write of *any* store instance invalidates through the signal
 * document. Forced on (`pendingHints: true`) so that this runs the same on MongoDB and FerretDB;
 * two stores on one collection prefix stand for two scheduler instances.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoJobStore } from '../../src/stores/mongo/job-store.js';
import { jobToDocument } from '../../src/stores/mongo/mapping.js';
import { PendingHints } from '../../src/stores/mongo/pending-hints.js';
import type { Job } from '../../src/types.js';
import { makeJob } from '../../src/testing/fixtures.js';
import { stopSharedMongo, withTestDb, type TestDb } from '../helpers/mongo.js';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);

let t: TestDb;
let prefixes = 0;

/** Two stores (instances) on one fresh prefix, hints on, an age limit no test reaches. */
function pair(): { a: MongoJobStore; b: MongoJobStore; prefix: string } {
  prefixes += 1;
  const prefix = `h${prefixes}_`;
  const common = { collectionPrefix: prefix, pendingHints: true, pendingHintMaxAgeMs: 60_000 } as const;
  return { a: new MongoJobStore(t.db, common), b: new MongoJobStore(t.db, common), prefix };
}

function job(overrides: Partial<Job> = {}): Job {
  return makeJob({ history: [{ status: 'pending', at: at(0), instanceId: 'b', reason: 'scheduled' }], ...overrides });
}

const claim = (owner: string, gate: string | null = null) => ({
  handlers: ['h'],
  owner,
  leaseExpiresAt: at(30_000),
  history: { status: 'running' as const, at: at(1), instanceId: owner, reason: 'claimed' },
  gate,
});

beforeAll(async () => {
  t = await withTestDb('pending_hints');
}, 120_000);

afterAll(async () => {
  if ((t as TestDb | undefined) !== undefined) await t.close();
  await stopSharedMongo();
});

describe('MongoJobStore pending hints', () => {
  it("another instance's insert, claim, retry and recovery each reach a cached answer at once", async () => {
    const { a, b } = pair();
    expect(await a.nextPendingAt(['h'])).toBeNull();
    // Cached now: a job written behind the store's back (no stamp) is not seen...
    await a.collection.insertOne(jobToDocument(job({ id: 'raw', key: 'raw', runAt: at(-5) })));
    expect(await a.nextPendingAt(['h'])).toBeNull();
    // ...but one written through a store is, and with it everything written before.
    await b.insert(job({ id: 'j1', key: 'k1', runAt: at(10) }));
    expect(await a.nextPendingAt(['h'])).toEqual(at(-5));
    await a.collection.deleteOne({ _id: 'raw' });
    await b.update('j1', { status: ['pending'] }, { runAt: at(20) });
    expect(await a.nextPendingAt(['h'])).toEqual(at(20));
    // A claim takes it out of `pending` for everyone.
    expect((await b.claimPending(at(100), claim('b')))?.id).toBe('j1');
    expect(await a.nextPendingAt(['h'])).toBeNull();
    // Back to pending (a retry or a recovered stall) through `update`.
    await b.update('j1', { status: ['running'] }, { status: 'pending', runAt: at(300), lease: null });
    expect(await a.nextPendingAt(['h'])).toEqual(at(300));
    // Leaving pending through `update` (a cancel) is seen too.
    await b.update('j1', { status: ['pending'] }, { status: 'cancelled', finishedAt: at(301) });
    expect(await a.nextPendingAt(['h'])).toBeNull();
    // insertMany stamps as insert does.
    await b.insertMany([job({ id: 'j2', key: 'k2', runAt: at(400) }), job({ id: 'j3', key: 'k3', runAt: at(350), handler: 'other' })]);
    expect(await a.nextPendingAt(['h'])).toEqual(at(400));
    expect(await a.nextPendingAt(['h', 'other'])).toEqual(at(350));
  });

  it('gated jobs: the cached set is filtered by `now` on every call, and a release is seen', async () => {
    const { a, b } = pair();
    await b.insert(job({ id: 'g1', key: 'g1', triggerId: 't1', gate: 't1', runAt: at(100) }));
    await b.insert(job({ id: 'g2', key: 'g2', triggerId: 't2', gate: 't2', runAt: at(200) }));
    expect(await a.gatedTriggerIds(at(50), ['h'], 10)).toEqual([]);
    expect(await a.gatedTriggerIds(at(150), ['h'], 10)).toEqual(['t1']);
    expect((await a.gatedTriggerIds(at(250), ['h'], 10)).sort()).toEqual(['t1', 't2']);
    expect(await a.gatedTriggerIds(at(250), ['h'], 1)).toHaveLength(1);
    expect(await a.gatedTriggerIds(at(250), ['other'], 10)).toEqual([]);
    // The gated job of t1 is claimed with its permit by the other instance.
    expect((await b.claimPending(at(250), claim('b', 't1')))?.id).toBe('g1');
    expect(await a.gatedTriggerIds(at(250), ['h'], 10)).toEqual(['t2']);
  });

  it("unfired dependents: another instance's end with dependents to fire, and their firing, reach a cached answer", async () => {
    const { a, b } = pair();
    const running = (id: string): Job => job({ id, key: id, status: 'running', fence: 1, lease: { owner: 'b', token: 1, expiresAt: at(5000) } });
    await b.insert(running('u1'));
    await b.insert(running('u2'));
    expect(await a.findUnfiredDependents(at(10_000), 10)).toEqual([]);
    await b.update('u1', { status: ['running'], leaseToken: 1 }, { status: 'succeeded', lease: null, finishedAt: at(100), dependentsFired: false });
    // Without dependents (`dependentsFired: true` with the end): never in the set.
    await b.update('u2', { status: ['running'], leaseToken: 1 }, { status: 'succeeded', lease: null, finishedAt: at(100), dependentsFired: true });
    expect((await a.findUnfiredDependents(at(10_000), 10)).map((j) => j.id)).toEqual(['u1']);
    // `finishedBefore` is applied to the cached set on every call.
    expect(await a.findUnfiredDependents(at(100), 10)).toEqual([]);
    // Copies: changing an answer does not change the next one.
    const [first] = await a.findUnfiredDependents(at(10_000), 10);
    first!.payload = { changed: true };
    expect((await a.findUnfiredDependents(at(10_000), 10))[0]?.payload).toEqual({ n: 1 });
    await b.update('u1', {}, { dependentsFired: true });
    expect(await a.findUnfiredDependents(at(10_000), 10)).toEqual([]);
  });

  it('a completion does not stamp the signal: the hot path costs no extra write', async () => {
    const { a, b, prefix } = pair();
    const signals = t.db.collection<{ _id: string; token: string }>(`${prefix}signals`);
    await b.insert(job({ id: 'r1', key: 'r1', status: 'running', fence: 1, lease: { owner: 'b', token: 1, expiresAt: at(5000) } }));
    expect(await signals.countDocuments()).toBe(0);
    await b.renewLease('r1', 1, at(6000));
    await b.update('r1', { status: ['running'], leaseToken: 1 }, { status: 'succeeded', lease: null, gate: null, finishedAt: at(7000) });
    expect(await signals.countDocuments()).toBe(0);
    await b.insert(job({ id: 'p1', key: 'p1' }));
    const first = (await signals.findOne({ _id: 'pending' }))?.token;
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    await a.update('p1', { status: ['pending'] }, { runAt: at(9) });
    expect((await signals.findOne({ _id: 'pending' }))?.token).not.toBe(first);
  });

  it('a cached answer is never older than its age limit (a writer that died before stamping)', async () => {
    prefixes += 1;
    let now = 1_000_000;
    const hints = new PendingHints(t.db.collection(`h${prefixes}_signals`), () => Promise.resolve(true), 300, () => now);
    let scans = 0;
    const query = (): Promise<number> => Promise.resolve(++scans);
    expect(await hints.answer('pending', 'k', query)).toBe(1);
    now += 299;
    expect(await hints.answer('pending', 'k', query)).toBe(1);
    now += 1;
    expect(await hints.answer('pending', 'k', query)).toBe(2);
    // Another key has its own answer; a stamp (from anyone) ends every cached one.
    expect(await hints.answer('pending', 'other', query)).toBe(3);
    await new PendingHints(t.db.collection(`h${prefixes}_signals`), () => Promise.resolve(true)).changed('pending');
    expect(await hints.answer('pending', 'k', query)).toBe(4);
    expect(await hints.answer('pending', 'k', query)).toBe(4);
    hints.forget('pending');
    expect(await hints.answer('pending', 'k', query)).toBe(5);
  });

  it('off (`pendingHints: false`): every call asks the server, nothing is written to signals', async () => {
    prefixes += 1;
    const prefix = `h${prefixes}_`;
    const store = new MongoJobStore(t.db, { collectionPrefix: prefix, pendingHints: false });
    expect(await store.nextPendingAt(['h'])).toBeNull();
    await store.collection.insertOne(jobToDocument(job({ id: 'x', key: 'x', runAt: at(3) })));
    expect(await store.nextPendingAt(['h'])).toEqual(at(3));
    await store.insert(job({ id: 'y', key: 'y' }));
    expect(await t.db.collection(`${prefix}signals`).countDocuments()).toBe(0);
  });

  it('a burst of changes shares its stamps (group commit), and each change is followed by a stamp that started after it', async () => {
    prefixes += 1;
    const signals = t.db.collection<{ _id: string; token?: string }>(`h${prefixes}_signals`);
    const hints = new PendingHints(signals as never, () => Promise.resolve(true));
    const original = signals.updateOne.bind(signals);
    let stamps = 0;
    signals.updateOne = ((...args: Parameters<typeof original>) => {
      stamps += 1;
      return original(...args);
    });
    const before = await hints.token('triggers');
    // 50 writers land at once: the first stamps at once, the other 49 share one stamp after it.
    await Promise.all(Array.from({ length: 50 }, () => hints.changed('triggers')));
    expect(stamps).toBe(2);
    const after = await hints.token('triggers');
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);
    // Alone again: one stamp, a new token.
    await hints.changed('triggers');
    expect(stamps).toBe(3);
    expect(await hints.token('triggers')).not.toBe(after);
  });

  it('refuses a bad pendingHintMaxAgeMs', () => {
    expect(() => new MongoJobStore(t.db, { pendingHintMaxAgeMs: -1 })).toThrow(/pendingHintMaxAgeMs/);
  });
});

