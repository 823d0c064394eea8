/**
 * Reliability across *processes*: several scheduler processes (`worker-process.ts`, one Node process
 * each) share one database.
 *
 * 1. One process is SIGKILLed while it runs jobs. Checked afterwards from the jobs collection alone:
 *    every slot of every trigger in the window has exactly one job (none missing, none twice), all
 *    of them succeeded, and every job that was running on the killed process was finished by
 *    another one.
 * 2. The database server is stopped and started again mid-run (same port, same data). The
 *    scheduler processes stay alive, report the outage as `error` events, and carry on: slots after
 *    the restart fire on schedule, once each, and every job in the window ends `succeeded`.
 *
 * Runs against `MONGODB_URI` (FerretDB in CI). The restart needs a server this test owns; see
 * `restartable-server.ts` for how it is chosen. Both tests together take well under two minutes.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient, type Collection, type Db } from 'mongodb';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ownerOf as ownerAmong } from '../../src/engine/membership.js';
import { Scheduler } from '../../src/index.js';
import { createMongoBackend, type MongoBackend } from '../../src/stores/mongo/index.js';
import { detectCapabilities, stopSharedMongo, withTestDb, type TestDb } from '../helpers/mongo.js';
import { delay, startWorker, useWorkerTeardown, waitFor, type WorkerHandle } from './processes.js';
import { openRestartableServer, type RestartableServer } from './restartable-server.js';

const HANDLER = 'reliability.work';
/**
 * Load. FerretDB v1 scans the whole jobs collection for every query (no index use, see
 * docs/mongodb.md) and serialises writes on SQLite, so its CPU cost grows with the number of jobs
 * times the poll rate: measured here, 5 triggers every 500 ms with 200 ms polls pushed a private
 * FerretDB past one CPU within ~20 s and the cluster into a backlog it never worked off. One fire
 * per trigger per second keeps it well below that, also while other test files share the server.
 */
const EVERY_MS = 1000;
const TRIGGERS = 5;
const WORKERS = 3;
/** Scheduler settings of the worker processes (lease short enough for a quick recovery). */
const WORKER_SETTINGS = { pollMs: 200, lookaheadMs: 1000, leaseMs: 3000, concurrency: 4, workMinMs: 400, workMaxMs: 700 };
const FINAL = ['succeeded', 'failed', 'cancelled', 'skipped'];

/** The fields of a stored job this test reads. */
interface JobDoc {
  _id: string;
  key: string;
  triggerId: string;
  scheduledFor: Date;
  status: string;
  attempts: number;
  instanceId: string | null;
  finishedAt: Date | null;
  lease: { owner: string; expiresAt: Date } | null;
  history: Array<{ status: string; at: Date; instanceId: string | null; reason: string | null }>;
}

const cleanups = useWorkerTeardown({ afterEach, afterAll, stopSharedMongo });

let triggerIdsInUse: string[] = [];

/** The trigger ids of the running test (set by `addTriggers`). */
function triggerIds(): string[] {
  return triggerIdsInUse;
}

/**
 * `TRIGGERS` ids such that every worker owns at least one under slot ownership (rendezvous
 * hashing over the workers' instance ids), so that every process runs jobs from the start: with
 * five triggers and three processes, one process would otherwise own none about a third of the time.
 */
function coveringTriggerIds(instanceIds: string[]): string[] {
  const ownerOf = (id: string): string => ownerAmong(instanceIds, id);
  const chosen: string[] = [];
  const owned = new Set<string>();
  for (let k = 1; chosen.length < TRIGGERS; k++) {
    const id = `t${k}`;
    const owner = ownerOf(id);
    // Take it if its owner has none yet, or while there is room beyond the owners still missing.
    if (!owned.has(owner) || TRIGGERS - chosen.length > instanceIds.length - owned.size) {
      chosen.push(id);
      owned.add(owner);
    }
  }
  return chosen;
}

/** Add the triggers from this (non-started) process: `every` 500 ms from an aligned `startAt`. */
async function addTriggers(backend: MongoBackend, startAt: number, workers: WorkerHandle[]): Promise<void> {
  triggerIdsInUse = coveringTriggerIds(workers.map((w) => w.instanceId));
  const admin = new Scheduler({ ...backend, instanceId: 'test-admin' });
  admin.register(HANDLER, () => undefined);
  for (const id of triggerIds()) {
    await admin.addTrigger({
      id,
      handler: HANDLER,
      schedule: { every: EVERY_MS, startAt: new Date(startAt) },
      retry: { attempts: 5 },
    });
  }
}

