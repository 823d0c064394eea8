/**
 * Throughput of the whole firing path: slot claim (CAS), job record insert, status transitions,
 * lease, events, inline no-op handler, final write. N one-shot `at` triggers all due at the same
 * instant T are added to a started scheduler (so they sit in its heap); at T the engine fires them
 * back to back. Measured: T → the N-th `job:succeeded` event, on the real clock. Memory backend,
 * concurrency 10,000 (slots beyond that wait in the heap until a job ends), `leadMs: 0` (every
 * slot is claimed at T, so no part of a job's path happens before the measured window).
 *
 * Each repeat is a fresh child process running `--rounds` rounds (default 4) one after another on
 * one scheduler. The first round runs on cold code (V8 has not optimized it yet) and is reported on
 * its own; the headline is the median of the later rounds (warm, as in a service that has been
 * running), which is how the baselines are measured too (they are warmed up first). Where
 * `taskset` exists, the same processes run once more pinned to one CPU (`taskset -c 0`), so the
 * scheduler's thread shares that CPU with V8's garbage-collector threads.
 * Baselines, in the parent process (median of 5):
 *  - bare heap loop: push N items into the engine's BinaryHeap, pop them all, call a no-op per item
 *    and emit an eventemitter3 event per item (the loop with no store, claim, record or promise);
 *  - async floor: the same loop, but each item runs as an async job (await an async no-op handler,
 *    then emit), all N in flight at once as the engine does: the cost of one promise chain per job.
 *
 * With `--otel`, each repeat also runs one process whose scheduler has an OpenTelemetry SDK
 * (`@opentelemetry/sdk-trace-base` with a batch span processor whose exporter drops the spans,
 * and `@opentelemetry/sdk-metrics` with a reader that is never collected during the round), right
 * after the plain one: the ratio of the two warm medians is what tracing and metrics cost a job.
 * With `--otel-noop`, each repeat also runs one process whose scheduler has `telemetry: {
 * opentelemetry: true }` and no SDK registered (the API's no-op global providers, as in a service
 * that has `@opentelemetry/api` installed through some dependency but exports nothing): the ratio is
 * what turning OpenTelemetry on costs when nothing records. Both flags may be given together.
 *
 * Extra run (not counted in the headline):
 *  - `--profile`: one run under the V8 CPU profiler (inspector), firing phase only; the
 *    profile goes to .bench-out/throughput.cpuprofile (allocation sampling to throughput.heapprofile)
 *    and the top self-time and top allocating functions are printed.
 *
 *   node --import tsx --expose-gc bench/throughput.ts [--n 20000] [--repeats 3] [--concurrency 10000] [--profile] [--otel] [--otel-noop]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { EventEmitter } from 'eventemitter3';
import { Scheduler } from './pkg.js';
import { BinaryHeap } from '../src/queue/binary-heap.js';
import { canPin, report, resultOf, runNode } from './child.js';
import { summarise, summariseAllocations } from './profile-summary.js';
import {
  OUT_DIR,
  arg,
  banner,
  calibrateEpoch,
  emitSummary,
  epochNow,
  gc,
  keepAlive,
  median,
  numArg,
  r,
  sleep,
  writeResult,
} from './lib.js';

const N = numArg('n', 20_000);
const REPEATS = numArg('repeats', 3);
const ROUNDS = numArg('rounds', 4);
const CONCURRENCY = numArg('concurrency', 10_000);
const PROFILE = arg('profile') !== undefined;
const OTEL = arg('otel') !== undefined;
const OTEL_SDK = arg('otel-sdk') !== undefined;
const OTEL_NOOP = arg('otel-noop') !== undefined;
/** Child: OpenTelemetry on, through the API's global (no-op) providers. */
const OTEL_API = arg('otel-api') !== undefined;

interface Item {
  at: number;
  seq: number;
}

