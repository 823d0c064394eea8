/**
 * The MongoDB backend against a real server (MONGODB_URI, FerretDB in CI). Server differences are
 * decided by probing (`detectCapabilities`), never by skipping tests outright.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Document } from 'mongodb';
import { InvalidTriggerConfigError, StoreError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { ClaimPendingOptions } from '../../src/ports.js';
import { createMongoBackend, type MongoBackend } from '../../src/stores/mongo/index.js';
import type { Job, Trigger } from '../../src/types.js';
import { makeJob, makeTrigger } from '../../src/testing/fixtures.js';
import { triggerBucket } from '../../src/util/ownership-bucket.js';
import { detectCapabilities, stopSharedMongo, withTestDb, type MongoCapabilities, type TestDb } from '../helpers/mongo.js';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);

/** The contract's trigger with every optional structure filled, so round trips cover them. */
function trigger(overrides: Partial<Trigger> = {}): Trigger {
  return makeTrigger({
    name: 'Trigger one',
    payload: { n: 1, nested: { list: [1, 'two', null, true] } },
    retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 1000, jitter: 'none' } },
    timeoutMs: 5000,
    window: { days: [1, 2, 3], between: [540, 1020], timezone: 'Europe/Berlin' },
    tags: ['a'],
    ...overrides,
  });
}

/** The contract's job with retries and a history reason of its own. */
function job(overrides: Partial<Job> = {}): Job {
  return makeJob({
    maxAttempts: 3,
    stalls: 0,
    maxStalls: 1,
    backoff: { type: 'fixed', delayMs: 10 },
    history: [{ status: 'pending', at: at(0), instanceId: 'i1', reason: 'scheduled' }],
    ...overrides,
  });
}

function claimOptions(overrides: Partial<ClaimPendingOptions> = {}): ClaimPendingOptions {
  return {
    handlers: ['h'],
    owner: 'me',
    leaseExpiresAt: at(30_000),
    history: { status: 'running', at: at(1), instanceId: 'me', reason: 'claimed' },
    gate: null,
    ...overrides,
  };
}

const warnings: Array<{ fields: Record<string, unknown>; message: string | undefined }> = [];
const logger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (fields, message) => void warnings.push({ fields, message }),
  error: () => undefined,
};

let t: TestDb;
let caps: MongoCapabilities;
let prefixes = 0;

/** A backend on its own collection prefix in the file's database. */
function backend(): MongoBackend {
  prefixes += 1;
  return createMongoBackend({ db: t.db, collectionPrefix: `s${prefixes}_`, logger });
}

beforeAll(async () => {
  t = await withTestDb('mongo_stores');
  caps = await detectCapabilities(t.db);
}, 120_000);

afterAll(async () => {
  // t is unset when beforeAll failed (no server); do not hide that error behind a TypeError.
  if ((t as TestDb | undefined) !== undefined) await t.close();
  await stopSharedMongo();
});

