/**
 * The core benchmarks, in the order `npm run bench` runs them. One list for bench/run.ts and
 * bench/compare.ts, so that a comparison runs what the summary table reports, with the same
 * arguments and time limits.
 */

export interface BenchSpec {
  /** `bench/<name>.ts`, and the `bench` field of its summary rows. */
  name: string;
  /** Arguments that shape the measurement (the same for every run). */
  args: string[];
  /**
   * Arguments for diagnostics only (`--profile`: one extra, uncounted run under the profiler).
   * bench/compare.ts leaves them out: they change no figure and cost a process per run.
   */
  diagnosticArgs?: string[];
  /** Kill the child after this long (default 5). */
  timeoutMinutes?: number;
  /** Why the benchmark cannot run here, or null when it can. */
  skip?: () => string | null;
}

export const BENCHES: BenchSpec[] = [
  { name: 'lateness', args: [] },
  { name: 'throughput', args: [], diagnosticArgs: ['--profile'] },
  { name: 'cron-herd', args: [] },
  { name: 'memory', args: [] },
  { name: 'scale', args: [] },
  { name: 'worker-pool', args: [] },
  {
    name: 'mongo',
    args: [],
    // About 6 minutes; a slow or busy server stops starting phases after 12 (BENCH_MONGO_BUDGET_S).
    timeoutMinutes: 15,
    skip: () => (process.env['MONGODB_URI']?.trim() ? null : 'MONGODB_URI is not set (e.g. eval "$(bash .ci/ferretdb.sh start)")'),
  },
];