/** Bare heap loop: push N, pop N, no-op + event per item. Returns ms. */
function bareLoop(n: number): number {
  const emitter = new EventEmitter<{ 'job:succeeded': (item: Item) => void }>();
  let count = 0;
  emitter.on('job:succeeded', () => {
    count++;
  });
  const noop = (_item: Item): void => undefined;
  const t0 = performance.now();
  const heap = new BinaryHeap<Item>((a, b) => a.at - b.at || a.seq - b.seq);
  const at = Date.now();
  for (let i = 0; i < n; i++) heap.push({ at, seq: i });
  for (let item = heap.pop(); item; item = heap.pop()) {
    noop(item);
    emitter.emit('job:succeeded', item);
  }
  const ms = performance.now() - t0;
  if (count !== n) throw new Error('bare loop lost items');
  return ms;
}

/** Async floor: like the bare loop, but one async job (await handler, then emit) per item. */
async function asyncFloor(n: number): Promise<number> {
  const emitter = new EventEmitter<{ 'job:succeeded': (item: Item) => void }>();
  let count = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  emitter.on('job:succeeded', () => {
    if (++count === n) resolveDone();
  });
  const handler = async (_item: Item): Promise<void> => undefined;
  const job = async (item: Item): Promise<void> => {
    await handler(item);
    emitter.emit('job:succeeded', item);
  };
  const t0 = performance.now();
  const heap = new BinaryHeap<Item>((a, b) => a.at - b.at || a.seq - b.seq);
  const at = Date.now();
  for (let i = 0; i < n; i++) heap.push({ at, seq: i });
  for (let item = heap.pop(); item; item = heap.pop()) void job(item);
  await done;
  return performance.now() - t0;
}

interface EngineRun {
  jobsPerSec: number;
  /** Jobs per second of process CPU time (user + system, all threads): less sensitive to a noisy host. */
  jobsPerCpuSec: number;
  cpuMs: number;
  elapsedMs: number;
  firstStartMs: number;
  lastStartMs: number;
  addUsPerTrigger: number;
  heapAfterMiB: number;
}

/**
 * One round on a started scheduler: N `at` triggers due at T, fired back to back. Rounds run one
 * after another on the same scheduler, so jobs of earlier rounds stay in its store (as a service's
 * job history does).
 */
