/**
 * Per-fire cost against the number of registered triggers. In a child process per size, N idle
 * triggers (`every: 1h` starting tomorrow, inserted into the `MemoryTriggerStore` before start; far
 * outside the look-ahead) plus, in each of 4 rounds, 10,000 one-shot `at` triggers all due at one
 * instant T, added to the started scheduler (concurrency 10,000, `leadMs: 0` so every claim
 * happens inside the measured span, no-op handlers, real clock).
 * Per-fire cost = process CPU time (user + system) from T to the 10,000th `job:succeeded`, / 10,000;
 * wall time over the same span is reported too. Median of the rounds. The figure at
 * N = 1,000,000 is compared with the one at N = 1,000 (the baseline) in the same `npm run bench`.
 * GC time during the firing phase is reported too, since a bigger heap makes full GCs dearer.
 *
 *   npx tsx bench/scale.ts [--sizes 1000,1000000] [--due 10000] [--rounds 4]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { MemoryTriggerStore, Scheduler } from './pkg.js';
import { report, resultOf, runNode } from './child.js';
import { arg, banner, calibrateEpoch, emitSummary, epochNow, gc, keepAlive, median, numArg, r, writeResult } from './lib.js';
import { idleTrigger } from './records.js';

const DUE = numArg('due', 10_000);
const ROUNDS = numArg('rounds', 4);
const SIZES = (arg('sizes') ?? '1000,1000000').split(',').map(Number);
const DAY_MS = 86_400_000;

interface Round {
  perFireUs: number;
  cpuPerFireUs: number;
  elapsedMs: number;
  gcMs: number;
  gcMaxMs: number;
}

interface SizeResult {
  idle: number;
  loadMs: number;
  heapMiB: number;
  rounds: Round[];
  medianPerFireUs: number;
  medianCpuPerFireUs: number;
}

async function child(idle: number): Promise<SizeResult> {
  const release = keepAlive();
  const now = Date.now();
  const store = new MemoryTriggerStore();
  const t0 = performance.now();
  for (let i = 0; i < idle; i++) await store.insert(idleTrigger(`idle-${i}`, now, now + DAY_MS));
  const loadMs = performance.now() - t0;
  // leadMs 0: each slot's whole path (claim included) falls inside the measured window.
  const scheduler = new Scheduler({ triggerStore: store, concurrency: 10_000, leadMs: 0 });
  scheduler.register('noop', async () => undefined);
  scheduler.on('error', (e) => console.error('scheduler error:', e.message));
  await scheduler.start();
  gc();
  const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;
  let gcMs = 0;
  let gcMaxMs = 0;
  // Entries arrive asynchronously: count those that started inside the measured span.
  let spanStart = Number.POSITIVE_INFINITY;
  let spanEnd = Number.POSITIVE_INFINITY;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.startTime < spanStart || entry.startTime > spanEnd) continue;
      gcMs += entry.duration;
      gcMaxMs = Math.max(gcMaxMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const rounds: Round[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const offset = calibrateEpoch();
    const T = Date.now() + 800 + Math.ceil(DUE * 0.04);
    const at = new Date(T);
    for (let i = 0; i < DUE; i++) await scheduler.addTrigger({ id: `due-${round}-${i}`, handler: 'noop', schedule: { at } });
    if (Date.now() >= T - 50) throw new Error('adding the due triggers took too long');
    let done = 0;
    let last = 0;
    let resolveDone!: () => void;
    const finished = new Promise<void>((resolve) => (resolveDone = resolve));
    const onSucceeded = (): void => {
      if (++done === DUE) {
        last = epochNow(offset);
        resolveDone();
      }
    };
    scheduler.on('job:succeeded', onSucceeded);
    gcMs = 0;
    gcMaxMs = 0;
    spanStart = performance.now();
    spanEnd = Number.POSITIVE_INFINITY;
    const cpu0 = process.cpuUsage();
    await finished;
    const cpu = process.cpuUsage(cpu0);
    spanEnd = performance.now();
    // GC entries are delivered asynchronously; let the observer see the last ones.
    await new Promise((resolve) => setTimeout(resolve, 20));
    spanStart = Number.POSITIVE_INFINITY;
    scheduler.off('job:succeeded', onSucceeded);
    const elapsedMs = last - T;
    rounds.push({ perFireUs: (elapsedMs / DUE) * 1000, cpuPerFireUs: (cpu.user + cpu.system) / DUE, elapsedMs, gcMs, gcMaxMs });
  }
  observer.disconnect();
  await scheduler.stop();
  release();
  return {
    idle,
    loadMs,
    heapMiB,
    rounds,
    medianPerFireUs: median(rounds.map((x) => x.perFireUs)),
    medianCpuPerFireUs: median(rounds.map((x) => x.cpuPerFireUs)),
  };
}

async function main(): Promise<void> {
  banner(`scale: per-fire cost with ${SIZES.join(' / ')} idle triggers + ${DUE} due slots`);
  const results: SizeResult[] = [];
  for (const size of SIZES) {
    const out = await runNode('scale.ts', ['--child', String(size), '--due', String(DUE), '--rounds', String(ROUNDS)], {
      echo: true,
      flags: ['--max-old-space-size=6144'],
    });
    const res = resultOf<SizeResult>(out);
    results.push(res);
    console.log(
      `${String(size).padStart(9)} idle: ${r(res.medianPerFireUs, 1).toString().padStart(7)} µs wall, ${r(res.medianCpuPerFireUs, 1).toString().padStart(7)} µs CPU per fire (rounds ${res.rounds.map((x) => `${r(x.perFireUs, 0)}/${r(x.cpuPerFireUs, 0)}`).join(', ')} µs wall/CPU; GC pauses in firing ${res.rounds.map((x) => `${r(x.gcMs, 0)}ms/max ${r(x.gcMaxMs, 0)}`).join(', ')}); heap ${r(res.heapMiB, 0)} MiB; load ${r(res.loadMs / 1000, 2)} s`,
    );
  }
  const small = results[0]!;
  const big = results[results.length - 1]!;
  // CPU time per fire is the cost figure (a noisy host stretches wall time, not CPU time much).
  const ratio = big.medianCpuPerFireUs / small.medianCpuPerFireUs;
  const wallRatio = big.medianPerFireUs / small.medianPerFireUs;
  const met = ratio <= 2;
  console.log(`\nper-fire CPU cost at ${big.idle} vs ${small.idle}: ${r(ratio, 2)}x; wall ${r(wallRatio, 2)}x (target <= 2x: ${met ? 'MET' : 'MISSED'})`);
  writeResult('scale', { config: { sizes: SIZES, due: DUE, rounds: ROUNDS }, results, ratio, wallRatio, target: { ratio: 2, met } });
  emitSummary([
    {
      bench: 'scale',
      metric: `CPU µs per fire at ${big.idle / 1e6}M idle (${DUE / 1000}k due)`,
      value: `${r(big.medianCpuPerFireUs, 1)} µs`,
      baseline: `${r(small.medianCpuPerFireUs, 1)} µs at ${small.idle / 1000}k`,
      ratio: `${r(ratio, 2)}x`,
      target: '<= 2x',
      met,
    },
    {
      bench: 'scale',
      metric: 'wall µs per fire (same runs)',
      value: `${r(big.medianPerFireUs, 1)} µs`,
      baseline: `${r(small.medianPerFireUs, 1)} µs at ${small.idle / 1000}k`,
      ratio: `${r(wallRatio, 2)}x`,
      target: '-',
      met: null,
    },
  ]);
}

const childSize = arg('child');
if (childSize !== undefined) report(await child(Number(childSize)));
else await main();