describe('MongoTriggerStore', () => {
  it('round-trips every field and hands out copies', async () => {
    const { triggerStore } = backend();
    const input = trigger({ schedule: { kind: 'cron', cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' } });
    await triggerStore.insert(input);
    const read = await triggerStore.get('t1');
    expect(read).toEqual(input);
    expect(read?.createdAt).toBeInstanceOf(Date);
    expect(Object.keys(read!).sort()).toEqual(Object.keys(input).sort());

    // Neither the input nor a returned record is shared with what is stored.
    input.tags.push('changed');
    read!.tags.push('x');
    (read!.payload as { n: number }).n = 42;
    read!.nextRunAt!.setTime(0);
    const again = await triggerStore.get('t1');
    expect(again?.tags).toEqual(['a']);
    expect(again?.payload).toEqual({ n: 1, nested: { list: [1, 'two', null, true] } });
    expect(again?.nextRunAt).toEqual(at(0));
    expect(again).not.toBe(read);
    expect(await triggerStore.get('missing')).toBeNull();
  });

  it('keeps every schedule kind and nulls exactly as given', async () => {
    const { triggerStore } = backend();
    const kinds: Trigger['schedule'][] = [
      { kind: 'every', every: 30_000, startAt: at(5), endAt: at(500_000) },
      { kind: 'at', at: at(60_000) },
      { kind: 'manual' },
      { kind: 'event', event: 'run.done', filter: { suite: 'smoke', n: 1, ok: true, none: null } },
      { kind: 'after', after: 'up', on: 'failure' },
    ];
    for (const [i, schedule] of kinds.entries()) {
      const input = trigger({ id: `k${i}`, schedule, retry: null, window: null, tags: [], timeoutMs: null, nextRunAt: null });
      await triggerStore.insert(input);
      expect(await triggerStore.get(`k${i}`)).toEqual(input);
    }
  });

  it('refuses a duplicate id with InvalidTriggerConfigError on field id', async () => {
    const { triggerStore } = backend();
    await triggerStore.insert(trigger());
    const error = await triggerStore.insert(trigger({ name: 'other' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTriggerConfigError);
    expect((error as InvalidTriggerConfigError).field).toBe('id');
    expect((await triggerStore.get('t1'))?.name).toBe('Trigger one');
  });

  it('replaces only at the expected version, and removes', async () => {
    const { triggerStore } = backend();
    await triggerStore.insert(trigger());
    expect(await triggerStore.replace(trigger({ name: 'v2', version: 2 }), 1)).toBe(true);
    expect(await triggerStore.replace(trigger({ name: 'stale', version: 2 }), 1)).toBe(false);
    expect(await triggerStore.replace(trigger({ id: 'missing', version: 2 }), 1)).toBe(false);
    const read = await triggerStore.get('t1');
    expect(read?.name).toBe('v2');
    expect(read?.version).toBe(2);
    expect(await triggerStore.remove('t1')).toBe(true);
    expect(await triggerStore.remove('t1')).toBe(false);
    expect(await triggerStore.get('t1')).toBeNull();
  });

  it('claimSlot is a compare-and-set on status, slot and version', async () => {
    const { triggerStore } = backend();
    await triggerStore.insert(trigger());
    const update = { nextRunAt: at(1000), lastRunAt: at(0), status: 'active' as const, updatedAt: at(3) };
    expect(await triggerStore.claimSlot('t1', at(0), 0, update)).toBeNull();
    const won = await triggerStore.claimSlot('t1', at(0), 1, update);
    expect(won).toMatchObject({ id: 't1', nextRunAt: at(1000), lastRunAt: at(0), updatedAt: at(3), version: 2 });
    expect(await triggerStore.claimSlot('t1', at(0), 1, update)).toBeNull();
    expect(await triggerStore.claimSlot('t1', at(0), 2, update)).toBeNull();
    // The last slot completes the trigger; a completed trigger cannot be claimed again.
    const last = await triggerStore.claimSlot('t1', at(1000), 2, { nextRunAt: null, lastRunAt: at(1000), status: 'completed', updatedAt: at(1001) });
    expect(last).toMatchObject({ status: 'completed', nextRunAt: null, version: 3 });
    expect(await triggerStore.claimSlot('t1', at(1000), 3, update)).toBeNull();
    expect(await triggerStore.claimSlot('missing', at(0), 1, update)).toBeNull();
  });

  it('findDue filters by status, time and handler, earliest first, bounded', async () => {
    const { triggerStore } = backend();
    await triggerStore.insert(trigger({ id: 'late', nextRunAt: at(5000) }));
    await triggerStore.insert(trigger({ id: 'early', nextRunAt: at(100) }));
    await triggerStore.insert(trigger({ id: 'edge', nextRunAt: at(3000) }));
    await triggerStore.insert(trigger({ id: 'paused', nextRunAt: at(50), status: 'paused' }));
    await triggerStore.insert(trigger({ id: 'other', nextRunAt: at(60), handler: 'other' }));
    await triggerStore.insert(trigger({ id: 'manual', nextRunAt: null, schedule: { kind: 'manual' } }));
    expect((await triggerStore.findDue(at(3000), 10, ['h'])).map((x) => x.id)).toEqual(['early', 'edge']);
    expect((await triggerStore.findDue(at(10_000), 1, ['h'])).map((x) => x.id)).toEqual(['early']);
    expect((await triggerStore.findDue(at(10_000), 10, ['h', 'other'])).map((x) => x.id)).toEqual(['other', 'early', 'edge', 'late']);
    expect(await triggerStore.findDue(at(10_000), 10, [])).toEqual([]);
  });

  it('finds event listeners, dependents and dependency edges', async () => {
    const { triggerStore } = backend();
    await triggerStore.insert(trigger({ id: 'e1', nextRunAt: null, schedule: { kind: 'event', event: 'run.done', filter: {} } }));
    await triggerStore.insert(trigger({ id: 'e2', nextRunAt: null, status: 'paused', schedule: { kind: 'event', event: 'run.done', filter: {} } }));
    await triggerStore.insert(trigger({ id: 'd1', nextRunAt: null, schedule: { kind: 'after', after: 'e1', on: 'success' } }));
    await triggerStore.insert(trigger({ id: 'd2', nextRunAt: null, status: 'paused', schedule: { kind: 'after', after: 'e1', on: 'completion' } }));
    expect((await triggerStore.findByEvent('run.done')).map((x) => x.id)).toEqual(['e1']);
    expect(await triggerStore.findByEvent('nothing')).toEqual([]);
    expect((await triggerStore.findDependents('e1')).map((x) => x.id)).toEqual(['d1']);
    // Edges include paused dependents: they still close a cycle.
    const edges = await triggerStore.dependencyEdges();
    expect(edges.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'd1', after: 'e1' },
      { id: 'd2', after: 'e1' },
    ]);
  });

  it('lists by id with filters and cursor paging, and refuses a forged cursor', async () => {
    const { triggerStore } = backend();
    for (const id of ['c', 'a', 'e', 'b', 'd']) {
      await triggerStore.insert(
        trigger({ id, tags: id === 'b' || id === 'd' ? ['x'] : [], status: id === 'e' ? 'paused' : 'active', handler: id === 'a' ? 'other' : 'h' }),
      );
    }
    const first = await triggerStore.list({ limit: 2 });
    expect(first.items.map((x) => x.id)).toEqual(['a', 'b']);
    const second = await triggerStore.list({ limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((x) => x.id)).toEqual(['c', 'd']);
    const third = await triggerStore.list({ limit: 2, cursor: second.nextCursor! });
    expect(third).toMatchObject({ nextCursor: null });
    expect(third.items.map((x) => x.id)).toEqual(['e']);
    expect((await triggerStore.list({ limit: 5 })).nextCursor).toBeNull();
    expect((await triggerStore.list({ tag: 'x' })).items.map((x) => x.id)).toEqual(['b', 'd']);
    expect((await triggerStore.list({ status: 'paused' })).items.map((x) => x.id)).toEqual(['e']);
    expect((await triggerStore.list({ handler: 'other' })).items.map((x) => x.id)).toEqual(['a']);
    await expect(triggerStore.list({ cursor: 'bm9wZQ' })).rejects.toMatchObject({ field: 'cursor' });
    await expect(triggerStore.list({ limit: 0 })).rejects.toMatchObject({ field: 'limit' });
  });

  it('never puts a non-string id into a query', async () => {
    const { triggerStore, jobStore } = backend();
    await triggerStore.insert(trigger());
    const injected = { $ne: null } as unknown as string;
    await expect(triggerStore.get(injected)).rejects.toBeInstanceOf(StoreError);
    await expect(triggerStore.remove(injected)).rejects.toBeInstanceOf(StoreError);
    await expect(triggerStore.list({ tag: injected })).rejects.toBeInstanceOf(StoreError);
    await expect(jobStore.get(injected)).rejects.toBeInstanceOf(StoreError);
    await expect(jobStore.update('j1', {}, { ['$where' as 'status']: 'x' as Job['status'] })).rejects.toBeInstanceOf(StoreError);
    expect(await triggerStore.get('t1')).not.toBeNull();
  });

  it('refuses a record larger than one BSON document before writing', async () => {
    const { triggerStore, jobStore } = backend();
    const huge = 'x'.repeat(16 * 1024 * 1024 + 1);
    const error = await triggerStore.insert(trigger({ payload: { huge } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTriggerConfigError);
    expect((error as InvalidTriggerConfigError).field).toBe('payload');
    await expect(jobStore.insert(job({ payload: huge }))).rejects.toMatchObject({ field: 'payload' });
    expect(await triggerStore.get('t1')).toBeNull();
    expect(await jobStore.get('j1')).toBeNull();
  });
});

describe('MongoJobStore', () => {
  it('round-trips every field, hands out copies, refuses a duplicate key or id', async () => {
    const { jobStore } = backend();
    const input = job({
      event: { name: 'run.done', id: 'e-1' },
      upstream: { jobId: 'up', triggerId: 'tu', status: 'succeeded' },
      error: { name: 'Error', message: 'boom', code: null },
    });
    const stored = await jobStore.insert(input);
    expect(stored).toEqual(input);
    expect(await jobStore.get('j1')).toEqual(input);
    expect(await jobStore.getByKey('slot:t1:j1')).toEqual(input);
    expect(await jobStore.insert(job({ id: 'j2', key: 'slot:t1:j1' }))).toBeNull();
    expect(await jobStore.insert(job({ id: 'j1', key: 'another' }))).toBeNull();
    const read = await jobStore.get('j1');
    read!.history.push({ status: 'failed', at: at(1), instanceId: null, reason: null });
    read!.metrics.durationMs = 5;
    const again = await jobStore.get('j1');
    expect(again?.history).toHaveLength(1);
    expect(again?.metrics.durationMs).toBeNull();
    expect(await jobStore.get('j2')).toBeNull();
    expect(await jobStore.getByKey('nope')).toBeNull();
  });

  it('guards the key without ensureIndexes(): the store creates the unique index before its first insert', async () => {
    const { jobStore } = backend();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => jobStore.insert(job({ id: `race${i}`, key: 'slot:t1:2026-03-01T10:00:00.000Z' }))),
    );
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(await jobStore.collection.countDocuments({})).toBe(1);
  });

  it('conditional update: status and lease token must hold; patch and history are applied', async () => {
    const { jobStore } = backend();
    await jobStore.insert(job({ status: 'running', fence: 3, lease: { owner: 'a', token: 3, expiresAt: at(30_000) } }));
    expect(await jobStore.update('j1', { status: ['running'], leaseToken: 2 }, { status: 'succeeded' })).toBeNull();
    expect(await jobStore.update('j1', { status: ['pending'] }, { status: 'succeeded' })).toBeNull();
    expect(await jobStore.update('missing', {}, { status: 'succeeded' })).toBeNull();
    // An empty patch answers whether the condition holds.
    expect((await jobStore.update('j1', { leaseToken: 3 }, {}))?.id).toBe('j1');
    expect(await jobStore.update('j1', { leaseToken: 4 }, {})).toBeNull();
    const done = await jobStore.update(
      'j1',
      { status: ['running'], leaseToken: 3 },
      {
        status: 'succeeded',
        result: { ok: true, list: [1, 2] },
        lease: null,
        finishedAt: at(10),
        metrics: { queuedMs: 1, durationMs: 9, cpuUserMs: 2, cpuSystemMs: 1, heapUsedBytes: -20, threadWaitMs: 3 },
      },
      [
        { status: 'succeeded', at: at(10), instanceId: 'a', reason: 'done' },
        { status: 'succeeded', at: at(11), instanceId: null, reason: null },
      ],
    );
    expect(done).toMatchObject({ status: 'succeeded', result: { ok: true, list: [1, 2] }, lease: null, fence: 3, finishedAt: at(10) });
    expect(done?.metrics).toEqual({ queuedMs: 1, durationMs: 9, cpuUserMs: 2, cpuSystemMs: 1, heapUsedBytes: -20, threadWaitMs: 3 });
    expect(done?.history.map((h) => h.reason)).toEqual(['scheduled', 'done', null]);
    expect(await jobStore.get('j1')).toEqual(done);
    // Without a lease no token matches, not even the last fence.
    expect(await jobStore.update('j1', { leaseToken: 3 }, { cancelRequested: true })).toBeNull();
  });

  it('claimPending: earliest runAt, then priority; handler and gate filters; token = fence + 1', async () => {
    const { jobStore } = backend();
    await jobStore.insert(job({ id: 'low', key: 'k-low', runAt: at(0), priority: 0 }));
    await jobStore.insert(job({ id: 'high', key: 'k-high', runAt: at(0), priority: 5 }));
    await jobStore.insert(job({ id: 'earlier', key: 'k-earlier', runAt: at(-5), priority: -1, fence: 7 }));
    await jobStore.insert(job({ id: 'future', key: 'k-future', runAt: at(60_000) }));
    await jobStore.insert(job({ id: 'other', key: 'k-other', runAt: at(-10), handler: 'other' }));
    await jobStore.insert(job({ id: 'gated', key: 'k-gated', runAt: at(-20), gate: 't1' }));
    await jobStore.insert(job({ id: 'running', key: 'k-running', runAt: at(-30), status: 'running' }));

    expect(await jobStore.nextPendingAt(['h'])).toEqual(at(-5));
    const first = await jobStore.claimPending(at(1), claimOptions());
    expect(first).toMatchObject({ id: 'earlier', status: 'running', fence: 8, instanceId: 'me', gate: null });
    expect(first?.lease).toEqual({ owner: 'me', token: 8, expiresAt: at(30_000) });
    expect(first?.history.map((h) => h.reason)).toEqual(['scheduled', 'claimed']);
    expect((await jobStore.claimPending(at(1), claimOptions()))?.id).toBe('high');
    expect((await jobStore.claimPending(at(1), claimOptions()))?.id).toBe('low');
    expect(await jobStore.claimPending(at(1), claimOptions())).toBeNull();
    expect(await jobStore.claimPending(at(1), claimOptions({ handlers: [] }))).toBeNull();
    expect(await jobStore.nextPendingAt(['h'])).toEqual(at(60_000));
    expect(await jobStore.nextPendingAt(['nobody'])).toBeNull();

    expect(await jobStore.gatedTriggerIds(at(1), ['h'], 10)).toEqual(['t1']);
    expect(await jobStore.gatedTriggerIds(at(-100), ['h'], 10)).toEqual([]);
    expect(await jobStore.gatedTriggerIds(at(1), ['other'], 10)).toEqual([]);
    const gated = await jobStore.claimPending(at(1), claimOptions({ gate: 't1' }));
    expect(gated).toMatchObject({ id: 'gated', gate: null, fence: 1, lease: { owner: 'me', token: 1 } });
    expect(await jobStore.gatedTriggerIds(at(1), ['h'], 10)).toEqual([]);

    // Back to pending and claimed again: the fence, and with it the token, keeps growing.
    await jobStore.update('high', { status: ['running'], leaseToken: 1 }, { status: 'pending', lease: null, runAt: at(2) });
    const again = await jobStore.claimPending(at(2), claimOptions({ owner: 'you' }));
    expect(again).toMatchObject({ id: 'high', fence: 2, lease: { owner: 'you', token: 2 } });
  });

  it('renewLease extends only the current token of a running job; expired leases are found', async () => {
    const { jobStore } = backend();
    await jobStore.insert(job({ status: 'running', fence: 1, lease: { owner: 'a', token: 1, expiresAt: at(1000) } }));
    await jobStore.insert(job({ id: 'j2', key: 'k2', status: 'running', fence: 1, lease: { owner: 'b', token: 1, expiresAt: at(500) } }));
    expect(await jobStore.renewLease('j1', 2, at(5000))).toBeNull();
    const renewed = await jobStore.renewLease('j1', 1, at(5000));
    expect(renewed?.lease).toEqual({ owner: 'a', token: 1, expiresAt: at(5000) });
    expect((await jobStore.findExpiredLeases(at(1000), 10)).map((j) => j.id)).toEqual(['j2']);
    expect((await jobStore.findExpiredLeases(at(6000), 10)).map((j) => j.id)).toEqual(['j2', 'j1']);
    expect((await jobStore.findExpiredLeases(at(6000), 1)).map((j) => j.id)).toEqual(['j2']);
    await jobStore.update('j1', { leaseToken: 1 }, { status: 'succeeded', lease: null, finishedAt: at(6000) });
    expect(await jobStore.renewLease('j1', 1, at(9000))).toBeNull();
  });

  it('counts active jobs and finds final jobs whose dependents were not fired', async () => {
    const { jobStore } = backend();
    await jobStore.insert(job({ id: 'a', key: 'a', status: 'running' }));
    await jobStore.insert(job({ id: 'b', key: 'b', status: 'pending' }));
    await jobStore.insert(job({ id: 'c', key: 'c', status: 'pending' }));
    await jobStore.insert(job({ id: 'd', key: 'd', status: 'succeeded', finishedAt: at(10), dependentsFired: false }));
    await jobStore.insert(job({ id: 'e', key: 'e', status: 'running', triggerId: 't2' }));
    await jobStore.insert(job({ id: 'f', key: 'f', status: 'failed', finishedAt: at(20), dependentsFired: true }));
    await jobStore.insert(job({ id: 'g', key: 'g', status: 'cancelled', finishedAt: at(5), dependentsFired: false }));
    expect(await jobStore.countActive('t1')).toEqual({ running: 1, pending: 2 });
    expect(await jobStore.countActive('t2')).toEqual({ running: 1, pending: 0 });
    expect(await jobStore.countActive('none')).toEqual({ running: 0, pending: 0 });
    expect((await jobStore.findUnfiredDependents(at(100), 10)).map((j) => j.id)).toEqual(['g', 'd']);
    expect((await jobStore.findUnfiredDependents(at(10), 10)).map((j) => j.id)).toEqual(['g']);
  });

  it('lists newest slot first, paging through equal slots by id', async () => {
    const { jobStore } = backend();
    const slots = [0, 1000, 1000, 1000, 2000, 3000];
    for (const [i, offset] of slots.entries()) {
      await jobStore.insert(job({ id: `j${i}`, key: `k${i}`, scheduledFor: at(offset), status: i % 2 ? 'failed' : 'succeeded', triggerId: i === 5 ? 't2' : 't1' }));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Job[]; nextCursor: string | null } = await jobStore.list({ limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['j5', 'j4', 'j3', 'j2', 'j1', 'j0']);
    expect((await jobStore.list({ status: 'failed' })).items.map((j) => j.id)).toEqual(['j5', 'j3', 'j1']);
    expect((await jobStore.list({ status: ['failed', 'succeeded'], triggerId: 't1' })).items.map((j) => j.id)).toEqual(['j4', 'j3', 'j2', 'j1', 'j0']);
    expect((await jobStore.list({ from: at(1000), to: at(2000) })).items.map((j) => j.id)).toEqual(['j3', 'j2', 'j1']);
    expect((await jobStore.list({ from: at(1000).toISOString(), to: at(2000).getTime() })).items).toHaveLength(3);
    await expect(jobStore.list({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ field: 'cursor' });
  });

  it('stats: counts by status, runs and duration percentiles per trigger', async () => {
    const { jobStore } = backend();
    const durations = [40, 10, 100, 30, 20];
    for (const [i, durationMs] of durations.entries()) {
      await jobStore.insert(
        job({
          id: `s${i}`,
          key: `s${i}`,
          status: 'succeeded',
          finishedAt: at(i * 10),
          metrics: { queuedMs: 0, durationMs, cpuUserMs: null, cpuSystemMs: null, heapUsedBytes: null, threadWaitMs: null },
        }),
      );
    }
    await jobStore.insert(job({ id: 'f', key: 'f', status: 'failed', finishedAt: at(5) }));
    await jobStore.insert(job({ id: 'p', key: 'p', status: 'pending' }));
    await jobStore.insert(job({ id: 'x', key: 'x', status: 'cancelled', triggerId: 't2', finishedAt: at(1000) }));
    await jobStore.insert(
      job({ id: 'y', key: 'y', status: 'succeeded', triggerId: 't2', finishedAt: at(7), metrics: { queuedMs: null, durationMs: 7, cpuUserMs: null, cpuSystemMs: null, heapUsedBytes: null, threadWaitMs: null } }),
    );
    const all = await jobStore.stats({});
    expect(all.byStatus).toEqual({ pending: 1, running: 0, succeeded: 6, failed: 1, cancelled: 1, skipped: 0 });
    expect(all.byTrigger).toMatchObject({
      t1: { runs: 6, succeeded: 5, failed: 1, lastFinishedAt: at(40), p50DurationMs: 30, p95DurationMs: 100 },
      t2: { runs: 1, succeeded: 1, failed: 0, lastFinishedAt: at(7), p50DurationMs: 7, p95DurationMs: 7 },
    });
    // #20's figures: jobs now per state, the last success, failures since, start lag.
    expect(all.byTrigger.t1).toMatchObject({ pending: 1, running: 0, skipped: 0, lastSucceededAt: at(40), failedInRow: 0, p50LagMs: 0, p95LagMs: 0 });
    expect(all.byTrigger.t2).toMatchObject({ pending: 0, running: 0, skipped: 0, lastSucceededAt: at(7), failedInRow: 0, p50LagMs: null });
    const one = await jobStore.stats({ triggerId: 't2' });
    expect(one.byStatus).toEqual({ pending: 0, running: 0, succeeded: 1, failed: 0, cancelled: 1, skipped: 0 });
    expect(Object.keys(one.byTrigger)).toEqual(['t2']);
    expect((await jobStore.stats({ triggerId: 'none' })).byTrigger).toEqual({});
  });

  it('purge deletes only final jobs finished before the instant whose dependents were fired', async () => {
    const { jobStore } = backend();
    await jobStore.insert(job({ id: 'old', key: 'old', status: 'succeeded', finishedAt: at(0), dependentsFired: true }));
    await jobStore.insert(job({ id: 'oldSkipped', key: 'oldSkipped', status: 'skipped', finishedAt: at(1), dependentsFired: true }));
    await jobStore.insert(job({ id: 'unfired', key: 'unfired', status: 'failed', finishedAt: at(0), dependentsFired: false }));
    await jobStore.insert(job({ id: 'recent', key: 'recent', status: 'succeeded', finishedAt: at(10_000), dependentsFired: true }));
    await jobStore.insert(job({ id: 'pending', key: 'pending', status: 'pending' }));
    expect(await jobStore.purge(at(5000))).toBe(2);
    expect(await jobStore.get('old')).toBeNull();
    expect(await jobStore.get('oldSkipped')).toBeNull();
    for (const id of ['unfired', 'recent', 'pending']) expect(await jobStore.get(id)).not.toBeNull();
    // The key of a purged job is free again.
    expect(await jobStore.insert(job({ id: 'again', key: 'old' }))).not.toBeNull();
  });
});

describe('MongoLockManager', () => {
  it('one holder at a time; renew and release only with the current token; tokens grow', async () => {
    const { lockManager } = backend();
    const a = await lockManager.acquire('k', 'a', 1000, at(0));
    expect(a).toEqual({ key: 'k', owner: 'a', token: 1, expiresAt: at(1000) });
    expect(await lockManager.acquire('k', 'b', 1000, at(500))).toBeNull();
    expect(await lockManager.acquire('k', 'a', 1000, at(500))).toBeNull();
    expect(await lockManager.renew(a!, 1000, at(900))).toEqual({ key: 'k', owner: 'a', token: 1, expiresAt: at(1900) });
    // Expired at 1900: renewal is refused even before anyone takes it over.
    expect(await lockManager.renew(a!, 1000, at(1900))).toBeNull();
    const b = await lockManager.acquire('k', 'b', 1000, at(2000));
    expect(b?.owner).toBe('b');
    expect(b!.token).toBeGreaterThan(a!.token);
    expect(await lockManager.renew(a!, 1000, at(2100))).toBeNull();
    expect(await lockManager.release(a!)).toBe(false);
    expect(await lockManager.release(b!)).toBe(true);
    expect(await lockManager.release(b!)).toBe(false);
    const c = await lockManager.acquire('k', 'c', 1000, at(2200));
    expect(c!.token).toBeGreaterThan(b!.token);
    // Another key has its own lock.
    expect((await lockManager.acquire('other', 'a', 1000, at(2200)))?.owner).toBe('a');
  });

  it('tokens keep growing after the lock document is gone (released or removed by TTL)', async () => {
    const { lockManager } = backend();
    const tokens: number[] = [];
    for (let i = 0; i < 3; i++) {
      const lease = await lockManager.acquire('maintenance', `i${i}`, 1000, at(i * 10));
      tokens.push(lease!.token);
      expect(await lockManager.release(lease!)).toBe(true);
    }
    const held = await lockManager.acquire('maintenance', 'x', 1000, at(100));
    tokens.push(held!.token);
    // What the TTL monitor would do once it expired.
    await lockManager.collection.deleteMany({});
    const afterTtl = await lockManager.acquire('maintenance', 'y', 1000, at(200));
    tokens.push(afterTtl!.token);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    expect(await lockManager.counterCollection.countDocuments({ _id: 'lock:maintenance' })).toBe(1);
  });

  it('a lease granted over a missing document still beats every token drawn before it', async () => {
    const { lockManager } = backend();
    // Someone drew tokens 1..5 (and maybe held and released the lock) without a document remaining.
    await lockManager.counterCollection.insertOne({ _id: 'lock:k', seq: 5 });
    const lease = await lockManager.acquire('k', 'a', 1000, at(0));
    expect(lease!.token).toBeGreaterThan(5);
    // An old holder's late renewal or release with a smaller token cannot touch it.
    expect(await lockManager.release({ key: 'k', owner: 'old', token: 5, expiresAt: at(1000) })).toBe(false);
    expect(await lockManager.renew({ key: 'k', owner: 'old', token: 5, expiresAt: at(1000) }, 1000, at(10))).toBeNull();
  });

  it('racing acquires of a free lock: exactly one winner, holding the stored token', async () => {
    const { lockManager } = backend();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => lockManager.acquire('race', `o${i}`, 10_000, at(0))));
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    const held = await lockManager.collection.findOne({ _id: 'race' });
    expect(held?.token).toBe(winners[0]?.token);
  });

  it('racing take-overs of an expired lock: never two winners (claim markers on FerretDB)', async () => {
    const { lockManager } = backend();
    for (let round = 0; round < 5; round++) {
      const now = round * 10_000;
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => lockManager.acquire('race', `o${i}`, 1000, at(now))));
      const winners = results.filter((r) => r !== null).length;
      if (caps.isFerret) {
        // FerretDB's $inc is not atomic either, so the token counter can fall behind the lock's
        // token and a whole round can lose (docs/mongodb.md); exclusion still holds, and a later
        // attempt draws past it.
        expect(winners, `round ${round}`).toBeLessThanOrEqual(1);
        let lease = winners === 1 ? results.find((r) => r !== null) : null;
        for (let retry = 0; !lease && retry < 20; retry++) lease = await lockManager.acquire('race', 'late', 1000, at(now + 1));
        expect(lease, `round ${round}: someone gets the lock`).toBeTruthy();
      } else {
        expect(winners, `round ${round}`).toBe(1);
      }
    }
  });
});

describe('racing instances on this server', () => {
  it('claimPending hands a pending job to exactly one of several racing instances', async () => {
    const { jobStore } = backend();
    for (let round = 0; round < 5; round++) {
      await jobStore.insert(job({ id: `r${round}`, key: `r${round}` }));
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => jobStore.claimPending(at(1), claimOptions({ owner: `o${i}` }))));
      const winners = results.filter((r) => r !== null);
      expect(winners, `round ${round}`).toHaveLength(1);
      const stored = await jobStore.get(`r${round}`);
      expect(stored?.lease?.token).toBe(winners[0]?.lease?.token);
      // FerretDB: a losing racer's write may be the one stored, naming it as the lease owner.
      if (!caps.isFerret) expect(stored?.lease).toEqual(winners[0]?.lease);
    }
    // Claim markers are written only where updates are not atomic ('auto'), and purge drops old ones.
    const claims = t.db.collection(`s${prefixes}_claims`);
    expect((await claims.countDocuments({})) > 0).toBe(caps.isFerret);
    await jobStore.purge(at(2));
    expect(await claims.countDocuments({})).toBe(0);
  });

  it('fires a slot once even when several instances race for it: the job key decides', async () => {
    const { triggerStore, jobStore } = backend();
    await triggerStore.insert(trigger());
    const slot = at(0);
    const update = { nextRunAt: at(1000), lastRunAt: slot, status: 'active' as const, updatedAt: at(1) };
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const claimed = await triggerStore.claimSlot('t1', slot, 1, update);
        if (!claimed) return { claimed: false, inserted: false };
        const inserted = await jobStore.insert(job({ id: `j${i}`, key: `slot:t1:${slot.toISOString()}` }));
        return { claimed: true, inserted: inserted !== null };
      }),
    );
    const claims = outcomes.filter((o) => o.claimed).length;
    expect(claims).toBeGreaterThanOrEqual(1);
    if (!caps.isFerret) expect(claims).toBe(1);
    expect(outcomes.filter((o) => o.inserted)).toHaveLength(1);
    expect(await jobStore.collection.countDocuments({ key: `slot:t1:${slot.toISOString()}` })).toBe(1);
    expect((await triggerStore.get('t1'))?.nextRunAt).toEqual(at(1000));
  });
});

