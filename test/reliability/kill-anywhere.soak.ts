/**
 * Issue 10: 3 scheduler processes, 20 `every: 1000` triggers (handler: a `runs` row, then 300 ms),
 * `leaseMs` 1500, `pollIntervalMs` 200, no retries. A process dies (i) at a random instant, (ii) at
 * chosen store-call boundaries (the worker SIGKILLs itself just before a store call is issued or
 * just after its answer arrived). Then every trigger is paused from this test's own Scheduler and
 * the database is audited (see scenario.ts): 0 lost, 0 duplicated, every job `succeeded` with a
 * `runs` row, the pause sticks, and the crashed process's running jobs were run again elsewhere
 * with a history entry naming the dead instance.
 *
 * The seed of the random choices is printed (and in every failure message); `RELIABILITY_SEED=<n>`
 * replays it. `KILL_POINTS=<n>` sets how many store-call kill points test (ii) uses (default 4: the
 * three fixed ones and one random call number; more points are random, before or after).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stopSharedMongo, withTestDb, type TestDb } from '../helpers/mongo.js';
import { delay, useWorkerTeardown, type KillPoint } from './processes.js';
import { Cluster, figures, prng, seedFromEnv, type Audit } from './scenario.js';

const cleanups = useWorkerTeardown({ afterEach, afterAll, stopSharedMongo });

async function openCluster(tag: string): Promise<Cluster> {
  const testDb: TestDb = await withTestDb(`reliab_${tag}`);
  cleanups.push(() => testDb.close());
  const uri = process.env['MONGODB_URI']?.trim() || `mongodb://${testDb.client.options.hosts.map(String).join(',')}/`;
  return new Cluster({ uri, db: testDb.db, dbName: testDb.dbName, tag });
}

/** Pause all, check the pause sticks for 3 s, let the jobs finish, audit. */
async function finish(cluster: Cluster): Promise<{ audit: Audit; unfinished: number }> {
  await cluster.pauseAll();
  await delay(3000);
  const open = await cluster.settle(8000);
  const audit = await cluster.audit();
  return { audit, unfinished: open.length };
}

function assertAudit(audit: Audit, unfinished: number, context: string): void {
  const m = (what: string): string => `${what}\n${context}`;
  expect(audit.lost, m('slots without a job before a later job of the trigger (lost)')).toEqual([]);
  expect(audit.unfired, m('slots due 2 s before the pause still without a job (backlog or lost at the end)')).toEqual([]);
  expect(audit.duplicates, m('slots with more than one job')).toEqual([]);
  expect(audit.offGrid, m('jobs for instants that are not slots')).toEqual([]);
  expect(unfinished, m('jobs still not final 11 s after the pause')).toBe(0);
  expect(audit.liveWronglyFailed, m('jobs of live instances that failed (e.g. ERR_LEASE_EXPIRED)')).toEqual([]);
  expect(audit.notSucceeded, m('jobs that did not succeed')).toEqual([]);
  expect(audit.withoutRun, m('jobs without a row in `runs`')).toEqual([]);
  expect(audit.pause.errors, m('pauseTrigger calls that failed or resolved not paused')).toEqual([]);
  expect(audit.notPaused, m('triggers not `paused` in the store 3 s after pause-all')).toEqual([]);
  expect(audit.afterPause, m('jobs for slots after the pause was confirmed')).toEqual([]);
  expect(audit.crashed, m('no job was running on the killed process(es): the scenario tested nothing')).toBeGreaterThan(0);
  expect(audit.crashedProblems, m('jobs of the killed process(es) not re-run elsewhere')).toEqual([]);
}