/** First slot: aligned to the period, at least `leadMs` from now. */
function alignedStart(leadMs: number): number {
  return Math.ceil((Date.now() + leadMs) / EVERY_MS) * EVERY_MS;
}

async function startWorkers(uri: string, dbName: string, tag: string): Promise<WorkerHandle[]> {
  const suffix = randomBytes(2).toString('hex');
  const workers = Array.from({ length: WORKERS }, (_, i) =>
    startWorker({
      uri,
      dbName,
      instanceId: `${tag}-w${i + 1}-${suffix}`,
      ...WORKER_SETTINGS,
      // Diagnostics, printed only when a check fails.
      statusEveryMs: 2000,
      logLevel: 'warn',
      traceSlowMs: 1000,
      driverEvents: true,
    }),
  );
  await Promise.all(workers.map((w) => w.ready));
  return workers;
}

interface SlotReport {
  slotsChecked: number;
  missing: string[];
  duplicates: string[];
  offGrid: string[];
  notSucceeded: string[];
}

/**
 * Every slot `startAt + k * EVERY_MS` in [from, to] of every trigger must have exactly one job.
 * Duplicates and off-grid jobs are reported over the whole collection, not just the window.
 */
function checkSlots(jobs: JobDoc[], startAt: number, from: number, to: number): SlotReport {
  const report: SlotReport = { slotsChecked: 0, missing: [], duplicates: [], offGrid: [], notSucceeded: [] };
  const bySlot = new Map<string, JobDoc[]>();
  for (const job of jobs) {
    const at = job.scheduledFor.getTime();
    if ((at - startAt) % EVERY_MS !== 0 || at < startAt) report.offGrid.push(`${job.triggerId}@${job.scheduledFor.toISOString()}`);
    const key = `${job.triggerId}@${at}`;
    const list = bySlot.get(key) ?? [];
    list.push(job);
    bySlot.set(key, list);
  }
  for (const [key, list] of bySlot) {
    if (list.length > 1) report.duplicates.push(`${key}: ${list.map((j) => `${j._id}(${j.key})`).join(', ')}`);
  }
  for (const id of triggerIds()) {
    for (let slot = startAt; slot <= to; slot += EVERY_MS) {
      if (slot < from) continue;
      report.slotsChecked += 1;
      const list = bySlot.get(`${id}@${slot}`) ?? [];
      const label = `${id}@${new Date(slot).toISOString()}`;
      if (list.length === 0) report.missing.push(label);
      for (const job of list) if (job.status !== 'succeeded') report.notSucceeded.push(`${label}: ${job.status}`);
    }
  }
  return report;
}

function jobsCollection(db: Db): Collection<JobDoc> {
  return db.collection<JobDoc>('scheduler_jobs');
}

function errorCount(workers: WorkerHandle[], since = 0): number {
  return workers.reduce((n, w) => n + w.errors.filter((e) => e.at >= since).length, 0);
}

function describeWorkers(workers: WorkerHandle[]): string {
  return workers
    .map(
      (w) =>
        `${w.instanceId} pid ${w.pid} alive=${w.alive()} errors=${w.errors.length}\n` +
        `  stdout (last lines):\n${w.lines.slice(-25).map((l) => `    ${l}`).join('\n')}\n  stderr: ${w.stderr().slice(-2000)}`,
    )
    .join('\n');
}