async function engineRound(scheduler: Scheduler, round: number, n: number, profile: Session | null): Promise<EngineRun> {
  const offset = calibrateEpoch();
  // Every trigger must be added (and so be in the heap) before T: allow ~40 µs per add plus 1 s.
  const addStart = Date.now();
  const T = addStart + 1000 + Math.ceil(n * 0.04);
  const at = new Date(T);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await scheduler.addTrigger({ id: `tp-${round}-${i}`, handler: 'noop', schedule: { at } });
  const addMs = performance.now() - t0;
  if (Date.now() >= T - 50) throw new Error(`adding ${n} triggers took too long (${addMs.toFixed(0)} ms): they were not all queued before T`);
  let firstStart = 0;
  let lastStart = 0;
  let succeeded = 0;
  let last = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const onStarted = (): void => {
    const t = epochNow(offset);
    if (firstStart === 0) firstStart = t;
    lastStart = t;
  };
  const onSucceeded = (): void => {
    if (++succeeded === n) {
      last = epochNow(offset);
      resolveDone();
    }
  };
  scheduler.on('job:started', onStarted);
  scheduler.on('job:succeeded', onSucceeded);
  // No forced GC before a round: a full collection right before the burst made that round about
  // a third slower (it resets what V8 learned about which allocations live long), and a service
  // does not collect before each burst of slots either.
  const cpu0 = process.cpuUsage();
  if (profile) {
    await sleep(Math.max(0, T - Date.now() - 20));
    await profile.post('Profiler.start');
    await profile.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  await done;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const heapAfterMiB = process.memoryUsage().heapUsed / 2 ** 20;
  scheduler.off('job:started', onStarted);
  scheduler.off('job:succeeded', onSucceeded);
  if (profile) {
    const { profile: cpuProfile } = await profile.post('Profiler.stop');
    const { profile: heapProfile } = await profile.post('HeapProfiler.stopSampling');
    const file = join(OUT_DIR, 'throughput.cpuprofile');
    writeFileSync(file, JSON.stringify(cpuProfile));
    writeFileSync(join(OUT_DIR, 'throughput.heapprofile'), JSON.stringify(heapProfile));
    console.log(`  CPU profile of the firing phase: ${file} (allocation sampling: throughput.heapprofile)`);
  }
  const elapsedMs = last - T;
  return {
    jobsPerSec: n / (elapsedMs / 1000),
    jobsPerCpuSec: n / (cpuMs / 1000),
    cpuMs,
    elapsedMs,
    firstStartMs: firstStart - T,
    lastStartMs: lastStart - T,
    addUsPerTrigger: (addMs / n) * 1000,
    heapAfterMiB,
  };
}

/** What one process measured: its first round (cold: code not yet optimized) and the rounds after it. */
interface ProcessRuns {
  cold: EngineRun;
  warm: EngineRun[];
}

/**
 * An OpenTelemetry SDK as a service would configure it: every span sampled and handed to a batch
 * processor (its exporter counts and drops them), and a meter provider with a reader.
 */
async function otelSdk(): Promise<{ tracerProvider: import('@opentelemetry/api').TracerProvider; meterProvider: import('@opentelemetry/api').MeterProvider }> {
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } = await import('@opentelemetry/sdk-metrics');
  let spans = 0;
  const spanExporter = {
    export: (batch: unknown[], done: (result: { code: 0 }) => void): void => {
      spans += batch.length;
      done({ code: 0 });
    },
    shutdown: async (): Promise<void> => undefined,
  };
  const metricExporter = {
    export: (_metrics: unknown, done: (result: { code: 0 }) => void): void => done({ code: 0 }),
    forceFlush: async (): Promise<void> => undefined,
    shutdown: async (): Promise<void> => undefined,
    selectAggregationTemporality: (): typeof AggregationTemporality.CUMULATIVE => AggregationTemporality.CUMULATIVE,
  };
  process.on('exit', () => console.log(`  (OpenTelemetry: ${spans} spans exported)`));
  return {
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(spanExporter)] }),
    meterProvider: new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 })] }),
  };
}

/** All rounds of one process; the profiler (if any) records the last one. */
async function engineRounds(n: number, rounds: number, profile: Session | null): Promise<ProcessRuns> {
  // leadMs 0: every slot is claimed at T, so the whole path (claim, insert, start, end) of every
  // job falls inside the measured window; with the default lead the first claims would happen
  // before T and flatter the figure.
  const telemetry = OTEL_SDK ? await otelSdk() : OTEL_API ? { opentelemetry: true } : null;
  const scheduler = new Scheduler({ concurrency: CONCURRENCY, leadMs: 0, ...(telemetry ? { telemetry } : {}) });
  scheduler.register('noop', async () => undefined);
  let errors = 0;
  scheduler.on('error', (e) => {
    if (errors++ < 5) console.error('scheduler error:', e.message);
  });
  await scheduler.start();
  const runs: EngineRun[] = [];
  for (let round = 0; round < rounds; round++) runs.push(await engineRound(scheduler, round, n, round === rounds - 1 ? profile : null));
  await scheduler.stop();
  return { cold: runs[0]!, warm: runs.slice(1) };
}

function showRun(label: string, run: EngineRun): void {
  console.log(
    `${label.padEnd(28)} ${r(run.jobsPerSec, 0).toString().padStart(8)} jobs/s, ${r(run.jobsPerCpuSec, 0).toString().padStart(6)} jobs/CPU-s  (${r(run.elapsedMs, 0)} ms wall, ${r(run.cpuMs, 0)} ms CPU; first start +${r(run.firstStartMs, 1)} ms, last start +${r(run.lastStartMs, 0)} ms; addTrigger ${r(run.addUsPerTrigger, 1)} µs; heap ${r(run.heapAfterMiB, 0)} MiB)`,
  );
}

