/**
 * `npm run bench:soak` — issue 10's figures and soak (opt-in: not part of `npm run bench`).
 * Needs MONGODB_URI (e.g. `eval "$(bash .ci/ferretdb.sh start)"`).
 *
 *   (a) figures: RUNS runs (default 10) of SECONDS s (default 20): 3 processes, 20 `every: 1000`
 *       triggers (handler: a `runs` row, then 300 ms), leaseMs 1500, pollIntervalMs 200, no
 *       retries; one SIGKILL at a random instant mid-run; pause-all; audit.
 *   (b) soak (SOAK=1, or MODE=soak): SOAK_SECONDS (default 120) on a private FerretDB the bench
 *       may restart: a SIGKILL (and a replacement process) every ~KILL_EVERY s (default 25), one
 *       server restart (2 s down) half-way; then the same audit.
 *
 *   MODE=figures|soak|both (default figures)   RELIABILITY_SEED=<n> replays the random choices.
 *
 * Prints a table per run and totals; writes .bench-out/reliability.json (and reliability-soak.json).
 * Measurements, not assertions: the exit code is 0 unless the harness itself failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { delay, killAllWorkers } from '../test/reliability/processes.js';
import { openRestartableServer } from '../test/reliability/restartable-server.js';
import { Cluster, figures, percentile, prng, seedFromEnv, type Audit } from '../test/reliability/scenario.js';

const OUT = '.bench-out';
const uriFromEnv = process.env['MONGODB_URI']?.trim();
const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

interface RunResult {
  run: number;
  seed: number;
  killedMsAfterStart: number[];
  orphans: number;
  unfinished: number;
  audit: Audit;
  figures: Record<string, unknown>;
}

async function withDb<T>(uri: string, name: string, body: (client: MongoClient, dbName: string) => Promise<T>): Promise<T> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 15_000 });
  await client.connect();
  const dbName = `sched_bench_${name}_${process.pid.toString(36)}_${Date.now().toString(36)}`;
  try {
    return await body(client, dbName);
  } finally {
    // FerretDB may crash when a database is dropped under a dead worker's request: wait first.
    await killAllWorkers();
    await delay(3000);
    await client.db(dbName).dropDatabase().catch(() => undefined);
    await client.close();
  }
}

async function finish(cluster: Cluster): Promise<{ audit: Audit; unfinished: number }> {
  await cluster.pauseAll();
  await delay(3000);
  const open = await cluster.settle(10_000);
  for (const w of cluster.live()) await w.stop(5000);
  return { audit: await cluster.audit(), unfinished: open.length };
}

async function figuresRun(uri: string, run: number, seed: number, seconds: number): Promise<RunResult> {
  const random = prng(seed);
  return withDb(uri, `rel${run}`, async (client, dbName) => {
    const cluster = new Cluster({ uri, db: client.db(dbName), dbName, tag: `r${run}` });
    const workers = [cluster.spawn(), cluster.spawn(), cluster.spawn()];
    await Promise.all(workers.map((w) => w.ready));
    await cluster.addTriggers(workers.map((w) => w.instanceId));
    await delay(cluster.startAt - Date.now());
    // Kill between 30 % and 60 % of the run, at a random instant, a random process.
    const killAfter = Math.floor(seconds * 1000 * (0.3 + 0.3 * random()));
    await delay(cluster.startAt + killAfter - Date.now());
    const victim = await cluster.killNow(workers[Math.floor(random() * 3)]!);
    await delay(cluster.startAt + seconds * 1000 - Date.now());
    const { audit, unfinished } = await finish(cluster);
    return { run, seed, killedMsAfterStart: [victim.killedAt - cluster.startAt], orphans: victim.orphans.length, unfinished, audit, figures: figures(audit) };
  });
}

async function soakRun(seed: number): Promise<RunResult & { restart: { stoppedAt: number; upAt: number } | null; server: string }> {
  const random = prng(seed);
  const seconds = num('SOAK_SECONDS', 120);
  const killEvery = num('KILL_EVERY', 25) * 1000;
  const server = await openRestartableServer();
  try {
    return await withDb(server.uri, 'soak', async (client, dbName) => {
      const cluster = new Cluster({ uri: server.uri, db: client.db(dbName), dbName, tag: 'soak' });
      const workers = [cluster.spawn(), cluster.spawn(), cluster.spawn()];
      await Promise.all(workers.map((w) => w.ready));
      await cluster.addTriggers(workers.map((w) => w.instanceId));
      const end = cluster.startAt + seconds * 1000;
      const restartAt = cluster.startAt + Math.floor(seconds * 500 + (random() - 0.5) * 5000);
      let restart: { stoppedAt: number; upAt: number } | null = null;
      let nextKill = cluster.startAt + Math.floor(killEvery * (0.5 + random()));
      while (Date.now() < end - 8000) {
        if (!restart && Date.now() >= restartAt) {
          restart = await server.restart(2000);
          console.log(`  server restarted (down ${restart.upAt - restart.stoppedAt} ms)`);
        }
        if (Date.now() >= nextKill) {
          const live = cluster.live();
          const victim = await cluster.killNow(live[Math.floor(random() * live.length)]!);
          console.log(`  killed ${victim.instanceId} at +${victim.killedAt - cluster.startAt} ms (${victim.orphans.length} running)`);
          const fresh = cluster.spawn();
          await fresh.ready.catch((e: unknown) => console.log(`  replacement failed: ${String(e)}`));
          nextKill = Date.now() + Math.floor(killEvery * (0.5 + random()));
        }
        await delay(200);
      }
      await delay(end - Date.now());
      const { audit, unfinished } = await finish(cluster);
      return {
        run: 0,
        seed,
        killedMsAfterStart: cluster.victims.map((v) => v.killedAt - cluster.startAt),
        orphans: cluster.victims.reduce((n, v) => n + v.orphans.length, 0),
        unfinished,
        audit,
        figures: figures(audit),
        restart,
        server: server.description,
      };
    });
  } finally {
    await server.stop();
  }
}

const COLUMNS: Array<[string, (r: RunResult) => string]> = [
  ['run', (r) => String(r.run)],
  ['seed', (r) => String(r.seed)],
  ['kill at ms', (r) => r.killedMsAfterStart.join(',')],
  ['slots', (r) => String(r.audit.slotsChecked)],
  ['jobs', (r) => String(r.audit.jobs)],
  ['lost', (r) => String(r.audit.lost.length)],
  ['unfired', (r) => String(r.audit.unfired.length)],
  ['dup', (r) => String(r.audit.duplicates.length)],
  ['live failed', (r) => String(r.audit.liveWronglyFailed.length)],
  ['crashed', (r) => String(r.audit.crashed)],
  ['re-run', (r) => String(r.audit.crashedRerun)],
  ['crash failed', (r) => String(r.audit.crashedFailed)],
  ['after pause', (r) => String(r.audit.afterPause.length)],
  ['not paused', (r) => String(r.audit.notPaused.length)],
  ['pause p50/max', (r) => `${r.audit.pause.p50 ?? '-'}/${r.audit.pause.max ?? '-'}`],
  ['renew n', (r) => String(r.audit.renew.count)],
  ['renew p50/p99/max', (r) => `${r.audit.renew.p50 ?? '-'}/${r.audit.renew.p99 ?? '-'}/${r.audit.renew.max ?? '-'}`],
  ['unfinished', (r) => String(r.unfinished)],
];

function table(rows: RunResult[]): string {
  const body = rows.map((r) => COLUMNS.map(([, f]) => f(r)));
  const widths = COLUMNS.map(([h], i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(COLUMNS.map(([h]) => h)), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

function totals(rows: RunResult[], renewAll: number[]): Record<string, unknown> {
  const sum = (f: (a: Audit) => number): number => rows.reduce((n, r) => n + f(r.audit), 0);
  return {
    runs: rows.length,
    slotsChecked: sum((a) => a.slotsChecked),
    jobs: sum((a) => a.jobs),
    lostSlots: sum((a) => a.lost.length),
    unfiredSlots: sum((a) => a.unfired.length),
    duplicateSlots: sum((a) => a.duplicates.length),
    liveJobsWronglyFailed: sum((a) => a.liveWronglyFailed.length),
    liveWronglyFailedCodes: rows.reduce<Record<string, number>>((acc, r) => {
      for (const [k, v] of Object.entries(r.audit.liveWronglyFailedCodes)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
    crashedJobs: sum((a) => a.crashed),
    crashedJobsRerun: sum((a) => a.crashedRerun),
    crashedJobsFailed: sum((a) => a.crashedFailed),
    jobsAfterPause: sum((a) => a.afterPause.length),
    triggersNotPaused: sum((a) => a.notPaused.length),
    pauseP50Ms: percentile(rows.map((r) => r.audit.pause.p50 ?? 0), 0.5),
    pauseMaxMs: Math.max(0, ...rows.map((r) => r.audit.pause.max ?? 0)),
    unfinished: rows.reduce((n, r) => n + r.unfinished, 0),
    renewCount: renewAll.length,
    renewP50Ms: percentile(renewAll, 0.5),
    renewP99Ms: percentile(renewAll, 0.99),
    renewMaxMs: renewAll.length ? Math.max(...renewAll) : null,
  };
}

async function main(): Promise<void> {
  const mode = process.env['MODE'] ?? (process.env['SOAK'] === '1' ? 'soak' : 'figures');
  mkdirSync(OUT, { recursive: true });
  const baseSeed = seedFromEnv();
  let git = '';
  try {
    git = (await import('node:child_process')).execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    // not a checkout
  }
  if (mode === 'figures' || mode === 'both') {
    if (!uriFromEnv) throw new Error('MONGODB_URI is not set (eval "$(bash .ci/ferretdb.sh start)")');
    const runs = num('RUNS', 10);
    const seconds = num('SECONDS', 20);
    console.log(`reliability figures: ${runs} runs × ${seconds} s, 20 triggers × 3 processes, commit ${git}, base seed ${baseSeed}`);
    const rows: RunResult[] = [];
    const renewAll: number[] = [];
    for (let run = 1; run <= runs; run++) {
      const seed = (baseSeed + run * 7919) >>> 0;
      const row = await figuresRun(uriFromEnv, run, seed, seconds);
      rows.push(row);
      // Per-run samples, kept for the total percentiles.
      renewAll.push(...row.audit.renewSamples);
      console.log(`run ${run}: ${JSON.stringify(row.figures)}`);
      for (const [label, list] of [
        ['lost', row.audit.lost],
        ['unfired', row.audit.unfired],
        ['duplicates', row.audit.duplicates],
        ['live failed', row.audit.liveWronglyFailed],
        ['crashed problems', row.audit.crashedProblems],
        ['after pause', row.audit.afterPause],
        ['not paused', row.audit.notPaused],
      ] as const) {
        if (list.length > 0) console.log(`  ${label}: ${list.slice(0, 4).join(' || ')}${list.length > 4 ? ` … (${list.length})` : ''}`);
      }
    }
    const total = totals(rows, renewAll);
    console.log(`\n${table(rows)}\n\ntotal: ${JSON.stringify(total, null, 1)}`);
    writeFileSync(join(OUT, 'reliability.json'), JSON.stringify({ commit: git, baseSeed, runs: rows, total }, null, 1));
  }
  if (mode === 'soak' || mode === 'both') {
    console.log(`\nreliability soak: ${num('SOAK_SECONDS', 120)} s, a kill every ~${num('KILL_EVERY', 25)} s, one server restart, commit ${git}, seed ${baseSeed}`);
    const row = await soakRun(baseSeed);
    const renewAll = row.audit.renewSamples;
    console.log(`\n${table([row])}\n\ntotal: ${JSON.stringify(totals([row], renewAll), null, 1)}`);
    for (const [label, list] of [
      ['lost', row.audit.lost],
      ['duplicates', row.audit.duplicates],
      ['live failed', row.audit.liveWronglyFailed],
      ['crashed problems', row.audit.crashedProblems],
    ] as const) {
      if (list.length > 0) console.log(`  ${label}: ${list.slice(0, 6).join(' || ')}${list.length > 6 ? ` … (${list.length})` : ''}`);
    }
    writeFileSync(join(OUT, 'reliability-soak.json'), JSON.stringify({ commit: git, ...row }, null, 1));
  }
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    console.error(error);
    await killAllWorkers();
    process.exit(1);
  },
);
