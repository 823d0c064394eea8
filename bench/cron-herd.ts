/**
 * Cron thundering herd: 10,000 cron triggers with one 6-field expression that fires every
 * `--period` seconds (default 4: `*\/4 * * * * *`, UTC), so every 4 s all 10,000 are due at the
 * same second. Memory backend, no-op handlers, concurrency 10,000 (every job may start at once),
 * default options (so slots are claimed `leadMs` ahead and start on the dot), real clock. The
 * triggers are added before `start()`, which is called just after a slot: the first poll loads
 * them, and the first herd comes a period later.
 *
 * Each repeat is a fresh process that sees `--herds` herds (default 4) one after another on one
 * scheduler: the first runs on cold code and is reported on its own; the headline is the median
 * over the later herds (warm: a service that has been running).
 *
 * Measured per job: lateness = handler start (performance.now() mapped to the epoch) − slot;
 * p50 / p99 / max and the spread (last start − first start). An early start is counted and fails
 * the run.
 *
 * Baseline, same process: one setTimeout on the same second calling 10,000 no-op handlers in a loop
 * (lateness of the last call = the cost of just calling them).
 *
 * Shared next-slot computation: counted on the TypeScript sources (the built package keeps its
 * counters to itself) by a herd of the same size on a manual clock: `cronCacheStats()` while adding
 * the triggers and while firing them.
 *
 *   node --import tsx --expose-gc bench/cron-herd.ts [--n 10000] [--repeats 2] [--herds 4] [--period 4]
 */
import { ManualClock, Scheduler as SourceScheduler } from '../src/index.js';
import { cronCacheStats } from '../src/schedule/cron.js';
import { Scheduler } from './pkg.js';
import { report, resultOf, runNode } from './child.js';
import { arg, banner, calibrateEpoch, dist, emitSummary, epochNow, gc, keepAlive, median, numArg, r, sleep, writeResult, type Dist } from './lib.js';

const N = numArg('n', 10_000);
const REPEATS = numArg('repeats', 2);
const HERDS = numArg('herds', 4);
const PERIOD_S = numArg('period', 4);
const CONCURRENCY = numArg('concurrency', 10_000);

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

interface Herd {
  lateness: Dist;
  spreadMs: number;
  completeMs: number;
}

interface ProcessHerds {
  herds: Herd[];
  addMs: number;
  earlyFires: number;
  baseline: Dist;
}

/** Child: one scheduler, `HERDS` herds. */
async function child(): Promise<void> {
  const release = keepAlive();
  gc();
  const base = await baseline(calibrateEpoch());
  const offset = calibrateEpoch();
  const scheduler = new Scheduler({ concurrency: CONCURRENCY });
  let late = new Float64Array(N);
  let k = 0;
  let early = 0;
  let succeeded = 0;
  let lastDone = 0;
  let herdSlot = 0;
  let resolveHerd: () => void = () => undefined;
  scheduler.register('noop', async (ctx) => {
    const t = epochNow(offset);
    const due = ctx.job.scheduledFor.getTime();
    if (Date.now() < due) {
      early++;
      console.error(`!!! EARLY FIRE: job ${ctx.job.id} started before its slot ${due}`);
    }
    herdSlot = due;
    if (k < N) late[k++] = t - due;
  });
  scheduler.on('job:succeeded', () => {
    if (++succeeded === N) {
      lastDone = epochNow(offset);
      resolveHerd();
    }
  });
  scheduler.on('error', (e) => console.error('scheduler error:', e.message));
  const expression = `*/${PERIOD_S} * * * * *`;
  // Add and start just after a slot: every trigger's first slot is then the next one, a period
  // later, and the first herd is not mixed up with the first poll loading the triggers.
  const periodMs = PERIOD_S * 1000;
  await sleep(periodMs - (Date.now() % periodMs) + 50);
  const firstSlot = Math.ceil(Date.now() / periodMs) * periodMs;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await scheduler.addTrigger({ id: `herd-${i}`, handler: 'noop', schedule: { cron: expression, timezone: 'UTC' } });
  const addMs = performance.now() - t0;
  await scheduler.start();
  if (Date.now() > firstSlot - 1000) throw new Error(`adding ${N} triggers took ${r(addMs, 0)} ms: too close to the first herd; raise --period`);
  const herds: Herd[] = [];
  for (let h = 0; h < HERDS; h++) {
    late = new Float64Array(N);
    k = 0;
    succeeded = 0;
    const done = new Promise<void>((resolve) => (resolveHerd = resolve));
    await done;
    if (k !== N) throw new Error(`herd ${h + 1}: ${k} of ${N} jobs started`);
    const lateness = dist(late);
    herds.push({ lateness, spreadMs: lateness.max - lateness.min, completeMs: lastDone - herdSlot });
  }
  await scheduler.stop();
  release();
  report({ herds, addMs, earlyFires: early, baseline: base } satisfies ProcessHerds);
}

