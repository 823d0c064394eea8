/**
 * Issue 10 in `npm test`: 3 scheduler processes on one database, `every: 1000` triggers whose
 * handler writes a `runs` row and then sleeps 300 ms, `leaseMs` 1500, `pollIntervalMs` 200, no
 * retries; one process SIGKILLed at a random instant while it runs jobs, then every trigger paused
 * from the test's own Scheduler, and the database audited (`scenario.ts`, `kill-checks.ts`).
 *
 * 1. Issue 10's load, 20 triggers. Always checked: no slot lost, none twice, none off the grid,
 *    every pause resolved `paused`, the kill hit a busy process. Where the server keeps up with
 *    this load (one that filters queries itself: MongoDB, FerretDB v1 on PostgreSQL, which CI
 *    runs this file on through `RELIABILITY_MONGODB_URI`; not FerretDB v1 on SQLite, see
 *    docs/reliability.md): also every due slot fired, every job `succeeded` with its `runs` row,
 *    no live job failed, every crashed job re-run elsewhere naming the dead instance.
 * 2. The same at 6 triggers, a load FerretDB v1 carries here: all of that, on every server.
 *
 * The pause sticking (no trigger `active` 3 s after pause-all, no slot after the pause) is checked
 * where single-document updates are atomic, i.e. not on FerretDB (docs/mongodb.md).
 * `RELIABILITY_STRICT=1` checks everything everywhere; `RELIABILITY_SEED=<n>` replays a run (the
 * seed is printed and in every failure message).
 */
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { detectCapabilities, stopSharedMongo, withTestDb, type MongoCapabilities } from '../helpers/mongo.js';
import { assertAudit, expectationsFor, killAtRandomInstant, openCluster } from './kill-checks.js';
import { useWorkerTeardown } from './processes.js';
import { seedFromEnv } from './scenario.js';

const cleanups = useWorkerTeardown({ afterEach, afterAll, stopSharedMongo });
/**
 * The server these runs use: `RELIABILITY_MONGODB_URI` when set (CI points it at FerretDB on
 * PostgreSQL, which filters queries itself and carries the load), else the shared test server.
 */
const serverUri = process.env['RELIABILITY_MONGODB_URI']?.trim() || undefined;
let caps: MongoCapabilities;

beforeAll(async () => {
  const probe = await withTestDb('reliab_caps', serverUri === undefined ? {} : { uri: serverUri });
  try {
    caps = await detectCapabilities(probe.db);
  } finally {
    await probe.close();
  }
}, 120_000);

/** One random-kill run at `triggers` triggers, checked as the server can be expected to carry it. */
async function killAndCheck(triggers: number, loadCarried: boolean): Promise<void> {
  const seed = seedFromEnv();
  const cluster = await openCluster(cleanups, `rand${triggers}`, { triggers }, serverUri);
  const { audit, unfinished, summary } = await killAtRandomInstant(cluster, seed);
  const expected = expectationsFor(caps, { loadCarried });
  console.log('[reliability:kill-random]', JSON.stringify({ ...summary, server: serverUri ?? 'shared', filterPushdown: caps.filterPushdown, expected }));
  assertAudit(audit, unfinished, `seed ${seed} (RELIABILITY_SEED=${seed} replays it): ${JSON.stringify(summary)}\nworkers:\n${cluster.describeWorkers()}`, expected);
}

describe('issue 10: SIGKILL at a random instant, then pause-all', () => {
  it("at issue 10's load (20 triggers): no slot lost or doubled; where the server keeps up, every job succeeded and crashed jobs re-run", () => killAndCheck(20, false), 60_000);

  it('at a load this server carries (6 triggers): also every job succeeded, none of a live instance failed, crashed jobs re-run', () => killAndCheck(6, true), 60_000);
});
