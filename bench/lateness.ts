/**
 * Fire lateness: 10,000 one-shot `at` triggers due at random whole milliseconds spread uniformly
 * over 10 s, memory backend, no-op handlers, real system clock, default scheduler options
 * (concurrency 10, pollIntervalMs 1000, lookaheadMs 5000). All triggers are added before `start()`;
 * the poll loads each slot into the heap 4-5 s before it is due.
 *
 * lateness = handler start (performance.now() mapped to the epoch, sub-ms) − job.scheduledFor.
 * An early fire (Date.now() at handler start < scheduledFor) is a bug and is reported loudly.
 *
 * Baseline, same process, same due times: a bare loop with a min-heap of due times (the engine's
 * BinaryHeap) and one setTimeout re-armed on the head, firing every head with Date.now() >= due —
 * the engine's timer discipline without store, claim, job record or events.
 *
 *   npx tsx bench/lateness.ts [--n 10000] [--spread 10000] [--repeats 1]
 */
import { Scheduler, type TriggerStore } from './pkg.js';
import { BinaryHeap } from '../src/queue/binary-heap.js';
import {
  banner,
  calibrateEpoch,
  dist,
  emitSummary,
  epochNow,
  gc,
  keepAlive,
  median,
  numArg,
  prng,
  r,
  sleep,
  writeResult,
  type Dist,
} from './lib.js';

const N = numArg('n', 10_000);
const SPREAD_MS = numArg('spread', 10_000);
const REPEATS = numArg('repeats', 1);
const LEAD_MS = numArg('lead', 1500);

interface Sample {
  late: Float64Array;
  early: number;
  earliestMs: number;
}

function dueTimes(start: number, seed: number): number[] {
  const rand = prng(seed);
  const out: number[] = [];
  for (let i = 0; i < N; i++) out.push(start + Math.floor(rand() * SPREAD_MS));
  return out;
}

/** The baseline: one heap of due times, one timer re-armed on its head. */
function runBaseline(dues: number[], offset: number): Promise<Sample> {
  const heap = new BinaryHeap<{ at: number; i: number }>((a, b) => a.at - b.at || a.i - b.i);
  dues.forEach((at, i) => heap.push({ at, i }));
  const late = new Float64Array(dues.length);
  let k = 0;
  let early = 0;
  let earliestMs = Number.POSITIVE_INFINITY;
  const noop = (_i: number): void => undefined;
  return new Promise((resolve) => {
    const onTimer = (): void => {
      const now = Date.now();
      for (let head = heap.peek(); head && head.at <= now; head = heap.peek()) {
        heap.pop();
        const t = epochNow(offset);
        const wall = Date.now();
        if (wall < head.at) early++;
        late[k++] = t - head.at;
        earliestMs = Math.min(earliestMs, t - head.at);
        noop(head.i);
      }
      if (k === dues.length) resolve({ late, early, earliestMs });
      else arm();
    };
    const arm = (): void => {
      const head = heap.peek()!;
      setTimeout(onTimer, Math.max(0, head.at - Date.now()));
    };
    arm();
  });
}

/** The scheduler: one `at` trigger per due time, added before start. */
async function runScheduler(dues: number[], offset: number, triggerStore?: TriggerStore): Promise<Sample & { addMs: number }> {
  const scheduler = new Scheduler(triggerStore ? { triggerStore } : {});
  const late = new Float64Array(dues.length);
  let k = 0;
  let early = 0;
  let earliestMs = Number.POSITIVE_INFINITY;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  scheduler.register('noop', async (ctx) => {
    const t = epochNow(offset);
    const wall = Date.now();
    const due = ctx.job.scheduledFor.getTime();
    if (wall < due) {
      early++;
      console.error(`!!! EARLY FIRE: job ${ctx.job.id} started at ${wall} before its slot ${due}`);
    }
    const lateness = t - due;
    late[k++] = lateness;
    if (lateness < earliestMs) earliestMs = lateness;
    if (k === dues.length) resolveDone();
  });
  let errors = 0;
  scheduler.on('error', (e) => {
    errors++;
    if (errors < 5) console.error('scheduler error:', e.message);
  });
  const t0 = performance.now();
  for (let i = 0; i < dues.length; i++) {
    await scheduler.addTrigger({ id: `late-${i}`, handler: 'noop', schedule: { at: new Date(dues[i]!) } });
  }
  const addMs = performance.now() - t0;
  await scheduler.start();
  await done;
  await scheduler.stop();
  return { late, early, earliestMs, addMs };
}

