/**
 * Shared helpers of the benchmarks: an epoch clock with sub-millisecond resolution, percentiles,
 * medians, GC, result files and argument parsing. Benchmarks only: nothing here asserts timings.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `.bench-out/` at the package root (gitignored). */
export const OUT_DIR = join(fileURLToPath(new URL('..', import.meta.url)), '.bench-out');

/**
 * Map `performance.now()` onto the epoch with sub-millisecond resolution.
 *
 * `Date.now()` is the floor of the real time in ms, so the instant it ticks over is an exact integer
 * on the epoch scale. Spin until it changes and read `performance.now()` right then: the offset is
 * `Date.now() - performance.now()` at the edge, off by one spin iteration (well under 1 µs). The
 * largest of several samples is kept (a late observation can only make the offset smaller).
 * `performance.timeOrigin` is not used: it is captured once at start-up and can be off by a
 * fraction of a millisecond, which matters when lateness is itself ~1 ms.
 */
export function calibrateEpoch(samples = 7): number {
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < samples; i++) {
    const start = Date.now();
    let now = start;
    let p = 0;
    while (now === start) {
      p = performance.now();
      now = Date.now();
    }
    const p2 = performance.now();
    // The edge lies between p and p2; take p2 (conservative: lateness never looks smaller than it is).
    void p;
    best = Math.max(best, now - p2);
  }
  return best;
}

/** Epoch ms with sub-ms resolution, given an offset from {@link calibrateEpoch}. */
export function epochNow(offset: number): number {
  return performance.now() + offset;
}

/** Nearest-rank percentile of a sorted array (q in [0, 1]). */
export function pct(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Summary of a sample: count, min, p50, p90, p99, max, mean (sorts a copy). */
export interface Dist {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Distribution summary of the values. */
export function dist(values: ArrayLike<number>): Dist {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: pct(sorted, 0.5),
    p90: pct(sorted, 0.9),
    p99: pct(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** Median of a list of numbers. */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Full GC (twice, so weak/finalized garbage goes too); a no-op without `--expose-gc`. */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

/** Whether `--expose-gc` is on. */
export function hasGc(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}

/**
 * The scheduler's timers are `unref`'d (they never keep a process alive alone), so a benchmark
 * that waits for fires must hold the event loop open itself. Returns the release function.
 */
export function keepAlive(): () => void {
  const handle = setInterval(() => undefined, 1 << 30);
  return () => clearInterval(handle);
}

/** Sleep on a real timer. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Write `.bench-out/<name>.json` and return its path. */
export function writeResult(name: string, data: unknown): string {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, node: process.version, at: new Date().toISOString(), ...(data as object) }, null, 2));
  return file;
}

/** `--key value` / `--key=value` / `--flag` from argv. */
export function arg(name: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) {
      const next = argv[i + 1];
      return next === undefined || next.startsWith('--') ? 'true' : next;
    }
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/** Numeric argument with a default. */
export function numArg(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${v}`);
  return n;
}

/** Deterministic PRNG (mulberry32) so every run uses the same due times: the tests' own. */
export { seededRandom as prng } from '../test/helpers/random.js';

/** Round for display. */
export function r(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Print a banner line for a benchmark. */
export function banner(title: string): void {
  console.log(`\n── ${title} ${'─'.repeat(Math.max(0, 70 - title.length))}`);
}

/** The line `bench/run.ts` collects: `BENCH_SUMMARY {json}`. */
export interface SummaryRow {
  bench: string;
  metric: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean | null;
}

/** Emit summary rows for `bench/run.ts` to collect (one JSON line on stdout). */
export function emitSummary(rows: SummaryRow[]): void {
  console.log(`BENCH_SUMMARY ${JSON.stringify(rows)}`);
}
