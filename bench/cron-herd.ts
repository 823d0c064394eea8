/**
 * Cron thundering herd: 10,000 cron triggers with the same 6-field expression, all due at the same
 * upcoming second (`S M H D Mo *` in UTC, a specific second ~3.5 s ahead), memory backend, no-op
 * handlers, concurrency 10,000 (so every job may start at once), real clock. All triggers are added
 * before `start()`; the first poll loads them.
 *
 * Measured per job: lateness = handler start (performance.now() mapped to the epoch) − slot;
 * p50 / p99 / max and the spread (last start − first start). Also `cronCacheStats()` deltas: while
 * adding (each add computes its first slot from a different `now`) and while firing (claiming a
 * slot computes the next one: the memo should make that one computation for the whole herd).
 *
 * Baseline, same process: one setTimeout on the same second calling 10,000 no-op handlers in a loop
 * (lateness of the last call = the cost of just calling them).
 *
 *   node --import tsx --expose-gc bench/cron-herd.ts [--n 10000] [--repeats 2] [--concurrency 10000]
 */
import { Scheduler } from './pkg.js';
import { cronCacheStats } from '../src/schedule/cron.js';
import { banner, calibrateEpoch, dist, emitSummary, epochNow, gc, keepAlive, median, numArg, r, sleep, writeResult, type Dist } from './lib.js';

const N = numArg('n', 10_000);
const REPEATS = numArg('repeats', 2);
const CONCURRENCY = numArg('concurrency', 10_000);
const LEAD_MS = numArg('lead', 3500);

