/**
 * Worker-thread runner against the inline runner, through the public Scheduler API (memory
 * backend, SystemClock, default scheduler concurrency of 10, manual triggers and `runTrigger`):
 *
 *  1. Overhead per job and jobs/s, for a no-op handler and a 5 ms CPU-bound handler (a fixed amount
 *     of synchronous work, calibrated to 5 ms in the main thread: bench/workers/busy.mjs). Three
 *     variants: inline function handler, the same module loaded inline (`InlineJobRunner` module
 *     support: a scheduler without `jobRunner`), and the module on
 *     `WorkerPoolJobRunner({ minThreads: 2, maxThreads: 2 })`, warm (warm-up batches first). Two ways:
 *       - one at a time: `runTrigger`, wait for `job:succeeded`, next (per-job latency, end to end);
 *       - batch: N `runTrigger` calls at once until the N-th `job:succeeded`: total / N, and N / total
 *         as jobs/s (the pool runs 2 at a time; the rest of the scheduler's 10 running jobs wait in
 *         the pool's queue, so `threadWaitMs` is not 0 there).
 *     Rounds rotate the variants' order (drift hits all alike); figures are medians over rounds.
 *     Per cell: p50/p99 of the stored `job.metrics.durationMs` and `threadWaitMs` (integer ms, as the
 *     engine stores them), CPU per job of the whole process and of the scheduler's thread alone
 *     (/proc/thread-self/schedstat), and, one at a time, the end-to-end latency (sub-ms).
 *  2. Event-loop delay of the scheduler's thread, `monitorEventLoopDelay({ resolution: 10 })` as the
 *     scheduler's own `health()` uses: idle (started, nothing running); 2 worker threads burning CPU
 *     back to back (200 ms jobs, 4 in flight so no thread waits); one worker job at a time (a core
 *     left free); the same 200 ms jobs inline, one at a time; and a backlog of N 5 ms jobs submitted
 *     at once, on the workers and inline. The histogram records the whole interval between its 10 ms
 *     timer ticks, so an idle loop reads ~10 ms: compare with idle, not with 0.
 *
 * Noise: the host has 2 cores and other processes may run. Every sample records the cores used by
 * other processes meanwhile (/proc/stat minus this process's CPU); a NOTE is printed when that
 * exceeded 0.2 cores. Each part runs in a fresh child process (`--child overhead|lag`, `--verbose`
 * for progress).
 *
 *   node --import tsx --expose-gc bench/worker-pool.ts [--noop 500] [--cpu 200] [--rounds 3]
 *     [--cpu-ms 5] [--idle-ms 3000] [--burn-ms 5000] [--burn-job-ms 200]
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Scheduler, WorkerPoolJobRunner, type Job, type JsonValue } from './pkg.js';
import { report, resultOf, runNode } from './child.js';
import { arg, banner, dist, emitSummary, gc, keepAlive, median, numArg, r, sleep, writeResult, type Dist } from './lib.js';

const NOOP_N = numArg('noop', 500);
const CPU_N = numArg('cpu', 200);
const ROUNDS = numArg('rounds', 3);
const CPU_MS = numArg('cpu-ms', 5);
const IDLE_MS = numArg('idle-ms', 3000);
const BURN_MS = numArg('burn-ms', 5000);
const BURN_JOB_MS = numArg('burn-job-ms', 200);
const VERBOSE = arg('verbose') !== undefined;
const THREADS = 2;
const RESOLUTION_MS = 10;

const NOOP_MODULE = fileURLToPath(new URL('./workers/noop.mjs', import.meta.url));
const BUSY_MODULE = fileURLToPath(new URL('./workers/busy.mjs', import.meta.url));

type Variant = 'inline-fn' | 'inline-module' | 'worker';
const VARIANTS: Variant[] = ['inline-fn', 'inline-module', 'worker'];
type Work = 'noop' | 'cpu';
type Mode = 'serial' | 'batch';

// ─── Shared pieces ─────────────────────────────────────────────────────────────────────────────

interface BusyModule {
  spin: (iterations: number) => number;
  default: (ctx: { payload: JsonValue }) => number;
}

async function loadBusy(): Promise<BusyModule> {
  return (await import(pathToFileURL(BUSY_MODULE).href)) as BusyModule;
}

/** Iterations of `spin` per ms in this thread: best of several ~20 ms samples after a warm-up. */
function calibrate(spin: (n: number) => number): number {
  for (let i = 0; i < 5; i++) spin(2e6);
  let best = Number.POSITIVE_INFINITY;
  const n = 2e7;
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    spin(n);
    best = Math.min(best, performance.now() - t0);
  }
  return n / best;
}

