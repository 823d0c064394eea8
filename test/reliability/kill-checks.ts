/**
 * The asserted kill scenarios, shared by `kill-random.test.ts` (in `npm test`) and
 * `kill-anywhere.soak.ts` (`npm run test:soak`): open a cluster on a fresh database, kill a
 * process at a random instant, pause every trigger, audit, and check the audit.
 *
 * Which checks hold depends on the server, and `Expectations` says which apply:
 *
 * - always, on any server and at any load: no slot lost, none twice, no job off the grid, every
 *   `pauseTrigger` call resolved `paused`, and the kill hit a process that was running jobs;
 * - `carriesLoad`: the server keeps up with the load, so every due slot fired, every job ended
 *   `succeeded` with its `runs` row, no live job was failed and every crashed job ran again. A
 *   server that filters queries itself does (MongoDB; FerretDB v1 on PostgreSQL); FerretDB v1 on
 *   SQLite reads every job for every filtered query (docs/mongodb.md) and on two cores serves about
 *   10–14 of the 20 jobs a second issue 10 asks for; there these hold at a load it carries;
 * - `atomicUpdates`: single-document updates have one winner, so a pause sticks and no slot after
 *   it fires. FerretDB's read-modify-write lets a racing slot advance undo a pause (docs/mongodb.md).
 */
import { expect } from 'vitest';
import { withTestDb, type MongoCapabilities, type TestDb } from '../helpers/mongo.js';
import { delay } from './processes.js';
import { Cluster, figures, prng, type Audit, type ScenarioSettings } from './scenario.js';

/** Which of the load- and server-dependent checks apply. */
export interface Expectations {
  carriesLoad: boolean;
  atomicUpdates: boolean;
}

/** Every check (a server that carries the load and updates atomically, or `RELIABILITY_STRICT=1`). */
export const STRICT: Expectations = { carriesLoad: true, atomicUpdates: true };

/** `RELIABILITY_STRICT=1` asks for every check whatever the server. */
export function strictFromEnv(): boolean {
  return process.env['RELIABILITY_STRICT'] === '1';
}

/** What a server can be expected to do, from its probed capabilities. */
export function expectationsFor(caps: MongoCapabilities, options: { loadCarried: boolean }): Expectations {
  if (strictFromEnv()) return STRICT;
  return { carriesLoad: options.loadCarried || caps.filterPushdown, atomicUpdates: !caps.isFerret };
}

/** A cluster on a fresh database (on `serverUri`, else the shared test server); its teardown goes into `cleanups`. */
export async function openCluster(cleanups: Array<() => Promise<unknown>>, tag: string, settings?: Partial<ScenarioSettings>, serverUri?: string): Promise<Cluster> {
  const testDb: TestDb = await withTestDb(`reliab_${tag}`, serverUri === undefined ? {} : { uri: serverUri });
  cleanups.push(() => testDb.close());
  const uri = serverUri ?? (process.env['MONGODB_URI']?.trim() || `mongodb://${testDb.client.options.hosts.map(String).join(',')}/`);
  return new Cluster({ uri, db: testDb.db, dbName: testDb.dbName, tag, ...(settings ? { settings } : {}) });
}

/** Pause all, check the pause sticks for 3 s, let the jobs finish, audit. */
export async function finish(cluster: Cluster): Promise<{ audit: Audit; unfinished: number }> {
  await cluster.pauseAll();
  await delay(3000);
  const open = await cluster.settle(8000);
  const audit = await cluster.audit();
  return { audit, unfinished: open.length };
}

/**
 * 3 processes, the cluster's triggers; once jobs flow, a SIGKILL at a random instant within 3 s on
 * a process running a job then; 6 s for the lease to run out and the orphans to be re-run; then
 * pause-all and the audit. Returns the audit and a summary for the log and failure messages.
 */
export async function killAtRandomInstant(cluster: Cluster, seed: number): Promise<{ audit: Audit; unfinished: number; summary: Record<string, unknown> }> {
  const random = prng(seed);
  const began = Date.now();
  const workers = [cluster.spawn(), cluster.spawn(), cluster.spawn()];
  await Promise.all(workers.map((w) => w.ready));
  await cluster.addTriggers(workers.map((w) => w.instanceId));
  await cluster.flowing();
  // A random process among those running a job at a random instant (one with nothing running would
  // test nothing: the next instant that one runs counts). Only a job started within the last
  // 150 ms counts as running: one nearer its end may be over before the kill lands (on a fast
  // server the 300 ms handler is most of a job's life).
  let victim = workers[Math.floor(random() * workers.length)]!;
  await delay(Math.floor(random() * 3000));
  for (let look = 0; look < 100; look++) {
    const fresh = { status: 'running', scheduledFor: { $gte: new Date(Date.now() - 150) } };
    const owners = new Set((await cluster.jobs.find(fresh).toArray()).map((job) => job.lease?.owner));
    const busy = workers.filter((w) => owners.has(w.instanceId));
    if (busy.length > 0) {
      if (!busy.includes(victim)) victim = busy[Math.floor(random() * busy.length)]!;
      break;
    }
    await delay(20);
  }
  const dead = await cluster.killNow(victim);
  // Long enough for the lease (1.5 s) and the recovery grace to run out and the jobs to be re-run.
  await delay(6000);
  const { audit, unfinished } = await finish(cluster);
  const summary = {
    seed,
    triggers: cluster.settings.triggers,
    victim: dead.instanceId,
    killedMsAfterStart: dead.killedAt - cluster.startAt,
    killedMsIntoSecond: (dead.killedAt - cluster.startAt) % 1000,
    orphans: dead.orphans.length,
    unfinished,
    ...figures(audit),
    seconds: (Date.now() - began) / 1000,
  };
  return { audit, unfinished, summary };
}

/** Check an audit against what the server can be expected to do. */
export function assertAudit(audit: Audit, unfinished: number, context: string, expected: Expectations = STRICT): void {
  const m = (what: string): string => `${what}\n${context}`;
  expect(audit.lost, m('slots without a job before a later job of the trigger (lost)')).toEqual([]);
  expect(audit.duplicates, m('slots with more than one job')).toEqual([]);
  expect(audit.offGrid, m('jobs for instants that are not slots')).toEqual([]);
  expect(audit.pause.errors, m('pauseTrigger calls that failed or resolved not paused')).toEqual([]);
  expect(audit.crashed, m('no job was running on the killed process(es): the scenario tested nothing')).toBeGreaterThan(0);
  if (expected.carriesLoad) {
    expect(audit.unfired, m('slots due 2 s before the pause still without a job (backlog or lost at the end)')).toEqual([]);
    expect(unfinished, m('jobs still not final 11 s after the pause')).toBe(0);
    expect(audit.liveWronglyFailed, m('jobs of live instances that failed (e.g. ERR_LEASE_EXPIRED)')).toEqual([]);
    expect(audit.notSucceeded, m('jobs that did not succeed')).toEqual([]);
    expect(audit.withoutRun, m('jobs without a row in `runs`')).toEqual([]);
    expect(audit.crashedProblems, m('jobs of the killed process(es) not re-run elsewhere')).toEqual([]);
  }
  if (expected.atomicUpdates) {
    expect(audit.notPaused, m('triggers not `paused` in the store 3 s after pause-all')).toEqual([]);
    expect(audit.afterPause, m('jobs for slots after the pause was confirmed')).toEqual([]);
  }
}