function show(label: string, d: Dist, early: number): void {
  console.log(
    `${label.padEnd(22)} p50 ${r(d.p50, 3).toFixed(3).padStart(8)} ms  p90 ${r(d.p90, 3).toFixed(3).padStart(8)}  p99 ${r(d.p99, 3).toFixed(3).padStart(8)}  max ${r(d.max, 2).toFixed(2).padStart(8)}  min ${r(d.min, 3).toFixed(3).padStart(7)}  early ${early}`,
  );
}

async function main(): Promise<void> {
  banner(`lateness: ${N} one-shot slots over ${SPREAD_MS / 1000} s, memory backend, no-op handlers`);
  const release = keepAlive();
  const runs: Array<{
    repeat: number;
    baseline: Dist;
    scheduler: Dist;
    baselineEarly: number;
    schedulerEarly: number;
    schedulerMinMs: number;
    addMs: number;
  }> = [];
  for (let rep = 0; rep < REPEATS; rep++) {
    const offset = calibrateEpoch();
    // Baseline first, then the scheduler, each with a fresh copy of the same due-time pattern.
    gc();
    const baseDues = dueTimes(Date.now() + LEAD_MS, 42 + rep);
    const base = await runBaseline(baseDues, offset);
    await sleep(200);
    gc();
    const offset2 = calibrateEpoch();
    // Adding 10,000 triggers takes ~0.2 s; leave room so every slot is still in the future.
    const schedDues = dueTimes(Date.now() + LEAD_MS + 500, 42 + rep);
    const sched = await runScheduler(schedDues, offset2);
    const bd = dist(base.late);
    const sd = dist(sched.late);
    show(`baseline (rep ${rep + 1})`, bd, base.early);
    show(`scheduler (rep ${rep + 1})`, sd, sched.early);
    console.log(`  (adding ${N} triggers took ${r(sched.addMs, 0)} ms before start)`);
    runs.push({
      repeat: rep + 1,
      baseline: bd,
      scheduler: sd,
      baselineEarly: base.early,
      schedulerEarly: sched.early,
      schedulerMinMs: sched.earliestMs,
      addMs: sched.addMs,
    });
  }
  release();
  const baseP50 = median(runs.map((x) => x.baseline.p50));
  const baseP99 = median(runs.map((x) => x.baseline.p99));
  const schedP50 = median(runs.map((x) => x.scheduler.p50));
  const schedP99 = median(runs.map((x) => x.scheduler.p99));
  const schedMax = Math.max(...runs.map((x) => x.scheduler.max));
  const early = runs.reduce((a, x) => a + x.schedulerEarly, 0);
  const met = schedP99 - baseP99 <= 2;
  if (early > 0) console.error(`\n!!! ${early} EARLY FIRES: a job started before its slot. This is a bug.`);
  console.log(
    `\nscheduler p99 ${r(schedP99, 3)} ms vs baseline p99 ${r(baseP99, 3)} ms: +${r(schedP99 - baseP99, 3)} ms (target <= +2 ms: ${met ? 'MET' : 'MISSED'})`,
  );
  writeResult('lateness', {
    config: { n: N, spreadMs: SPREAD_MS, repeats: REPEATS, options: 'defaults (concurrency 10, pollIntervalMs 1000, lookaheadMs 5000)' },
    runs,
    median: { baselineP50: baseP50, baselineP99: baseP99, schedulerP50: schedP50, schedulerP99: schedP99, schedulerMax: schedMax },
    earlyFires: early,
    target: { p99OverBaselineMs: 2, met },
  });
  const rows = [
    {
      bench: 'lateness',
      metric: `p50 lateness (${N} slots / ${SPREAD_MS / 1000} s)`,
      value: `${r(schedP50, 3)} ms`,
      baseline: `${r(baseP50, 3)} ms`,
      ratio: `${r(schedP50 / baseP50, 2)}x`,
      target: '-',
      met: null,
    },
    {
      bench: 'lateness',
      metric: 'p99 lateness',
      value: `${r(schedP99, 3)} ms`,
      baseline: `${r(baseP99, 3)} ms`,
      ratio: `${r(schedP99 / baseP99, 2)}x (+${r(schedP99 - baseP99, 2)} ms)`,
      target: '<= baseline + 2 ms',
      met,
    },
    { bench: 'lateness', metric: 'max lateness', value: `${r(schedMax, 2)} ms`, baseline: `${r(Math.max(...runs.map((x) => x.baseline.max)), 2)} ms`, ratio: '-', target: '-', met: null },
    { bench: 'lateness', metric: 'early fires', value: String(early), baseline: String(runs.reduce((a, x) => a + x.baselineEarly, 0)), ratio: '-', target: '0', met: early === 0 },
  ];
  emitSummary(rows);
}

await main();