describe('issue 10: a process dies anywhere, nothing is lost', () => {
  it('SIGKILL at a random instant, then pause-all: every slot once, every job succeeded, crashed jobs re-run', async () => {
    const seed = seedFromEnv();
    const random = prng(seed);
    const began = Date.now();
    const cluster = await openCluster('rand');
    const workers = [cluster.spawn(), cluster.spawn(), cluster.spawn()];
    await Promise.all(workers.map((w) => w.ready));
    await cluster.addTriggers(workers.map((w) => w.instanceId));
    await cluster.flowing();
    // A random instant within the next 3 s, on a random process among those running a job then
    // (a process with nothing running would test nothing: the next instant that one runs counts).
    let victim = workers[Math.floor(random() * workers.length)]!;
    const waitMs = Math.floor(random() * 3000);
    await delay(waitMs);
    for (let look = 0; look < 100; look++) {
      const owners = new Set((await cluster.jobs.find({ status: 'running' }).toArray()).map((job) => job.lease?.owner));
      const busy = workers.filter((w) => owners.has(w.instanceId));
      if (busy.length > 0) {
        if (!busy.includes(victim)) victim = busy[Math.floor(random() * busy.length)]!;
        break;
      }
      await delay(20);
    }
    const dead = await cluster.killNow(victim);
    // Long enough for the lease (1.5 s) to run out and the jobs to be recovered and re-run.
    await delay(6000);
    const { audit, unfinished } = await finish(cluster);
    const summary = {
      seed,
      victim: dead.instanceId,
      killedMsAfterStart: dead.killedAt - cluster.startAt,
      killedMsIntoSecond: (dead.killedAt - cluster.startAt) % 1000,
      orphans: dead.orphans.length,
      unfinished,
      ...figures(audit),
      seconds: (Date.now() - began) / 1000,
    };
    console.log('[reliability:kill-random]', JSON.stringify(summary));
    assertAudit(audit, unfinished, `seed ${seed} (RELIABILITY_SEED=${seed} replays it): ${JSON.stringify(summary)}\nworkers:\n${cluster.describeWorkers()}`);
  }, 60_000);

  it('SIGKILL at store-call boundaries (before/after, after insertMany, after claimSlot), then pause-all: nothing lost', async () => {
    const seed = seedFromEnv();
    const random = prng(seed);
    const began = Date.now();
    const count = Math.max(2, Number(process.env['KILL_POINTS']) || 4);
    const fixed: KillPoint[] = [
      // Claimed (trigger advanced), job not written yet.
      { atCall: 2 + Math.floor(random() * 3), when: 'after', method: 'triggerStore.claimSlot' },
      // Jobs written, not started.
      { atCall: 1 + Math.floor(random() * 3), when: 'after', method: 'jobStore.insertMany' },
      // Claimed, the insert never issued.
      { atCall: 1 + Math.floor(random() * 3), when: 'before', method: 'jobStore.insertMany' },
    ];
    const points: KillPoint[] = [];
    for (let i = 0; i < count; i++) {
      points.push(fixed[i] ?? { atCall: 20 + Math.floor(random() * 100), when: random() < 0.5 ? 'before' : 'after' });
    }
    const cluster = await openCluster('calls');
    const steady = [cluster.spawn(), cluster.spawn()];
    await Promise.all(steady.map((w) => w.ready));
    const firstId = cluster.nextInstanceId();
    await cluster.addTriggers([...steady.map((w) => w.instanceId), firstId]);
    const outcomes: string[] = [];
    for (let i = 0; i < points.length; i++) {
      const point = points[i]!;
      const worker = cluster.spawn(point, i === 0 ? firstId : undefined);
      // Reached within 10 s of the start, or killed from outside (and said so). A process that is
      // not even ready by then (a store overloaded by the backlog) counts as not reached.
      const reached = await Promise.race([worker.exited.then(() => true), delay(10_000).then(() => false)]);
      const victim = await (reached ? cluster.bury(worker, worker.killPoint ?? 'exited') : cluster.killNow(worker));
      outcomes.push(`${JSON.stringify(point)} -> ${reached ? (worker.killPoint ?? 'exited without kill-point') : 'not reached in 10 s (killed from outside)'}, orphans ${victim.orphans.length}`);
    }
    // A last process takes the victim's place, and the recovery has time to re-run the orphans.
    cluster.spawn();
    await delay(5000);
    const { audit, unfinished } = await finish(cluster);
    const summary = { seed, points: outcomes, unfinished, ...figures(audit), seconds: (Date.now() - began) / 1000 };
    console.log('[reliability:kill-calls]', JSON.stringify(summary));
    const reachedCount = cluster.victims.filter((v) => v.how !== 'random').length;
    const context = `seed ${seed} (RELIABILITY_SEED=${seed} replays it): ${JSON.stringify(summary, null, 1)}\nworkers:\n${cluster.describeWorkers()}`;
    expect(reachedCount, `kill points reached\n${context}`).toBeGreaterThanOrEqual(Math.ceil(points.length / 2));
    assertAudit(audit, unfinished, context);
  }, 110_000);
});