/** Next-slot computations of a herd, counted on the sources with a manual clock. */
async function sharedComputation(): Promise<{ whileAdding: { computations: number; hits: number }; whileFiring: { computations: number; hits: number } }> {
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0, 0));
  const scheduler = new SourceScheduler({ clock, concurrency: N });
  scheduler.register('noop', () => undefined);
  const slot = new Date(clock.now() + 30_000);
  const expression = `${slot.getUTCSeconds()} ${slot.getUTCMinutes()} ${slot.getUTCHours()} ${slot.getUTCDate()} ${slot.getUTCMonth() + 1} *`;
  const before = cronCacheStats();
  for (let i = 0; i < N; i++) await scheduler.addTrigger({ id: `memo-${i}`, handler: 'noop', schedule: { cron: expression, timezone: 'UTC' } });
  const afterAdd = cronCacheStats();
  await scheduler.start();
  // In steps, letting the store's chunked answers and the batches between them settle.
  for (let t = clock.now() + 250; t <= slot.getTime() + 2000; t += 250) {
    await clock.advanceTo(t);
    await clock.settle(50);
  }
  const afterFire = cronCacheStats();
  const stats = await scheduler.stats();
  await scheduler.stop();
  if (stats.jobs.succeeded !== N) throw new Error(`memo herd: ${stats.jobs.succeeded} of ${N} jobs succeeded`);
  return {
    whileAdding: { computations: afterAdd.computations - before.computations, hits: afterAdd.hits - before.hits },
    whileFiring: { computations: afterFire.computations - afterAdd.computations, hits: afterFire.hits - afterAdd.hits },
  };
}

function line(label: string, herd: Herd): string {
  const l = herd.lateness;
  return `${label.padEnd(26)} lateness p50 ${r(l.p50, 1)} ms  p99 ${r(l.p99, 1)} ms  max ${r(l.max, 1)} ms  min ${r(l.min, 2)} ms  spread ${r(herd.spreadMs, 1)} ms  all done +${r(herd.completeMs, 0)} ms`;
}

async function main(): Promise<void> {
  banner(`cron herd: ${N} cron triggers due the same second every ${PERIOD_S} s, concurrency ${CONCURRENCY}, memory backend`);
  const cold: Herd[] = [];
  const warm: Herd[] = [];
  const bases: Dist[] = [];
  let early = 0;
  for (let rep = 0; rep < REPEATS; rep++) {
    const out = resultOf<ProcessHerds>(await runNode('cron-herd.ts', ['--child', '--n', String(N), '--herds', String(HERDS), '--period', String(PERIOD_S), '--concurrency', String(CONCURRENCY)], { echo: true }));
    early += out.earlyFires;
    bases.push(out.baseline);
    cold.push(out.herds[0]!);
    warm.push(...out.herds.slice(1));
    out.herds.forEach((herd, i) => console.log(line(`process ${rep + 1}, herd ${i + 1}${i === 0 ? ' (cold)' : ''}`, herd)));
    console.log(`  baseline (10k calls in one timer): p50 ${r(out.baseline.p50, 2)} ms p99 ${r(out.baseline.p99, 2)} ms; adding took ${r(out.addMs, 0)} ms; early starts ${out.earlyFires}`);
  }
  const memo = await sharedComputation();
  console.log(`next-slot computations (sources, manual clock): while adding ${JSON.stringify(memo.whileAdding)}, while firing ${JSON.stringify(memo.whileFiring)}`);
  const p50 = median(warm.map((x) => x.lateness.p50));
  const p99 = median(warm.map((x) => x.lateness.p99));
  const coldP99 = median(cold.map((x) => x.lateness.p99));
  const spread = median(warm.map((x) => x.spreadMs));
  const bp99 = median(bases.map((x) => x.p99));
  const met = p99 <= 50;
  if (early > 0) console.error(`\n!!! ${early} EARLY FIRES. This is a bug.`);
  console.log(`\nherd p99 lateness, warm (median of ${warm.length} herds) ${r(p99, 1)} ms (target <= 50 ms: ${met ? 'MET' : `MISSED by ${r(p99 / 50, 1)}x`}); cold (first herd of a process) ${r(coldP99, 1)} ms`);
  writeResult('cron-herd', {
    config: { n: N, repeats: REPEATS, herds: HERDS, periodS: PERIOD_S, concurrency: CONCURRENCY },
    cold,
    warm,
    baseline: bases,
    sharedComputation: memo,
    median: { p50, p99, coldP99, spreadMs: spread, baselineP99: bp99 },
    earlyFires: early,
    target: { p99Ms: 50, met },
  });
  emitSummary([
    { bench: 'cron-herd', metric: `p50 lateness, warm (${N} crons, same second)`, value: `${r(p50, 1)} ms`, baseline: `${r(median(bases.map((x) => x.p50)), 2)} ms`, ratio: '-', target: '-', met: null },
    { bench: 'cron-herd', metric: 'p99 lateness, warm', value: `${r(p99, 1)} ms`, baseline: `${r(bp99, 2)} ms`, ratio: `${r(p99 / bp99, 1)}x`, target: '<= 50 ms', met },
    { bench: 'cron-herd', metric: 'p99 lateness, cold (first herd of a process)', value: `${r(coldP99, 1)} ms`, baseline: `${r(bp99, 2)} ms`, ratio: `${r(coldP99 / bp99, 1)}x`, target: '-', met: null },
    { bench: 'cron-herd', metric: 'spread (last − first start), warm', value: `${r(spread, 1)} ms`, baseline: '-', ratio: '-', target: '-', met: null },
    {
      bench: 'cron-herd',
      metric: 'next-slot computations while firing',
      value: `${memo.whileFiring.computations} computed / ${memo.whileFiring.hits} memo hits`,
      baseline: `${N} without memo`,
      ratio: `${r(memo.whileFiring.computations / N, 4)}x`,
      target: 'shared',
      met: memo.whileFiring.computations <= 2,
    },
    { bench: 'cron-herd', metric: 'early fires', value: String(early), baseline: '-', ratio: '-', target: '0', met: early === 0 },
  ]);
}

if (arg('child') !== undefined) await child();
else await main();
