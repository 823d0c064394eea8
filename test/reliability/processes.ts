/**
 * Starting and watching scheduler worker processes (`worker-process.ts`) from a test.
 *
 * Every process started here is remembered until it exits, and `killAllWorkers()` (call it from
 * `afterAll`/`afterEach`) SIGKILLs whatever is left. The workers also exit by themselves when the
 * test process dies (their stdin closes), so no scheduler outlives a test run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (where `tsx` resolves from). */
export const REPO_ROOT = resolve(here, '../..');
const WORKER_SCRIPT = resolve(here, 'worker-process.ts');

/** Options of `startWorker`. */
export interface WorkerOptions {
  uri: string;
  dbName: string;
  instanceId: string;
  handler?: string;
  pollMs?: number;
  lookaheadMs?: number;
  leaseMs?: number;
  concurrency?: number;
  workMinMs?: number;
  workMaxMs?: number;
  serverSelectionMs?: number;
  /** Print `status` lines this often (kept in `lines`). */
  statusEveryMs?: number;
  /** Print scheduler log lines at this level and above (kept in `lines`). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Report store calls slower than this (kept in `lines`). */
  traceSlowMs?: number;
  /** Print the driver's server monitoring events (kept in `lines`). */
  driverEvents?: boolean;
  /** Driver `connectTimeoutMS` (default: the driver's). */
  connectTimeoutMs?: number;
  /** Scheduler `leadMs` (default: the scheduler's). */
  leadMs?: number;
  /** Fixed job duration (overrides workMinMs/workMaxMs). */
  workMs?: number;
  /** The handler writes a row to the `runs` collection before it waits. */
  recordRuns?: boolean;
  /** The handler sleeps its whole time, ignoring its signal. */
  ignoreSignal?: boolean;
  /** Time lease renewals (`renew` lines, collected in `renewMs`). */
  traceRenew?: boolean;
  /** Print every counted store call (`call` lines). */
  traceCalls?: boolean;
  /** SIGKILL itself at this store call (see worker-process.ts: KILL_AT_CALL, KILL_WHEN, KILL_ON_METHOD). */
  kill?: KillPoint;
}

/** Where a worker SIGKILLs itself: the n-th store call (of `method`, or of all), before it is issued or after its answer. */
export interface KillPoint {
  atCall: number;
  when: 'before' | 'after';
  /** `triggerStore.claimSlot`, `jobStore.insertMany`, ...; all calls when absent. */
  method?: string;
}

/** An `error <code> <message>` line and when it arrived. */
export interface WorkerError {
  at: number;
  code: string;
  message: string;
}

