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
import { stopSharedMongo } from '../helpers/mongo.js';
import { assertAudit, finish, killAtRandomInstant, openCluster } from './kill-checks.js';
import { delay, useWorkerTeardown, type KillPoint } from './processes.js';
import { figures, prng, seedFromEnv } from './scenario.js';

const cleanups = useWorkerTeardown({ afterEach, afterAll, stopSharedMongo });

describe('issue 10: a process dies anywhere, nothing is lost', () => {
  it('SIGKILL at a random instant, then pause-all: every slot once, every job succeeded, crashed jobs re-run', async () => {
    const seed = seedFromEnv();
    const cluster = await openCluster(cleanups, 'rand');
    const { audit, unfinished, summary } = await killAtRandomInstant(cluster, seed);
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
    const cluster = await openCluster(cleanups, 'calls');
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