describe('several scheduler processes on one database', () => {
  it('loses nothing when one process is SIGKILLed mid-run: every slot once, its running jobs finish elsewhere', async () => {
    const began = Date.now();
    const testDb: TestDb = await withTestDb('reliab_kill');
    cleanups.push(() => testDb.close());
    const uri = process.env['MONGODB_URI']?.trim() || `mongodb://${testDb.client.options.hosts.map(String).join(',')}/`;
    const backend = createMongoBackend({ db: testDb.db });
    await backend.ensureIndexes();
    const caps = await detectCapabilities(testDb.db);
    const jobs = jobsCollection(testDb.db);

    const workers = await startWorkers(uri, testDb.dbName, 'kill');
    const startAt = alignedStart(1000);
    await addTriggers(backend, startAt, workers);

    // Jobs are flowing: every trigger and every process has a finished run.
    await waitFor(
      async () =>
        (await jobs.distinct('triggerId', { status: 'succeeded' })).length === TRIGGERS &&
        (await jobs.distinct('instanceId', { status: 'succeeded' })).length >= WORKERS,
      15_000,
      () => `jobs did not start flowing; workers:\n${describeWorkers(workers)}`,
    );

    // Kill between two slots, once every job of the last slot is in the store (so no claim of
    // the victim is between its claim and its insert: the documented one-round-trip window of loss
    // is not what this test is about), while jobs of that slot (400-700 ms each) still run. Kill
    // whichever process runs the most jobs right then.
    const triggers = testDb.db.collection<{ _id: string; nextRunAt: Date | null }>('scheduler_triggers');
    let victim: WorkerHandle | null = null;
    let killAt = 0;
    let killSlot = 0;
    for (let attempt = 0; attempt < 15 && !victim; attempt++) {
      const slot = startAt + Math.floor((Math.max(Date.now(), startAt + 3 * EVERY_MS) - startAt) / EVERY_MS) * EVERY_MS;
      await delay(slot + 150 - Date.now());
      for (let probe = 0; probe < 10 && !victim && Date.now() < slot + EVERY_MS - 250; probe++) {
        const [settled, advanced, running] = await Promise.all([
          jobs.countDocuments({ scheduledFor: new Date(slot) }),
          triggers.countDocuments({ nextRunAt: { $gt: new Date(slot) } }),
          jobs.find({ status: 'running' }, { projection: { instanceId: 1, lease: 1 } }).toArray(),
        ]);
        if (Date.now() >= slot + EVERY_MS - 250) break;
        const counts = workers.map((w) => running.filter((j) => j.lease?.owner === w.instanceId && j.instanceId === w.instanceId).length);
        const best = counts.indexOf(Math.max(...counts));
        if (settled === TRIGGERS && advanced === TRIGGERS && counts[best]! > 0) {
          victim = workers[best]!;
          killAt = Date.now();
          killSlot = slot;
          await victim.kill();
        } else {
          await delay(50);
        }
      }
    }
    expect(victim, 'no process had a running job at any probe').not.toBeNull();
    const killed = victim!;
    const survivors = workers.filter((w) => w !== killed);
    // The process is gone: whatever still runs under its name was running on it when it died.
    const orphans = await jobs
      .find({ status: 'running', $or: [{ instanceId: killed.instanceId }, { 'lease.owner': killed.instanceId }] })
      .toArray();
    expect(orphans.length, 'the killed process had no running job left in the store').toBeGreaterThan(0);

    // Let the survivors carry on for a while, then check a window that ends a second before now.
    // The lease (3 s) must run out and a maintenance pass (every lease/3) recover the jobs first.
    const windowEnd = Math.max(startAt + 10 * EVERY_MS, killAt + 6000);
    await delay(windowEnd - Date.now());
    const lastChecked = startAt + Math.floor((windowEnd - 1000 - startAt) / EVERY_MS) * EVERY_MS;
    const orphanIds = orphans.map((j) => j._id);
    await waitFor(
      async () =>
        (await jobs.countDocuments({
          $or: [{ scheduledFor: { $lte: new Date(lastChecked) } }, { _id: { $in: orphanIds } }],
          status: { $nin: FINAL },
        })) === 0,
      15_000,
      async () =>
        `jobs of the window still unfinished: ${JSON.stringify(
          await jobs.find({ scheduledFor: { $lte: new Date(lastChecked) }, status: { $nin: FINAL } }).toArray(),
        )}\nworkers:\n${describeWorkers(workers)}`,
    );
    for (const w of survivors) expect(w.alive(), `${w.instanceId} died:\n${w.stderr()}`).toBe(true);
    const exitCodes = await Promise.all(survivors.map((w) => w.stop()));

    const all = await jobs.find({}).toArray();
    const report = checkSlots(all, startAt, startAt, lastChecked);
    const recovered = await jobs.find({ _id: { $in: orphanIds } }).toArray();
    const recoveryProblems: string[] = [];
    let explicitRecoveries = 0;
    for (const job of recovered) {
      // Recovery: another instance found the lease expired and put the job back to pending.
      const recoveredEntry = job.history.find(
        (h) => h.status === 'pending' && h.reason?.startsWith('stalled:') === true && h.instanceId !== killed.instanceId,
      );
      if (recoveredEntry) explicitRecoveries += 1;
      const finished = [...job.history].reverse().find((h) => h.status === 'succeeded');
      if (job.status !== 'succeeded') recoveryProblems.push(`${job._id}: status ${job.status}`);
      else if (!finished || finished.instanceId === killed.instanceId || finished.at.getTime() < killAt) {
        recoveryProblems.push(`${job._id}: not finished by another instance after the kill: ${JSON.stringify(job.history)}`);
      }
    }
    const perInstance: Record<string, number> = {};
    for (const job of all) if (job.instanceId) perInstance[job.instanceId] = (perInstance[job.instanceId] ?? 0) + 1;
    console.log(
      '[reliability:kill]',
      JSON.stringify({
        server: caps.isFerret ? 'FerretDB' : 'MongoDB',
        slotsChecked: report.slotsChecked,
        jobs: all.length,
        killedInstance: killed.instanceId,
        killedAfterMs: killAt - startAt,
        killedMsAfterSlot: killAt - killSlot,
        orphans: orphans.length,
        explicitRecoveries,
        jobsWithRetries: all.filter((j) => j.attempts > 1).length,
        perInstance,
        survivorErrors: errorCount(survivors),
        survivorLeaseLost: survivors.reduce((n, w) => n + w.leaseLost.length, 0),
        exitCodes,
        seconds: (Date.now() - began) / 1000,
      }),
    );

    expect(report.duplicates, 'slots with two jobs').toEqual([]);
    expect(report.offGrid, 'jobs for instants that are not slots').toEqual([]);
    expect(report.missing, 'slots without a job').toEqual([]);
    expect(report.notSucceeded, 'jobs of the window that did not succeed').toEqual([]);
    expect(recoveryProblems, 'jobs of the killed process not finished by another one').toEqual([]);
    // On FerretDB a job can look like the victim's although another instance runs it (a racing
    // claim's write can be the stored one, see docs/mongodb.md), so recovery is required of at
    // least one job rather than of each.
    expect(explicitRecoveries, 'no job of the killed process was recovered from an expired lease').toBeGreaterThan(0);
    expect(exitCodes, 'surviving processes stopped gracefully').toEqual(survivors.map(() => 0));
  }, 90_000);

  it('carries on when the database server is stopped and restarted mid-run', async () => {
    const began = Date.now();
    // Throws (failing the test) with the reason when no restartable server can be had.
    const server: RestartableServer = await openRestartableServer();
    cleanups.push(() => server.stop());
    const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 15_000 });
    await client.connect();
    cleanups.push(() => client.close());
    const dbName = `sched_test_reliab_restart_${process.pid.toString(36)}_${randomBytes(4).toString('hex')}`;
    const db = client.db(dbName);
    cleanups.push(() => db.dropDatabase());
    const backend = createMongoBackend({ db });
    await backend.ensureIndexes();
    const jobs = jobsCollection(db);

    const workers = await startWorkers(server.uri, dbName, 'restart');
    const startAt = alignedStart(1000);
    await addTriggers(backend, startAt, workers);
    await waitFor(
      async () =>
        (await jobs.countDocuments({ status: 'succeeded' })) >= 2 * TRIGGERS &&
        (await jobs.distinct('instanceId', { status: 'succeeded' })).length >= WORKERS,
      15_000,
      () => `jobs did not start flowing; workers:\n${describeWorkers(workers)}`,
    );

    const restartBegan = Date.now();
    const { stoppedAt, upAt } = await server.restart(2000);
    for (const w of workers) expect(w.alive(), `${w.instanceId} died during the outage:\n${w.stderr()}`).toBe(true);

    // Fires again: every trigger gets successful jobs for slots after the restart.
    const resumeDeadline = Date.now() + 20_000;
    let firstAfter = Number.POSITIVE_INFINITY;
    const finishers = new Set<string>();
    const resumedCluster = async (): Promise<boolean> => {
      const after = await jobs
        .find({ status: 'succeeded', finishedAt: { $gt: new Date(upAt) } }, { projection: { triggerId: 1, scheduledFor: 1, instanceId: 1 } })
        .toArray();
      const perTrigger = new Map<string, number>();
      for (const j of after) {
        if (j.instanceId) finishers.add(j.instanceId);
        if (j.scheduledFor.getTime() <= upAt) continue;
        firstAfter = Math.min(firstAfter, j.scheduledFor.getTime());
        perTrigger.set(j.triggerId, (perTrigger.get(j.triggerId) ?? 0) + 1);
      }
      return triggerIds().every((id) => (perTrigger.get(id) ?? 0) >= 3);
    };
    await waitFor(
      resumedCluster,
      resumeDeadline - Date.now(),
      () => `schedulers did not resume after the restart; workers:\n${describeWorkers(workers)}`,
      200,
    );
    // Each process should also work again. Not asserted by default: with mongodb driver 7.9 a
    // process's MongoClient sometimes never reconnects after the server restarts (its monitor check
    // hangs on the closed connection; see finding 1 in README.md here), which is outside this
    // package. RELIABILITY_STRICT_RESUME=1 makes it a failure.
    await waitFor(
      async () => (await resumedCluster(), workers.every((w) => finishers.has(w.instanceId))),
      4000,
      () => '',
      250,
    ).catch(() => undefined);
    const stalled = workers.filter((w) => !finishers.has(w.instanceId));
    if (stalled.length > 0) {
      console.warn(
        `[reliability:restart] ${stalled.length} process(es) finished no job after the restart:\n${describeWorkers(stalled)}`,
      );
    }
    if (process.env['RELIABILITY_STRICT_RESUME'] === '1') {
      expect(stalled.map((w) => w.instanceId), 'processes that did not work again after the restart').toEqual([]);
    }
    const resumedAt = Date.now();
    const lastChecked = startAt + Math.floor((resumedAt - 1000 - startAt) / EVERY_MS) * EVERY_MS;
    await waitFor(
      async () => (await jobs.countDocuments({ scheduledFor: { $lte: new Date(lastChecked) }, status: { $nin: FINAL } })) === 0,
      15_000,
      async () =>
        `jobs of the window still unfinished: ${JSON.stringify(
          await jobs.find({ scheduledFor: { $lte: new Date(lastChecked) }, status: { $nin: FINAL } }).toArray(),
        )}\nworkers:\n${describeWorkers(workers)}`,
    );
    for (const w of workers) expect(w.alive(), `${w.instanceId} died after the restart:\n${w.stderr()}`).toBe(true);
    const errorsDuringOutage = workers.map((w) => w.errors.filter((e) => e.at >= restartBegan).length);
    const errorCodes = [...new Set(workers.flatMap((w) => w.errors.map((e) => e.code)))];
    const errorsBeforeOutage = workers.reduce((n, w) => n + w.errors.filter((e) => e.at < restartBegan).length, 0);
    const exitCodes = await Promise.all(workers.map((w) => w.stop()));

    const all = await jobs.find({}).toArray();
    // Strict from the restart on: the processes must fire every slot after it, once each.
    const afterRestart = checkSlots(all, startAt, upAt, lastChecked);
    // Whole window, including the outage: reported; duplicates are checked over everything.
    const whole = checkSlots(all, startAt, startAt, lastChecked);
    console.log(
      '[reliability:restart]',
      JSON.stringify({
        server: server.description,
        stopTookMs: stoppedAt - restartBegan,
        downMs: upAt - stoppedAt,
        firstSlotAfterRestartMs: Number.isFinite(firstAfter) ? firstAfter - upAt : null,
        resumedAfterMs: resumedAt - upAt,
        slotsCheckedAfterRestart: afterRestart.slotsChecked,
        slotsCheckedWhole: whole.slotsChecked,
        missingDuringOutage: whole.missing,
        notSucceededWhole: whole.notSucceeded,
        jobs: all.length,
        jobsWithRetries: all.filter((j) => j.attempts > 1).length,
        errorsBeforeOutage,
        errorsDuringOutage,
        stalledProcesses: stalled.map((w) => w.instanceId),
        errorCodes,
        sampleErrors: workers.flatMap((w) => w.errors.slice(0, 2).map((e) => `${w.instanceId}: ${e.code} ${e.message.slice(0, 160)}`)),
        exitCodes,
        seconds: (Date.now() - began) / 1000,
      }),
    );

    expect(errorsDuringOutage.reduce((a, b) => a + b, 0), 'no process reported the outage as an error').toBeGreaterThan(0);
    expect(errorCodes.every((code) => code === 'ERR_STORE'), `unexpected error codes ${errorCodes.join(', ')}`).toBe(true);
    expect(whole.duplicates, 'slots with two jobs').toEqual([]);
    expect(whole.offGrid, 'jobs for instants that are not slots').toEqual([]);
    expect(afterRestart.missing, 'slots after the restart without a job').toEqual([]);
    expect(afterRestart.notSucceeded, 'jobs after the restart that did not succeed').toEqual([]);
    expect(whole.notSucceeded, 'jobs of the window (outage included) that did not succeed').toEqual([]);
    expect(exitCodes, 'processes stopped gracefully').toEqual(workers.map(() => 0));
  }, 90_000);
});