function cronFor(at: number): string {
  const d = new Date(at);
  return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} *`;
}

async function baseline(offset: number): Promise<Dist> {
  const T = Math.ceil((Date.now() + 1000) / 1000) * 1000;
  const late = new Float64Array(N);
  const noop = async (_i: number): Promise<void> => undefined;
  await new Promise<void>((resolve) => {
    setTimeout(() => {
      for (let i = 0; i < N; i++) {
        late[i] = epochNow(offset) - T;
        void noop(i);
      }
      resolve();
    }, T - Date.now());
  });
  return dist(late);
}

interface HerdRun {
  lateness: Dist;
  spreadMs: number;
  completeMs: number;
  addMs: number;
  earlyFires: number;
  cronWhileAdding: { computations: number; hits: number };
  cronWhileFiring: { computations: number; hits: number };
}

async function herd(): Promise<HerdRun> {
  const scheduler = new Scheduler({ concurrency: CONCURRENCY });
  const offset = calibrateEpoch();
  const late = new Float64Array(N);
  let k = 0;
  let early = 0;
  let lastDone = 0;
  let succeeded = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  scheduler.register('noop', async (ctx) => {
    const t = epochNow(offset);
    const due = ctx.job.scheduledFor.getTime();
    if (Date.now() < due) {
      early++;
      console.error(`!!! EARLY FIRE: job ${ctx.job.id} started before its slot ${due}`);
    }
    late[k++] = t - due;
  });
  scheduler.on('job:succeeded', () => {
    if (++succeeded === N) {
      lastDone = epochNow(offset);
      resolveDone();
    }
  });
  scheduler.on('error', (e) => console.error('scheduler error:', e.message));
  const T = Math.ceil((Date.now() + LEAD_MS) / 1000) * 1000;
  const expression = cronFor(T);
  const before = cronCacheStats();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    await scheduler.addTrigger({ id: `herd-${i}`, handler: 'noop', schedule: { cron: expression, timezone: 'UTC' } });
  }
  const addMs = performance.now() - t0;
  if (Date.now() > T - 300) throw new Error(`adding ${N} cron triggers took ${addMs.toFixed(0)} ms: too close to the slot; raise --lead`);
  const afterAdd = cronCacheStats();
  await scheduler.start();
  await done;
  const afterFire = cronCacheStats();
  await scheduler.stop();
  const lateness = dist(late);
  return {
    lateness,
    spreadMs: lateness.max - lateness.min,
    completeMs: lastDone - T,
    addMs,
    earlyFires: early,
    cronWhileAdding: { computations: afterAdd.computations - before.computations, hits: afterAdd.hits - before.hits },
    cronWhileFiring: { computations: afterFire.computations - afterAdd.computations, hits: afterFire.hits - afterAdd.hits },
  };
}

async function main(): Promise<void> {
  banner(`cron herd: ${N} cron triggers due the same second, concurrency ${CONCURRENCY}, memory backend`);
  const release = keepAlive();
  const runs: HerdRun[] = [];
  const bases: Dist[] = [];
  for (let rep = 0; rep < REPEATS; rep++) {
    gc();
    const b = await baseline(calibrateEpoch());
    bases.push(b);
    gc();
    await sleep(50);
    const run = await herd();
    runs.push(run);
    const l = run.lateness;
    console.log(
      `rep ${rep + 1}: lateness p50 ${r(l.p50, 1)} ms  p99 ${r(l.p99, 1)} ms  max ${r(l.max, 1)} ms  min ${r(l.min, 2)} ms  spread ${r(run.spreadMs, 1)} ms  all done +${r(run.completeMs, 0)} ms  early ${run.earlyFires}`,
    );
    console.log(
      `       baseline (10k calls in one timer): p50 ${r(b.p50, 2)} ms p99 ${r(b.p99, 2)} ms; adding took ${r(run.addMs, 0)} ms; cron memo while adding ${JSON.stringify(run.cronWhileAdding)}, while firing ${JSON.stringify(run.cronWhileFiring)}`,
    );
  }
  release();
  const p50 = median(runs.map((x) => x.lateness.p50));
  const p99 = median(runs.map((x) => x.lateness.p99));
  const spread = median(runs.map((x) => x.spreadMs));
  const bp99 = median(bases.map((x) => x.p99));
  const early = runs.reduce((a, x) => a + x.earlyFires, 0);
  const firing = runs[runs.length - 1]!.cronWhileFiring;
  const met = p99 <= 50;
  if (early > 0) console.error(`\n!!! ${early} EARLY FIRES. This is a bug.`);
  console.log(`\nherd p99 lateness ${r(p99, 1)} ms (target <= 50 ms: ${met ? 'MET' : `MISSED by ${r(p99 / 50, 1)}x`})`);
  writeResult('cron-herd', {
    config: { n: N, repeats: REPEATS, concurrency: CONCURRENCY },
    runs,
    baseline: bases,
    median: { p50, p99, spreadMs: spread, baselineP99: bp99 },
    earlyFires: early,
    target: { p99Ms: 50, met },
  });
  emitSummary([
    { bench: 'cron-herd', metric: `p50 lateness (${N} crons, same second)`, value: `${r(p50, 1)} ms`, baseline: `${r(median(bases.map((x) => x.p50)), 2)} ms`, ratio: '-', target: '-', met: null },
    { bench: 'cron-herd', metric: 'p99 lateness', value: `${r(p99, 1)} ms`, baseline: `${r(bp99, 2)} ms`, ratio: `${r(p99 / bp99, 0)}x`, target: '<= 50 ms', met },
    { bench: 'cron-herd', metric: 'spread (last − first start)', value: `${r(spread, 1)} ms`, baseline: '-', ratio: '-', target: '-', met: null },
    {
      bench: 'cron-herd',
      metric: 'next-slot computations while firing',
      value: `${firing.computations} computed / ${firing.hits} memo hits`,
      baseline: `${N} without memo`,
      ratio: `${r(firing.computations / N, 4)}x`,
      target: 'shared',
      met: firing.computations <= 2,
    },
    { bench: 'cron-herd', metric: 'early fires', value: String(early), baseline: '-', ratio: '-', target: '0', met: early === 0 },
  ]);
}

await main();
