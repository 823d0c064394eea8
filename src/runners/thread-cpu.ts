/**
 * CPU time of the calling thread, for per-job metrics measured inside a worker thread.
 *
 * `process.cpuUsage()` is process-wide even inside a worker thread: with two busy threads, a job
 * that burns 300 ms reports about 600 ms. Node 20 has no per-thread API (`process.threadCpuUsage`
 * arrived in Node 23.9), so this picks, once per thread, the most truthful source available:
 *
 * 1. `process.threadCpuUsage()` when the runtime has it.
 * 2. On Linux, `/proc/thread-self/schedstat` (nanosecond on-CPU time of this thread) split into
 *    user and system in the ratio of the tick counters in `/proc/thread-self/stat`. That is the
 *    method the kernel uses for `getrusage(RUSAGE_THREAD)` (`cputime_adjust`, the call behind
 *    `process.threadCpuUsage`), applied here to the job's interval instead of the thread's life.
 * 3. `process.cpuUsage()`, flagged with scope `process` so callers can say so.
 *
 * This module has no runtime imports from the rest of the package: it is bundled into the worker.
 */
import { readFileSync } from 'node:fs';

/** User and system CPU time of an interval, in milliseconds. */
export interface CpuTime {
  /** Time in user mode. */
  userMs: number;
  /** Time in system mode. */
  systemMs: number;
}

/** A source of CPU time for the current thread (or the process, as a fallback). */
export interface CpuMeter {
  /** Whether figures cover this thread only, or the whole process. */
  readonly scope: 'thread' | 'process';
  /** Start measuring; the returned function gives the CPU time spent since. */
  start(): () => CpuTime;
}

/** Kernel ABI constant: `/proc` tick counters are in USER_HZ, fixed at 100 on Linux. */
const USER_HZ = 100;

interface ProcSample {
  /** On-CPU nanoseconds from schedstat, or null when schedstat is unavailable. */
  runNs: number | null;
  /** User-mode ticks. */
  utime: number;
  /** System-mode ticks. */
  stime: number;
}

function readProcSample(): ProcSample {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  // What follows starts at field 3 (state), so utime (field 14) and stime (field 15) are 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unexpected /proc/thread-self/stat format');
  let runNs: number | null = null;
  try {
    const first = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0];
    const value = Number(first);
    if (Number.isFinite(value)) runNs = value;
  } catch {
    // Kernels built without CONFIG_SCHED_INFO have no schedstat; tick counters still work.
  }
  return { runNs, utime, stime };
}

function procMeter(): CpuMeter {
  return {
    scope: 'thread',
    start() {
      const before = readProcSample();
      return () => {
        const after = readProcSample();
        const userTicks = Math.max(0, after.utime - before.utime);
        const systemTicks = Math.max(0, after.stime - before.stime);
        if (after.runNs === null || before.runNs === null) {
          return { userMs: (userTicks * 1000) / USER_HZ, systemMs: (systemTicks * 1000) / USER_HZ };
        }
        const totalMs = Math.max(0, after.runNs - before.runNs) / 1e6;
        const ticks = userTicks + systemTicks;
        // No tick landed in the interval (it was shorter than 10 ms of CPU): the kernel attributes
        // everything to user time in that case, and so do we.
        if (ticks === 0) return { userMs: totalMs, systemMs: 0 };
        const userMs = (totalMs * userTicks) / ticks;
        // Clamped: with no system ticks, float rounding can leave -1e-14 instead of 0.
        return { userMs, systemMs: Math.max(0, totalMs - userMs) };
      };
    },
  };
}

type ThreadCpuUsage = (previous?: NodeJS.CpuUsage) => NodeJS.CpuUsage;

function usageMeter(read: ThreadCpuUsage, scope: 'thread' | 'process'): CpuMeter {
  return {
    scope,
    start() {
      const before = read();
      return () => {
        const delta = read(before);
        return { userMs: delta.user / 1000, systemMs: delta.system / 1000 };
      };
    },
  };
}

/** Pick the best CPU source for the calling thread. Call once per thread and keep the result. */
export function createCpuMeter(): CpuMeter {
  const threadCpuUsage = (process as NodeJS.Process & { threadCpuUsage?: ThreadCpuUsage }).threadCpuUsage;
  if (typeof threadCpuUsage === 'function') return usageMeter(threadCpuUsage.bind(process), 'thread');
  if (process.platform === 'linux') {
    try {
      readProcSample();
      return procMeter();
    } catch {
      // /proc not mounted (some sandboxes) or an unexpected format: use the process-wide figure.
    }
  }
  return usageMeter(process.cpuUsage.bind(process), 'process');
}