/** A running worker process. */
export interface WorkerHandle {
  instanceId: string;
  child: ChildProcess;
  pid: number;
  errors: WorkerError[];
  leaseLost: string[];
  /** The last stdout lines (at most 500), with their arrival time. */
  lines: string[];
  /** Lease renewal round trips in ms (`renew` lines; only with `traceRenew`). */
  renewMs: number[];
  /** The `kill-point` line's words (`<n> <store.method> <before|after>`) once the worker killed itself. */
  killPoint: string | null;
  /** When this handle saw the process exit (ms since epoch), or null. */
  exitedAt: number | null;
  /** stderr, kept for failure messages. */
  stderr(): string;
  /** Resolves on `ready`; rejects on `fatal`, early exit or timeout. */
  ready: Promise<void>;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  exited: Promise<number | string>;
  alive(): boolean;
  /** SIGTERM, then wait for the exit (SIGKILL after `timeoutMs`). Resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | string>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<number | string>;
}

const live = new Set<WorkerHandle>();

/** Start one worker process. Wait for `handle.ready` before relying on it. */
export function startWorker(options: WorkerOptions, readyTimeoutMs = 30_000): WorkerHandle {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    MONGODB_URI: options.uri,
    DB_NAME: options.dbName,
    INSTANCE_ID: options.instanceId,
    HANDLER: options.handler ?? 'reliability.work',
    POLL_MS: String(options.pollMs ?? 150),
    LOOKAHEAD_MS: String(options.lookaheadMs ?? 1000),
    LEASE_MS: String(options.leaseMs ?? 1500),
    CONCURRENCY: String(options.concurrency ?? 4),
    WORK_MIN_MS: String(options.workMinMs ?? 250),
    WORK_MAX_MS: String(options.workMaxMs ?? 400),
    SERVER_SELECTION_MS: String(options.serverSelectionMs ?? 2000),
    STATUS_EVERY_MS: String(options.statusEveryMs ?? 0),
    LOG_LEVEL: options.logLevel ?? 'none',
    TRACE_SLOW_MS: String(options.traceSlowMs ?? 0),
    DRIVER_EVENTS: options.driverEvents ? '1' : '0',
    CONNECT_TIMEOUT_MS: String(options.connectTimeoutMs ?? 0),
    LEAD_MS: options.leadMs === undefined ? '' : String(options.leadMs),
    WORK_MS: options.workMs === undefined ? '' : String(options.workMs),
    RECORD_RUNS: options.recordRuns ? '1' : '0',
    IGNORE_SIGNAL: options.ignoreSignal ? '1' : '0',
    TRACE_RENEW: options.traceRenew ? '1' : '0',
    TRACE_CALLS: options.traceCalls ? '1' : '0',
    KILL_AT_CALL: String(options.kill?.atCall ?? 0),
    KILL_WHEN: options.kill?.when ?? 'before',
    KILL_ON_METHOD: options.kill?.method ?? '',
  };
  // Not inherited from a vitest worker: would make the child think it runs under vitest.
  delete childEnv['VITEST'];
  delete childEnv['VITEST_WORKER_ID'];
  delete childEnv['VITEST_POOL_ID'];

  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
    cwd: REPO_ROOT,
    env: childEnv,
    // stdin is a pipe the child watches: when this process dies, the pipe closes and the child exits.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start worker process ${options.instanceId}`);

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });

  let exitValue: number | string | null = null;
  const exited = new Promise<number | string>((resolveExit) => {
    child.once('exit', (code, signal) => {
      handle.exitedAt = Date.now();
      exitValue = code ?? signal ?? 'unknown';
      resolveExit(exitValue);
    });
  });

  const handle: WorkerHandle = {
    instanceId: options.instanceId,
    child,
    pid: child.pid,
    errors: [],
    leaseLost: [],
    lines: [],
    renewMs: [],
    killPoint: null,
    exitedAt: null,
    stderr: () => stderr,
    ready: Promise.resolve(),
    exited,
    alive: () => exitValue === null,
    stop: async (timeoutMs = 10_000) => {
      if (exitValue !== null) return exitValue;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    kill: async () => {
      if (exitValue !== null) return exitValue;
      child.kill('SIGKILL');
      return exited;
    },
  };
  live.add(handle);
  void exited.then(() => live.delete(handle));

  handle.ready = new Promise<void>((resolveReady, rejectReady) => {
    const timer = setTimeout(
      () => rejectReady(new Error(`worker ${options.instanceId} not ready after ${readyTimeoutMs} ms; stderr:\n${stderr}`)),
      readyTimeoutMs,
    );
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const [kind = '', ...rest] = line.split(' ');
      // Renewal timings are many and kept apart; everything else is kept for failure messages.
      if (kind !== 'renew') {
        handle.lines.push(`${new Date().toISOString()} ${line}`);
        if (handle.lines.length > 500) handle.lines.shift();
      }
      if (kind === 'ready') {
        clearTimeout(timer);
        resolveReady();
      } else if (kind === 'error') {
        const [code = 'UNKNOWN', ...words] = rest;
        handle.errors.push({ at: Date.now(), code, message: words.join(' ') });
      } else if (kind === 'renew') {
        const ms = Number(rest[0]);
        if (Number.isFinite(ms)) handle.renewMs.push(ms);
      } else if (kind === 'kill-point') {
        handle.killPoint = rest.join(' ');
      } else if (kind === 'lease-lost') {
        handle.leaseLost.push(rest.join(' '));
      } else if (kind === 'fatal') {
        clearTimeout(timer);
        rejectReady(new Error(`worker ${options.instanceId} failed: ${rest.join(' ')}\nstderr:\n${stderr}`));
      }
    });
    void exited.then((value) => {
      clearTimeout(timer);
      rejectReady(new Error(`worker ${options.instanceId} exited (${value}) before it was ready; stderr:\n${stderr}`));
    });
  });
  // Avoid an unhandled rejection when nobody awaits `ready` after an early exit.
  handle.ready.catch(() => undefined);
  return handle;
}

/** SIGKILL every worker process still alive and wait until they are gone; `true` if there was any. */
export async function killAllWorkers(): Promise<boolean> {
  const handles = [...live];
  await Promise.all(handles.map((handle) => handle.kill()));
  return handles.length > 0;
}

/** Wait until `predicate` holds (polled every `everyMs`), or throw `message()` after `timeoutMs`. */
export async function waitFor(
  predicate: () => Promise<boolean> | boolean,
  timeoutMs: number,
  message: () => string | Promise<string>,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) throw new Error(await message());
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

/**
 * Register the teardown every multi-process test file needs, and return the list its tests push
 * their own clean-ups onto (run newest first after each test). Workers go first: after a SIGKILL
 * the server may still be executing the dead worker's last request, and FerretDB v1.24 can crash
 * (SIGBUS in SQLite's WAL) when a database is dropped under a running request, so those requests
 * get a moment to drain first. After all tests: any worker left, and the shared server.
 */
export function useWorkerTeardown(hooks: {
  afterEach: (fn: () => Promise<void>) => void;
  afterAll: (fn: () => Promise<void>) => void;
  stopSharedMongo: () => Promise<void>;
}): Array<() => Promise<unknown>> {
  const cleanups: Array<() => Promise<unknown>> = [];
  hooks.afterEach(async () => {
    if (await killAllWorkers()) await delay(3000);
    while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
  });
  hooks.afterAll(async () => {
    await killAllWorkers();
    await hooks.stopSharedMongo();
  });
  return cleanups;
}