/** Child: the rounds of one process (the last one optionally under the profiler). */
async function child(): Promise<void> {
  const release = keepAlive();
  let session: Session | null = null;
  if (PROFILE) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
  }
  gc();
  const runs = await engineRounds(N, ROUNDS, session);
  session?.disconnect();
  release();
  report(runs);
}

async function main(): Promise<void> {
  banner(`throughput: ${N} due slots, concurrency ${CONCURRENCY}, memory backend, no-op handlers`);
  const release = keepAlive();
  // Warm up the baselines (JIT) on a small n.
  bareLoop(10_000);
  await asyncFloor(10_000);
  const bare: number[] = [];
  const floor: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    gc();
    bare.push(N / (bareLoop(N) / 1000));
    gc();
    floor.push(N / ((await asyncFloor(N)) / 1000));
  }
  release();
  const common = ['--child', '--n', String(N), '--concurrency', String(CONCURRENCY), '--rounds', String(ROUNDS)];
  const cold: EngineRun[] = [];
  const warm: EngineRun[] = [];
  const withOtel: EngineRun[] = [];
  const withNoop: EngineRun[] = [];
  // Each process runs ROUNDS rounds on one scheduler: the first on cold code, the others warm.
  for (let rep = 0; rep < REPEATS; rep++) {
    const runs = resultOf<ProcessRuns>(await runNode('throughput.ts', common, { echo: true }));
    cold.push(runs.cold);
    warm.push(...runs.warm);
    showRun(`process ${rep + 1}, round 1 (cold)`, runs.cold);
    runs.warm.forEach((run, i) => showRun(`process ${rep + 1}, round ${i + 2}`, run));
    if (OTEL) {
      const traced = resultOf<ProcessRuns>(await runNode('throughput.ts', [...common, '--otel-sdk'], { echo: true }));
      withOtel.push(...traced.warm);
      traced.warm.forEach((run, i) => showRun(`OpenTelemetry SDK: process ${rep + 1}, round ${i + 2}`, run));
    }
    if (OTEL_NOOP) {
      const noop = resultOf<ProcessRuns>(await runNode('throughput.ts', [...common, '--otel-api'], { echo: true }));
      withNoop.push(...noop.warm);
      noop.warm.forEach((run, i) => showRun(`OpenTelemetry, no SDK: process ${rep + 1}, round ${i + 2}`, run));
    }
  }
  // The same on one CPU (taskset -c 0): the scheduler's thread and V8's GC helpers share it.
  const pinned: EngineRun[] = [];
  if (canPin()) {
    for (let rep = 0; rep < REPEATS; rep++) {
      const runs = resultOf<ProcessRuns>(await runNode('throughput.ts', common, { echo: true, core: 0 }));
      pinned.push(...runs.warm);
      runs.warm.forEach((run, i) => showRun(`one core: process ${rep + 1}, round ${i + 2}`, run));
    }
  } else {
    console.log('(taskset not available: no one-core run)');
  }
  const pinnedMed = median(pinned.map((x) => x.jobsPerSec));
  const bareMed = median(bare);
  const floorMed = median(floor);
  const engMed = median(warm.map((x) => x.jobsPerSec));
  const engCpuMed = median(warm.map((x) => x.jobsPerCpuSec));
  const coldMed = median(cold.map((x) => x.jobsPerSec));
  console.log(`bare heap loop (median of ${bare.length})   ${r(bareMed, 0)} items/s`);
  console.log(`async floor    (median of ${floor.length})   ${r(floorMed, 0)} jobs/s`);
  console.log(`scheduler warm (median of ${warm.length})   ${r(engMed, 0)} jobs/s wall, ${r(engCpuMed, 0)} jobs/CPU-s`);
  console.log(`scheduler cold (median of ${cold.length})    ${r(coldMed, 0)} jobs/s wall (first round of a fresh process)`);
  if (pinned.length > 0) console.log(`scheduler warm, one core (median of ${pinned.length})   ${r(pinnedMed, 0)} jobs/s wall (taskset -c 0)`);
  console.log(`  per job: scheduler ${r(1e6 / engMed, 2)} µs, async floor ${r(1e6 / floorMed, 3)} µs, bare loop ${r(1e6 / bareMed, 3)} µs`);

  let hotspots: Array<{ fn: string; selfMs: number; selfPct: number; totalPct: number }> = [];
  let allocations: Array<{ fn: string; mib: number; pct: number }> = [];
  if (PROFILE) {
    const runs = resultOf<ProcessRuns>(await runNode('throughput.ts', [...common, '--profile'], { echo: true }));
    showRun('profiled round (not counted)', runs.warm[runs.warm.length - 1] ?? runs.cold);
    const profile = JSON.parse(readFileSync(join(OUT_DIR, 'throughput.cpuprofile'), 'utf8')) as Parameters<typeof summarise>[0];
    const { rows, totalMs } = summarise(profile);
    const busy = rows.filter((x) => !/^\((idle|program|root)\)$/.test(x.fn.split(' ')[0] ?? ''));
    const busyMs = busy.reduce((a, x) => a + x.selfMs, 0);
    console.log(`  top self time in the firing phase (of ${r(busyMs, 0)} ms busy, ${r(totalMs, 0)} ms sampled):`);
    hotspots = busy.slice(0, 15).map((x) => ({ fn: x.fn, selfMs: r(x.selfMs, 1), selfPct: r((100 * x.selfMs) / busyMs, 1), totalPct: r((100 * x.totalMs) / busyMs, 1) }));
    for (const h of hotspots) console.log(`    ${h.selfMs.toFixed(1).padStart(8)} ms ${h.selfPct.toFixed(1).padStart(5)}%  ${h.fn}`);
    const heapProfile = JSON.parse(readFileSync(join(OUT_DIR, 'throughput.heapprofile'), 'utf8')) as Parameters<typeof summariseAllocations>[0];
    allocations = summariseAllocations(heapProfile, 10).map((x) => ({ fn: x.fn, mib: r(x.mib, 1), pct: r(x.pct, 1) }));
    const totalAlloc = summariseAllocations(heapProfile, 100_000).reduce((a, x) => a + x.mib, 0);
    console.log(`  allocated in the firing phase: ${r(totalAlloc, 0)} MiB (~${r((totalAlloc * 2 ** 20) / N / 1024, 1)} KiB per job); top allocating functions:`);
    for (const a of allocations) console.log(`    ${a.mib.toFixed(1).padStart(8)} MiB ${a.pct.toFixed(1).padStart(5)}%  ${a.fn}`);
  }

  const otelMed = median(withOtel.map((x) => x.jobsPerSec));
  const otelCpuMed = median(withOtel.map((x) => x.jobsPerCpuSec));
  if (OTEL) console.log(`scheduler warm with an OpenTelemetry SDK (median of ${withOtel.length})   ${r(otelMed, 0)} jobs/s wall (${r(otelMed / engMed, 3)}x), ${r(otelCpuMed, 0)} jobs/CPU-s (${r(otelCpuMed / engCpuMed, 3)}x)`);
  const noopMed = median(withNoop.map((x) => x.jobsPerSec));
  const noopCpuMed = median(withNoop.map((x) => x.jobsPerCpuSec));
  if (OTEL_NOOP) console.log(`scheduler warm with OpenTelemetry on, no SDK (median of ${withNoop.length})   ${r(noopMed, 0)} jobs/s wall (${r(noopMed / engMed, 3)}x), ${r(noopCpuMed, 0)} jobs/CPU-s (${r(noopCpuMed / engCpuMed, 3)}x)`);
  const met = engMed >= 100_000;
  console.log(`\nscheduler ${r(engMed, 0)} jobs/s (target >= 100,000: ${met ? 'MET' : `MISSED by ${r(100_000 / engMed, 1)}x`})`);
  writeResult('throughput', {
    config: { n: N, repeats: REPEATS, rounds: ROUNDS, concurrency: CONCURRENCY },
    bareLoopItemsPerSec: bare,
    asyncFloorJobsPerSec: floor,
    cold,
    warm,
    pinned,
    withOtel,
    withNoop,
    median: {
      bare: bareMed,
      asyncFloor: floorMed,
      scheduler: engMed,
      schedulerCold: coldMed,
      schedulerOneCore: pinnedMed,
      schedulerPerCpuSec: engCpuMed,
      schedulerWithOtel: OTEL ? otelMed : null,
      schedulerWithOtelNoSdk: OTEL_NOOP ? noopMed : null,
    },
    hotspots,
    allocations,
    target: { jobsPerSec: 100_000, met },
  });
  const rows = [
    {
      bench: 'throughput',
      metric: `jobs/s, warm (${N / 1000}k due slots, conc. ${CONCURRENCY / 1000}k)`,
      value: `${r(engMed, 0)}/s`,
      baseline: `${r(bareMed, 0)}/s bare loop`,
      ratio: `${r(engMed / bareMed, 4)}x (${r(bareMed / engMed, 0)}x slower)`,
      target: '>= 100,000/s',
      met,
    },
    {
      bench: 'throughput',
      metric: 'jobs/s, cold (first round of a process)',
      value: `${r(coldMed, 0)}/s`,
      baseline: `${r(bareMed, 0)}/s bare loop`,
      ratio: `${r(coldMed / bareMed, 4)}x`,
      target: '-',
      met: null,
    },
    {
      bench: 'throughput',
      metric: 'jobs/s, warm, pinned to one core (taskset -c 0)',
      value: pinned.length > 0 ? `${r(pinnedMed, 0)}/s` : 'not run (no taskset)',
      baseline: `${r(bareMed, 0)}/s bare loop`,
      ratio: pinned.length > 0 ? `${r(pinnedMed / bareMed, 4)}x` : '-',
      target: '>= 100,000/s',
      met: pinned.length > 0 ? pinnedMed >= 100_000 : null,
    },
    {
      bench: 'throughput',
      metric: 'jobs/s vs async floor',
      value: `${r(engMed, 0)}/s`,
      baseline: `${r(floorMed, 0)}/s async floor`,
      ratio: `${r(engMed / floorMed, 4)}x (${r(floorMed / engMed, 0)}x slower)`,
      target: '-',
      met: null,
    },
    {
      bench: 'throughput',
      metric: 'jobs per CPU-second (all threads)',
      value: `${r(engCpuMed, 0)}/CPU-s`,
      baseline: '-',
      ratio: '-',
      target: '-',
      met: null,
    },
    {
      bench: 'throughput',
      metric: 'first job start after T (herd head)',
      value: `${r(median(warm.map((x) => x.firstStartMs)), 1)} ms`,
      baseline: '-',
      ratio: '-',
      target: '-',
      met: null,
    },
  ];
  if (OTEL) {
    rows.push({
      bench: 'throughput',
      metric: 'jobs/s, warm, with an OpenTelemetry SDK (spans + metrics)',
      value: `${r(otelMed, 0)}/s`,
      baseline: `${r(engMed, 0)}/s without`,
      ratio: `${r(otelMed / engMed, 3)}x (per CPU-s ${r(otelCpuMed / engCpuMed, 3)}x)`,
      target: '-',
      met: null,
    });
  }
  if (OTEL_NOOP) {
    rows.push({
      bench: 'throughput',
      metric: 'jobs/s, warm, OpenTelemetry on with no SDK (no-op providers)',
      value: `${r(noopMed, 0)}/s`,
      baseline: `${r(engMed, 0)}/s without`,
      ratio: `${r(noopMed / engMed, 3)}x (per CPU-s ${r(noopCpuMed / engCpuMed, 3)}x)`,
      target: '>= 0.97x',
      met: noopMed / engMed >= 0.97,
    });
  }
  emitSummary(rows);
}

if (arg('child') !== undefined) await child();
else await main();