/**
 * CPU time used by the whole host so far (all processes), from /proc/stat, in ms; `null` off
 * Linux. With this process's own CPU subtracted it shows whether something else was running.
 */
function hostCpuMs(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait. USER_HZ = 100.
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    return null;
  }
}

/** CPU time of the calling thread so far, in ms, from /proc/thread-self/schedstat; `null` off Linux. */
function threadCpuMs(): number | null {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ', 1)[0]) / 1e6;
  } catch {
    return null;
  }
}

/** Cores used by other processes over a window, given host CPU and own CPU at its start. */
class OtherLoad {
  readonly #host = hostCpuMs();
  readonly #own = process.cpuUsage();
  readonly #t0 = performance.now();

  cores(): number | null {
    const host = hostCpuMs();
    if (host === null || this.#host === null) return null;
    const own = process.cpuUsage(this.#own);
    return Math.max(0, (host - this.#host - (own.user + own.system) / 1000) / (performance.now() - this.#t0));
  }
}

/** Counts finished jobs of one scheduler and resolves when a count is reached. */
class Tracker {
  jobs: Job[] = [];
  failed: Job[] = [];
  #target = Number.POSITIVE_INFINITY;
  #resolve: (() => void) | null = null;
  onDone: ((job: Job) => void) | null = null;

  constructor(scheduler: Scheduler) {
    scheduler.on('job:succeeded', (job) => this.#add(job));
    scheduler.on('job:failed', (job) => {
      this.failed.push(job);
      this.#add(job);
    });
  }

  #add(job: Job): void {
    this.jobs.push(job);
    this.onDone?.(job);
    if (this.jobs.length >= this.#target && this.#resolve) {
      const resolve = this.#resolve;
      this.#resolve = null;
      this.#target = Number.POSITIVE_INFINITY;
      resolve();
    }
  }

  reset(): void {
    this.jobs = [];
    this.failed = [];
  }

  until(n: number): Promise<void> {
    if (this.jobs.length >= n) return Promise.resolve();
    this.#target = n;
    return new Promise((resolve) => (this.#resolve = resolve));
  }

  check(what: string): void {
    const first = this.failed[0];
    if (first) throw new Error(`${what}: ${this.failed.length} job(s) failed, e.g. ${first.error?.name}: ${first.error?.message}`);
  }
}

// ─── Part 1: overhead per job and jobs/s ───────────────────────────────────────────────────────

interface Sample {
  variant: Variant;
  work: Work;
  mode: Mode;
  round: number;
  n: number;
  totalMs: number;
  perJobMs: number;
  jobsPerSec: number;
  /** This process's CPU (all threads) over the run, in cores. */
  processCores: number;
  /** CPU of this process (all threads: main, workers, GC, ...) per job, ms. */
  processCpuPerJobMs: number;
  /** CPU of the scheduler's (main) thread per job, ms (Linux; includes the handler when inline). */
  mainThreadCpuPerJobMs: number | null;
  /** Other processes' CPU over the run, in cores (noise indicator; 10 ms tick resolution). */
  otherCores: number | null;
  /** Serial only: end-to-end latency per job (runTrigger → job:succeeded), ms. */
  latency: Dist | null;
  durationMs: Dist;
  threadWaitMs: Dist;
  cpuUserMs: Dist;
}

interface OverheadResult {
  /** Cores used by other processes on the host while this child ran (noise indicator). */
  otherCores: number | null;
  itersPerMs: number;
  cpuIterations: number;
  samples: Sample[];
}

interface Target {
  scheduler: Scheduler;
  tracker: Tracker;
  triggerId: string;
}

function nums(jobs: Job[], pick: (job: Job) => number | null): Dist {
  const values: number[] = [];
  for (const job of jobs) {
    const v = pick(job);
    if (v !== null) values.push(v);
  }
  return dist(values);
}

async function runSerial(t: Target, n: number): Promise<{ totalMs: number; latency: number[] }> {
  t.tracker.reset();
  const latency: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await t.scheduler.runTrigger(t.triggerId);
    await t.tracker.until(i + 1);
    latency.push(performance.now() - s);
  }
  return { totalMs: performance.now() - t0, latency };
}

async function runBatch(t: Target, n: number): Promise<{ totalMs: number }> {
  t.tracker.reset();
  const t0 = performance.now();
  const done = t.tracker.until(n);
  await Promise.all(Array.from({ length: n }, () => t.scheduler.runTrigger(t.triggerId)));
  await done;
  return { totalMs: performance.now() - t0 };
}

async function overheadChild(): Promise<void> {
  const other = new OtherLoad();
  const busy = await loadBusy();
  const itersPerMs = calibrate(busy.spin);
  const cpuIterations = Math.round(itersPerMs * CPU_MS);
  const cpuPayload = { iterations: cpuIterations };

  // Inline: function handlers, and the same modules imported into this thread (no jobRunner).
  const inline = new Scheduler();
  inline.register('noop.fn', () => undefined);
  inline.register('cpu.fn', (ctx) => busy.default(ctx));
  inline.register('noop.module', { module: NOOP_MODULE });
  inline.register('cpu.module', { module: BUSY_MODULE });
  // Worker pool: the modules on 2 threads.
  const runner = new WorkerPoolJobRunner({ minThreads: THREADS, maxThreads: THREADS });
  const worker = new Scheduler({ jobRunner: runner });
  worker.register('noop', { module: NOOP_MODULE });
  worker.register('cpu', { module: BUSY_MODULE });

  const release = keepAlive();
  await Promise.all([inline.start(), worker.start()]);
  const inlineTracker = new Tracker(inline);
  const workerTracker = new Tracker(worker);
  const targets = new Map<string, Target>();
  const add = async (s: Scheduler, tracker: Tracker, variant: Variant, work: Work, handler: string): Promise<void> => {
    const trigger = await s.addTrigger({ handler, schedule: { manual: true }, payload: work === 'cpu' ? cpuPayload : null });
    targets.set(`${variant}/${work}`, { scheduler: s, tracker, triggerId: trigger.id });
  };
  await add(inline, inlineTracker, 'inline-fn', 'noop', 'noop.fn');
  await add(inline, inlineTracker, 'inline-fn', 'cpu', 'cpu.fn');
  await add(inline, inlineTracker, 'inline-module', 'noop', 'noop.module');
  await add(inline, inlineTracker, 'inline-module', 'cpu', 'cpu.module');
  await add(worker, workerTracker, 'worker', 'noop', 'noop');
  await add(worker, workerTracker, 'worker', 'cpu', 'cpu');
  const target = (variant: Variant, work: Work): Target => targets.get(`${variant}/${work}`)!;

  // Warm-up: batches so that both threads load the modules and JIT the loop; serial runs too.
  for (const variant of VARIANTS) {
    for (const work of ['noop', 'cpu'] as Work[]) {
      const t = target(variant, work);
      await runBatch(t, work === 'noop' ? 200 : 40);
      await runSerial(t, work === 'noop' ? 50 : 10);
      t.tracker.check(`warm-up ${variant}/${work}`);
    }
  }
  if (runner.stats().threads !== THREADS) throw new Error(`expected ${THREADS} threads, pool has ${runner.stats().threads}`);

  const samples: Sample[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ['serial', 'batch'] as Mode[]) {
      for (const work of ['noop', 'cpu'] as Work[]) {
        // Rotate the order each round so no variant always goes first.
        const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
        for (const variant of order) {
          const t = target(variant, work);
          const n = work === 'noop' ? NOOP_N : CPU_N;
          gc();
          const load = new OtherLoad();
          const main0 = threadCpuMs();
          const cpu0 = process.cpuUsage();
          const out: { totalMs: number; latency?: number[] } = mode === 'serial' ? await runSerial(t, n) : await runBatch(t, n);
          const cpu = process.cpuUsage(cpu0);
          const main1 = threadCpuMs();
          const otherCores = load.cores();
          t.tracker.check(`${variant}/${work}/${mode}`);
          if (VERBOSE) {
            console.log(
              `  round ${round + 1} ${mode} ${work} ${variant}: ${r(out.totalMs, 1)} ms for ${n}; CPU ${r((cpu.user + cpu.system) / 1000 / out.totalMs, 2)} cores here, ${otherCores === null ? '?' : r(otherCores, 2)} elsewhere`,
            );
          }
          const jobs = t.tracker.jobs;
          samples.push({
            variant,
            work,
            mode,
            round,
            n,
            totalMs: out.totalMs,
            perJobMs: out.totalMs / n,
            jobsPerSec: n / (out.totalMs / 1000),
            processCores: (cpu.user + cpu.system) / 1000 / out.totalMs,
            processCpuPerJobMs: (cpu.user + cpu.system) / 1000 / n,
            mainThreadCpuPerJobMs: main0 === null || main1 === null ? null : (main1 - main0) / n,
            otherCores,
            latency: out.latency ? dist(out.latency) : null,
            durationMs: nums(jobs, (j) => j.metrics.durationMs),
            threadWaitMs: nums(jobs, (j) => j.metrics.threadWaitMs),
            cpuUserMs: nums(jobs, (j) => j.metrics.cpuUserMs),
          });
        }
      }
    }
  }
  await Promise.all([inline.stop(), worker.stop()]);
  release();
  report({ otherCores: other.cores(), itersPerMs, cpuIterations, samples } satisfies OverheadResult);
}

// ─── Part 2: event-loop lag ────────────────────────────────────────────────────────────────────

interface LagWindow {
  phase: string;
  ms: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
  count: number;
  /** Process CPU (user + system, all threads) over the window, in cores. */
  cores: number;
  /** Cores used by other processes on the host over the window (noise indicator). */
  otherCores: number | null;
  jobs: number;
}

interface LagResult {
  itersPerMs: number;
  burnIterations: number;
  windows: LagWindow[];
  burnJobMs: Dist;
}

function snapshot(h: IntervalHistogram, phase: string, ms: number, cpu: NodeJS.CpuUsage, jobs: number, otherCores: number | null): LagWindow {
  return {
    phase,
    ms,
    p50: h.percentile(50) / 1e6,
    p99: h.percentile(99) / 1e6,
    max: h.max / 1e6,
    mean: h.mean / 1e6,
    count: h.count,
    cores: (cpu.user + cpu.system) / 1000 / ms,
    otherCores,
    jobs,
  };
}

async function lagChild(): Promise<void> {
  const busy = await loadBusy();
  const itersPerMs = calibrate(busy.spin);
  const burnIterations = Math.round(itersPerMs * BURN_JOB_MS);
  const payload = { iterations: burnIterations };

  const runner = new WorkerPoolJobRunner({ minThreads: THREADS, maxThreads: THREADS });
  const scheduler = new Scheduler({ jobRunner: runner });
  scheduler.register('burn.worker', { module: BUSY_MODULE });
  scheduler.register('burn.inline', (ctx) => busy.default(ctx));
  const release = keepAlive();
  await scheduler.start();
  const tracker = new Tracker(scheduler);
  const onWorker = await scheduler.addTrigger({ handler: 'burn.worker', schedule: { manual: true }, payload });
  const onInline = await scheduler.addTrigger({ handler: 'burn.inline', schedule: { manual: true }, payload });

  // Warm-up: both threads run the loop; the inline handler too.
  tracker.reset();
  const warm = tracker.until(6);
  for (let i = 0; i < 4; i++) void scheduler.runTrigger(onWorker.id);
  for (let i = 0; i < 2; i++) void scheduler.runTrigger(onInline.id);
  if (VERBOSE) console.log('  lag: warming up');
  await warm;
  tracker.check('warm-up');
  if (VERBOSE) console.log('  lag: warm');
  gc();

  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  await sleep(500);
  const windows: LagWindow[] = [];
  const burnDurations: number[] = [];

  const measure = async (phase: string, ms: number, triggerId: string | null, inFlight: number): Promise<void> => {
    tracker.reset();
    let active = triggerId !== null;
    let started = 0;
    const submit = (): void => {
      started++;
      scheduler.runTrigger(triggerId!).catch((error: unknown) => {
        console.error(`runTrigger failed: ${String(error)}`);
      });
    };
    // Resubmit from a macrotask: submitting from inside `job:succeeded` would chain inline jobs
    // through microtasks only (the memory store never yields), and timers would never run.
    tracker.onDone = () => {
      if (active) setImmediate(submit);
    };
    if (triggerId !== null) {
      for (let i = 0; i < inFlight; i++) submit();
      // Let the pipeline fill before the window opens.
      await sleep(Math.min(BURN_JOB_MS * 1.5, 500));
    }
    const doneBefore = tracker.jobs.length;
    h.reset();
    const other = new OtherLoad();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(ms);
    const elapsed = performance.now() - t0;
    const win = snapshot(h, phase, elapsed, process.cpuUsage(cpu0), tracker.jobs.length - doneBefore, other.cores());
    windows.push(win);
    if (triggerId === onWorker.id) for (const job of tracker.jobs.slice(doneBefore)) if (job.metrics.durationMs !== null) burnDurations.push(job.metrics.durationMs);
    active = false;
    if (VERBOSE) console.log(`  lag: ${phase}: window closed, waiting for ${started} jobs (${tracker.jobs.length} done)`);
    await tracker.until(started);
    tracker.onDone = null;
    tracker.check(phase);
    gc();
    await sleep(300);
  };

  await measure('idle', IDLE_MS, null, 0);
  await measure(`${THREADS} worker threads busy`, BURN_MS, onWorker.id, THREADS * 2);
  await measure('1 worker thread busy', BURN_MS, onWorker.id, 1);
  // One at a time: inline jobs cannot overlap anyway, and the delay then equals one job's length.
  await measure('same CPU jobs inline', BURN_MS, onInline.id, 1);

  // A backlog: CPU_N jobs of CPU_MS submitted at once (the scheduler runs 10, the rest wait as
  // pending). The histogram discards its first interval after a reset, so it ticks twice before
  // the batch goes in; the window ends once the last job has finished and the loop has ticked again.
  const backlog = async (phase: string, triggerId: string): Promise<void> => {
    tracker.reset();
    h.reset();
    await sleep(RESOLUTION_MS * 2.5);
    const other = new OtherLoad();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const done = tracker.until(CPU_N);
    await Promise.all(Array.from({ length: CPU_N }, () => scheduler.runTrigger(triggerId)));
    await done;
    await sleep(RESOLUTION_MS * 2.5);
    windows.push(snapshot(h, phase, performance.now() - t0, process.cpuUsage(cpu0), tracker.jobs.length, other.cores()));
    tracker.check(phase);
    gc();
    await sleep(300);
  };
  const cpuPayload = { iterations: Math.round(itersPerMs * CPU_MS) };
  const cpuOnWorker = await scheduler.addTrigger({ handler: 'burn.worker', schedule: { manual: true }, payload: cpuPayload });
  const cpuInline = await scheduler.addTrigger({ handler: 'burn.inline', schedule: { manual: true }, payload: cpuPayload });
  await backlog(`backlog ${CPU_N}x${CPU_MS} ms, workers`, cpuOnWorker.id);
  await backlog(`backlog ${CPU_N}x${CPU_MS} ms, inline`, cpuInline.id);

  h.disable();
  await scheduler.stop();
  release();
  report({ itersPerMs, burnIterations, windows, burnJobMs: dist(burnDurations) } satisfies LagResult);
}

// ─── Parent: run the children, summarise ───────────────────────────────────────────────────────

interface Cell {
  perJobMs: number;
  jobsPerSec: number;
  latencyP50: number | null;
  latencyP99: number | null;
  durationP50: number;
  durationP99: number;
  waitP50: number;
  waitP99: number;
  cpuUserP50: number;
  processCpuPerJobMs: number;
  mainThreadCpuPerJobMs: number | null;
  /** Most other-process CPU seen in any round of this cell (noise indicator). */
  otherCoresMax: number | null;
  spreadPerJobMs: [number, number];
}

function cell(samples: Sample[], variant: Variant, work: Work, mode: Mode): Cell {
  const s = samples.filter((x) => x.variant === variant && x.work === work && x.mode === mode);
  const m = (f: (x: Sample) => number): number => median(s.map(f));
  const per = s.map((x) => x.perJobMs);
  return {
    perJobMs: m((x) => x.perJobMs),
    jobsPerSec: m((x) => x.jobsPerSec),
    latencyP50: mode === 'serial' ? m((x) => x.latency!.p50) : null,
    latencyP99: mode === 'serial' ? m((x) => x.latency!.p99) : null,
    durationP50: m((x) => x.durationMs.p50),
    durationP99: m((x) => x.durationMs.p99),
    waitP50: m((x) => x.threadWaitMs.p50),
    waitP99: m((x) => x.threadWaitMs.p99),
    cpuUserP50: m((x) => x.cpuUserMs.p50),
    processCpuPerJobMs: m((x) => x.processCpuPerJobMs),
    mainThreadCpuPerJobMs: s.every((x) => x.mainThreadCpuPerJobMs !== null) ? m((x) => x.mainThreadCpuPerJobMs!) : null,
    otherCoresMax: s.every((x) => x.otherCores !== null) ? Math.max(...s.map((x) => x.otherCores!)) : null,
    spreadPerJobMs: [Math.min(...per), Math.max(...per)],
  };
}

const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);
const fmt = (v: number | null, d = 3): string => (v === null || !Number.isFinite(v) ? '-' : String(r(v, d)));

async function main(): Promise<void> {
  const cores = cpus().length;
  banner(`worker-pool: worker runner (${THREADS} threads) vs inline; ${cores} CPUs, memory backend, SystemClock`);
  const loadBefore = loadavg()[0]!;
  console.log(`host load average (1 min) at start: ${r(loadBefore, 2)}`);
  const over = resultOf<OverheadResult>(
    await runNode('worker-pool.ts', ['--child', 'overhead', '--noop', String(NOOP_N), '--cpu', String(CPU_N), '--rounds', String(ROUNDS), '--cpu-ms', String(CPU_MS)], {
      echo: true,
      timeoutMs: 120_000,
    }),
  );
  const lag = resultOf<LagResult>(
    await runNode(
      'worker-pool.ts',
      ['--child', 'lag', '--idle-ms', String(IDLE_MS), '--burn-ms', String(BURN_MS), '--burn-job-ms', String(BURN_JOB_MS), '--cpu', String(CPU_N), '--cpu-ms', String(CPU_MS)],
      { echo: true, timeoutMs: 120_000 },
    ),
  );

  const cells: Record<string, Cell> = {};
  for (const mode of ['serial', 'batch'] as Mode[]) {
    for (const work of ['noop', 'cpu'] as Work[]) {
      for (const variant of VARIANTS) cells[`${variant}/${work}/${mode}`] = cell(over.samples, variant, work, mode);
    }
  }
  const c = (variant: Variant, work: Work, mode: Mode): Cell => cells[`${variant}/${work}/${mode}`]!;

  console.log(`\nother processes used ${fmt(over.otherCores, 2)} cores on average during this part (0 = quiet host)`);
  console.log(`CPU job: ${over.cpuIterations} iterations (${r(over.itersPerMs, 0)} per ms in the main thread, calibrated to ${CPU_MS} ms)`);
  console.log(`medians of ${ROUNDS} rounds; no-op N=${NOOP_N}, CPU N=${CPU_N}; durationMs / threadWaitMs as stored (integer ms)\n`);
  const label = (work: Work, mode: Mode): string => `${work === 'noop' ? 'no-op' : `${CPU_MS} ms CPU`}, ${mode === 'serial' ? 'one at a time' : 'batch'}`;
  const head1 = `${pad('handler, mode', 26)}${pad('runner', 15)}${lpad('ms/job', 9)}${lpad('(min-max)', 16)}${lpad('vs inline', 10)}${lpad('jobs/s', 9)}${lpad('lat p50', 9)}${lpad('lat p99', 9)}`;
  console.log(head1);
  console.log('─'.repeat(head1.length));
  for (const mode of ['serial', 'batch'] as Mode[]) {
    for (const work of ['noop', 'cpu'] as Work[]) {
      const base = c('inline-fn', work, mode).perJobMs;
      for (const variant of VARIANTS) {
        const x = c(variant, work, mode);
        console.log(
          `${pad(label(work, mode), 26)}${pad(variant, 15)}${lpad(fmt(x.perJobMs), 9)}${lpad(`${fmt(x.spreadPerJobMs[0])}-${fmt(x.spreadPerJobMs[1])}`, 16)}${lpad(`${fmt(x.perJobMs / base, 2)}x`, 10)}${lpad(fmt(x.jobsPerSec, 0), 9)}${lpad(fmt(x.latencyP50), 9)}${lpad(fmt(x.latencyP99), 9)}`,
        );
      }
    }
  }
  console.log('(ms/job: total / N; lat: runTrigger → job:succeeded per job, one at a time)\n');
  const head2 = `${pad('handler, mode', 26)}${pad('runner', 15)}${lpad('durationMs p50/p99', 20)}${lpad('threadWaitMs p50/p99', 22)}${lpad('CPU/job all', 13)}${lpad('main thread', 13)}${lpad('others', 8)}`;
  console.log(head2);
  console.log('─'.repeat(head2.length));
  for (const mode of ['serial', 'batch'] as Mode[]) {
    for (const work of ['noop', 'cpu'] as Work[]) {
      for (const variant of VARIANTS) {
        const x = c(variant, work, mode);
        console.log(
          `${pad(label(work, mode), 26)}${pad(variant, 15)}${lpad(`${fmt(x.durationP50, 0)} / ${fmt(x.durationP99, 0)}`, 20)}${lpad(`${fmt(x.waitP50, 0)} / ${fmt(x.waitP99, 0)}`, 22)}${lpad(fmt(x.processCpuPerJobMs), 13)}${lpad(fmt(x.mainThreadCpuPerJobMs), 13)}${lpad(fmt(x.otherCoresMax, 2), 8)}`,
        );
      }
    }
  }
  console.log('(job.metrics as stored, integer ms; CPU/job: ms of CPU per job, whole process / scheduler thread; others: cores used by other processes, worst round; 10 ms tick resolution, so rough for short runs)');
  console.log(`\nevent-loop delay of the scheduler's thread (monitorEventLoopDelay, resolution ${RESOLUTION_MS} ms; idle reads ~${RESOLUTION_MS} ms)`);
  console.log(`burn jobs: ${lag.burnIterations} iterations (~${BURN_JOB_MS} ms); worker job durationMs p50 ${fmt(lag.burnJobMs.p50, 0)}, p99 ${fmt(lag.burnJobMs.p99, 0)}`);
  console.log(`${pad('phase', 28)}${lpad('p50 ms', 9)}${lpad('p99 ms', 9)}${lpad('max ms', 9)}${lpad('mean ms', 9)}${lpad('CPU cores', 11)}${lpad('others', 8)}${lpad('jobs', 6)}`);
  for (const w of lag.windows) {
    console.log(
      `${pad(w.phase, 28)}${lpad(fmt(w.p50, 2), 9)}${lpad(fmt(w.p99, 2), 9)}${lpad(fmt(w.max, 2), 9)}${lpad(fmt(w.mean, 2), 9)}${lpad(fmt(w.cores, 2), 11)}${lpad(fmt(w.otherCores, 2), 8)}${lpad(String(w.jobs), 6)}`,
    );
  }
  console.log('(CPU cores: this process, all threads; others: the rest of the host over the same window)');
  const [idle, burn2, burn1, inlineBurn, backlogWorker, backlogInline] = lag.windows as [LagWindow, LagWindow, LagWindow, LagWindow, LagWindow, LagWindow];
  // "Near idle": the p99 stays within half a resolution step of the idle loop's.
  const lagMet = burn2.p99 <= idle.p99 + RESOLUTION_MS / 2;
  const noisiest = Math.max(over.otherCores ?? 0, ...lag.windows.map((w) => w.otherCores ?? 0));
  if (noisiest > 0.2) {
    console.log(`\nNOTE: other processes used up to ${r(noisiest, 2)} cores during the run: CPU-bound figures and the lag under load are pessimistic`);
  }
  console.log(
    `\nlag while ${THREADS} workers burn CPU: p99 ${fmt(burn2.p99, 2)} ms vs idle ${fmt(idle.p99, 2)} ms (near idle, within ${RESOLUTION_MS / 2} ms: ${lagMet ? 'YES' : 'NO'}); inline: p99 ${fmt(inlineBurn.p99, 1)} ms`,
  );

  writeResult('worker-pool', {
    host: { cpus: cores, loadAvg1mAtStart: loadBefore, loadAvg1mAtEnd: loadavg()[0] },
    config: { threads: THREADS, noopN: NOOP_N, cpuN: CPU_N, rounds: ROUNDS, cpuMs: CPU_MS, idleMs: IDLE_MS, burnMs: BURN_MS, burnJobMs: BURN_JOB_MS, cpus: cores },
    overhead: over,
    medians: cells,
    lag,
    target: { lagNearIdle: lagMet },
    noisiestOtherCores: noisiest,
  });

  const ratio = (a: number, b: number): string => `${r(a / b, a < b ? 2 : 1)}x`;
  const rows = [];
  for (const work of ['noop', 'cpu'] as Work[]) {
    const w = c('worker', work, 'serial');
    const i = c('inline-fn', work, 'serial');
    const label = work === 'noop' ? 'no-op' : `${CPU_MS} ms CPU`;
    rows.push({
      bench: 'worker-pool',
      metric: `per-job wall, ${label}, one at a time`,
      value: `${r(w.perJobMs, 3)} ms worker`,
      baseline: `${r(i.perJobMs, 3)} ms inline fn`,
      ratio: `${ratio(w.perJobMs, i.perJobMs)} (+${r(w.perJobMs - i.perJobMs, 3)} ms)`,
      target: '-',
      met: null,
    });
  }
  for (const work of ['cpu', 'noop'] as Work[]) {
    const w = c('worker', work, 'batch');
    const i = c('inline-fn', work, 'batch');
    rows.push({
      bench: 'worker-pool',
      metric: `jobs/s, ${work === 'noop' ? 'no-op' : `${CPU_MS} ms CPU`}, ${THREADS} threads`,
      value: `${r(w.jobsPerSec, 0)}/s`,
      baseline: work === 'cpu' ? `${r(i.jobsPerSec, 0)}/s inline; ${r((THREADS * 1000) / CPU_MS, 0)}/s ideal` : `${r(i.jobsPerSec, 0)}/s inline`,
      ratio: ratio(w.jobsPerSec, i.jobsPerSec),
      target: '-',
      met: null,
    });
  }
  rows.push({
    bench: 'worker-pool',
    metric: `event-loop delay p99, ${THREADS} workers burning CPU`,
    value: `${r(burn2.p99, 1)} ms (max ${r(burn2.max, 1)})`,
    baseline: `${r(idle.p99, 1)} ms idle`,
    ratio: `+${r(burn2.p99 - idle.p99, 1)} ms`,
    target: `<= idle + ${RESOLUTION_MS / 2} ms`,
    met: lagMet,
  });
  rows.push({
    bench: 'worker-pool',
    metric: 'event-loop delay p99, 1 worker / inline',
    value: `${r(burn1.p99, 1)} ms / ${r(inlineBurn.p99, 1)} ms`,
    baseline: `${r(idle.p99, 1)} ms idle`,
    ratio: '-',
    target: '-',
    met: null,
  });
  rows.push({
    bench: 'worker-pool',
    metric: `event-loop delay max, backlog of ${CPU_N} x ${CPU_MS} ms CPU jobs`,
    value: `${r(backlogWorker.max, 1)} ms workers`,
    baseline: `${r(backlogInline.max, 1)} ms inline`,
    ratio: '-',
    target: '-',
    met: null,
  });
  emitSummary(rows);
}

const child = arg('child');
if (child === 'overhead') await overheadChild();
else if (child === 'lag') await lagChild();
else await main();