describe('createMongoBackend', () => {
  it('ensureIndexes is idempotent and reports TTL support as the server has it', async () => {
    const b = backend();
    warnings.length = 0;
    const first = await b.ensureIndexes();
    const second = await b.ensureIndexes();
    expect(second).toEqual(first);
    expect(first.ttl).toBe(caps.ttlIndexes);
    const prefix = `s${prefixes}_`;
    const names = async (collection: string): Promise<string[]> =>
      (await t.db.collection(collection).listIndexes().toArray()).map((index: Document) => String(index['name']));
    for (const [collection, expected] of Object.entries(first.indexes)) {
      expect(collection.startsWith(prefix)).toBe(true);
      if (expected.length > 0) expect(await names(collection)).toEqual(expect.arrayContaining(expected));
    }
    expect(first.indexes[`${prefix}triggers`]).toEqual(['due_owned', 'event', 'after', 'tags']);
    expect(first.indexes[`${prefix}jobs`]).toEqual(
      expect.arrayContaining(['key_unique', 'claim', 'trigger_status', 'trigger_scheduled', 'scheduled', 'lease_expiry', 'finished']),
    );
    if (caps.ttlIndexes) {
      expect(first.indexes[`${prefix}locks`]).toEqual(['ttl_expires']);
      expect(first.indexes[`${prefix}jobs`]).toContain('ttl_finished');
      expect(warnings).toEqual([]);
    } else {
      expect(first.indexes[`${prefix}locks`]).toEqual([]);
      expect(warnings.length).toBeGreaterThanOrEqual(2);
      expect(warnings[0]?.fields).toMatchObject({ code: 238 });
    }
    const unique = ((await t.db.collection(`${prefix}jobs`).listIndexes().toArray()) as Document[]).find((index: Document) => index['name'] === 'key_unique');
    expect(unique?.['unique']).toBe(true);
  });

  it('applies a changed retention period to the TTL index, or falls back to purge where TTL is refused', async () => {
    const first = createMongoBackend({ db: t.db, collectionPrefix: 'ttl_', jobRetentionDays: 90 });
    await first.ensureIndexes();
    const second = createMongoBackend({ db: t.db, collectionPrefix: 'ttl_', jobRetentionDays: 7 });
    const report = await second.ensureIndexes();
    expect(report.ttl).toBe(caps.ttlIndexes);
    const ttl = ((await t.db.collection('ttl_jobs').listIndexes().toArray()) as Document[]).find((index: Document) => index['name'] === 'ttl_finished');
    if (caps.ttlIndexes) {
      expect(ttl?.['expireAfterSeconds']).toBe(7 * 86_400);
    } else {
      // No TTL index on this server: the engine's periodic purge is what enforces retention.
      expect(ttl).toBeUndefined();
      await second.jobStore.insert(job({ id: 'old', key: 'old', status: 'succeeded', finishedAt: at(0), dependentsFired: true }));
      await second.jobStore.insert(job({ id: 'new', key: 'new', status: 'succeeded', finishedAt: at(10_000), dependentsFired: true }));
      expect(await second.jobStore.purge(at(5000))).toBe(1);
      expect(await second.jobStore.get('old')).toBeNull();
      expect(await second.jobStore.get('new')).not.toBeNull();
    }
  });

  it('ensureIndexes drops the due index that due_owned replaces', async () => {
    const b = backend();
    const prefix = `s${prefixes}_`;
    const triggers = t.db.collection(`${prefix}triggers`);
    await triggers.createIndex({ status: 1, nextRunAt: 1, handler: 1 }, { name: 'due' });
    await b.ensureIndexes();
    const names = (await triggers.listIndexes().toArray()).map((index: Document) => String(index['name']));
    expect(names).toContain('due_owned');
    expect(names).not.toContain('due');
  });

  it('findDue with buckets reads the triggers of those buckets and those stored without one', async () => {
    const b = backend();
    await b.ensureIndexes();
    const prefix = `s${prefixes}_`;
    const ids = Array.from({ length: 30 }, (_, i) => `o${i}`);
    for (const [i, id] of ids.entries()) await b.triggerStore.insert(trigger({ id, nextRunAt: at(100 + i) }));
    const triggers = t.db.collection<{ _id: string; bucket?: number }>(`${prefix}triggers`);
    // Every document carries its bucket, and an older one without it is read by every poll.
    for (const id of ids) expect((await triggers.findOne({ _id: id }))?.bucket).toBe(triggerBucket(id));
    await triggers.updateOne({ _id: 'o1' }, { $unset: { bucket: '' } });
    const mine = [triggerBucket('o0'), triggerBucket('o2')];
    const due = (await b.triggerStore.findDue(at(10_000), 100, ['h'], undefined, undefined, mine)).map((x) => x.id);
    expect(due).toEqual(ids.filter((id) => id === 'o1' || mine.includes(triggerBucket(id))));
    // A replacement writes the bucket again.
    const o1 = (await b.triggerStore.get('o1'))!;
    expect(await b.triggerStore.replace({ ...o1, name: 'renamed' }, o1.version)).toBe(true);
    expect((await triggers.findOne({ _id: 'o1' }))?.bucket).toBe(triggerBucket('o1'));
  });

  it('the due-trigger query is served by an index where the plan says so', async () => {
    // Every server this suite runs on (MongoDB, FerretDB) has explain; fail loudly if one does not.
    expect(caps.explain, 'the server answers explain').toBe(true);
    const b = backend();
    await b.ensureIndexes();
    const prefix = `s${prefixes}_`;
    for (let i = 0; i < 20; i++) await b.triggerStore.insert(trigger({ id: `t${i}`, nextRunAt: at(i * 1000), status: i % 3 ? 'active' : 'paused' }));
    const plan: Document = await t.db
      .collection(`${prefix}triggers`)
      .find({ status: 'active', nextRunAt: { $lte: at(5000) }, handler: { $in: ['h'] } })
      .sort({ nextRunAt: 1 })
      .limit(10)
      .explain();
    const planner = plan['queryPlanner'] as Document;
    if (planner['winningPlan'] !== undefined) {
      // MongoDB: an index scan on the `due` index, and no in-memory sort.
      const text = JSON.stringify(planner['winningPlan']);
      expect(text).toContain('IXSCAN');
      expect(text).toContain('"indexName":"due_owned"');
      expect(text).not.toContain('"stage":"SORT"');
    } else if (caps.filterPushdown) {
      // FerretDB v1 (PostgreSQL): PostgreSQL's plan; the equality on `status` is pushed down, the
      // range and the sort are not, and no index serves a pushed-down filter (docs/mongodb.md).
      expect(typeof (planner['Plan'] as Document)['Node Type']).toBe('string');
      expect(plan['filterPushdown']).toBe(true);
    } else {
      // FerretDB v1 (SQLite): the plan is SQLite's text. It pushes down no filter on fields other
      // than _id, so it scans (documented in docs/mongodb.md); what we can check is that the plan
      // is SQLite's and that the index exists for when pushdown arrives.
      expect(Array.isArray(planner['Plan'])).toBe(true);
      expect(plan['filterPushdown']).toBe(false);
    }
    if (planner['winningPlan'] === undefined) {
      // FerretDB: the index exists for when a backend uses it.
      const names = (await t.db.collection(`${prefix}triggers`).listIndexes().toArray()).map((index: Document) => index['name'] as unknown);
      expect(names).toContain('due_owned');
    }
    expect((await b.triggerStore.findDue(at(5000), 10, ['h'])).map((x) => x.id)).toEqual(['t1', 't2', 't4', 't5']);
  });

  it('takes a client and a database name, and measures the clock offset', async () => {
    const b = createMongoBackend({ client: t.client, dbName: t.dbName, collectionPrefix: 'client_' });
    await b.triggerStore.insert(trigger({ id: 'via-client' }));
    expect(await t.db.collection<{ _id: string }>('client_triggers').countDocuments({ _id: 'via-client' })).toBe(1);
    await b.triggerStore.ping();
    await b.jobStore.ping();
    const offset = await b.clockOffset();
    expect(Number.isFinite(offset)).toBe(true);
    // Same machine: the server's clock is ours, give or take the round trip.
    if (caps.serverTimeInHello) expect(Math.abs(offset)).toBeLessThan(2000);
  });

  it('refuses bad options', () => {
    expect(() => createMongoBackend({ db: t.db, collectionPrefix: 'a$b' })).toThrow(/collectionPrefix/);
    expect(() => createMongoBackend({ db: t.db, jobRetentionDays: 0 })).toThrow(/jobRetentionDays/);
  });
});
