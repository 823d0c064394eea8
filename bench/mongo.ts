/**
 * The MongoDB backend under load, with Agenda on the same server in the same run as the baseline.
 * Needs a server: `MONGODB_URI` (`npm run bench` skips this benchmark without it). Results and
 * method: docs/performance.md, "MongoDB backend" and "Per job, not per batch". About 6 minutes.
 *
 * Phases (`BENCH_MONGO_PHASES`, default `rt,floor,saturation,concurrent,light`; `throughput` adds
 * the older fixed-load runs):
 *  rt          Round trips per fired job. One instance, R `every` triggers that all fire at the same
 *              instant every `--rt-period` ms, a no-op handler, leases long enough that no renewal
 *              falls in the window. The driver's command monitoring (`monitorCommands`) counts every
 *              command started in a window whose edges wait for a quiet moment (no fire-path store
 *              call in progress), so each job in it is counted whole; every command is attributed to
 *              the store method that issued it (AsyncLocalStorage around proxied stores). The poll's
 *              periodic queries are reported apart: commands per fired job = (all − poll) / jobs.
 *  floor       The server's own unbatched floor: bare driver calls doing claim + insert + end, F
 *              chains in parallel, no scheduler (with the server's CPU per chain); then the same
 *              calls on documents shaped as the scheduler's (every field, same sizes), with as many
 *              triggers as the top saturation phase, counted over its window after its warm-up, so
 *              that the collections an update scans on FerretDB have the sizes they have for ours;
 *              and that shaped floor from 1 and from 4 processes at once (chains and triggers
 *              divided among them, one database): what more processes cost the host by themselves.
 *  saturation  Offered `BENCH_MONGO_SATURATE` (120,600) jobs/s on `BENCH_MONGO_SAT_INSTANCES` (1,4)
 *              instances (separate processes, one database): that many `every: 1 s` triggers with
 *              phases spread over the second, no-op handlers; ours and Agenda alternating. Over a
 *              window (after a warm-up) each process counts completions, lateness (handler start −
 *              scheduled time, sub-ms epoch clock from bench/lib.ts), driver commands (polls
 *              included) and its CPU; the parent reads the server's CPU (bench/server-cpu.ts).
 *              jobs/s = completions in the window, duplicate runs of a slot removed, / window.
 *              Agenda's scheduled time comes from its lock query (mongo-agenda.ts).
 *  concurrent  N one-shot jobs due at one instant, handlers sleeping 12 s without looking at their
 *              signal, 3 instance processes (bench/mongo-concurrent.ts): N = 1,200 with `leaseMs`
 *              5000 and 5,000 with the default lease.
 *  light       Light-load lateness (1 instance each, 5 jobs/s, which both keep up with).
 *  throughput  (opt-in) K triggers per instance on 1, 2, 4 instances (`--instances`).
 *
 * Every phase has a deadline and drops its database. Prints a compact table, writes
 * `.bench-out/mongo.json` (and `BENCH_MONGO_OUT` when set, to keep runs apart) and `BENCH_SUMMARY`
 * for bench/run.ts. Nothing asserts timings.
 *
 * Settings: a `--flag value` on the command line, else the environment variable, else the default.
 *   BENCH_MONGO_PHASES            rt,floor,saturation,concurrent,light
 *   BENCH_MONGO_AGENDA            1 (0: ours only)
 *   BENCH_MONGO_WINDOW_MS         --window        5000   saturation/throughput window
 *   BENCH_MONGO_WARMUP_MS         --warmup        2000   before each window
 *   BENCH_MONGO_CONCURRENCY       --concurrency   100    per instance, ours and Agenda (saturation, light)
 *   BENCH_MONGO_SATURATE          --saturate      120,600  offered jobs/s
 *   BENCH_MONGO_SAT_INSTANCES     --sat-instances 1,4
 *   BENCH_MONGO_FLOOR_MS          --floor-ms      3000
 *   BENCH_MONGO_FLOOR_WORKERS     --floor-workers 8
 *   BENCH_MONGO_RT_WINDOW_MS      --rt-window     5000
 *   BENCH_MONGO_CONC_JOBS         --conc-jobs     1200,5000
 *   BENCH_MONGO_CONC_LEASE_MS     --conc-lease    5000,default  one per size
 *   BENCH_MONGO_CONC_WORK_MS      --conc-work     12000
 *   BENCH_MONGO_CONC_DEADLINE_MS  --conc-deadline 30000  after the slot, finished or not
 *   BENCH_MONGO_CONC_INSTANCES    --conc-instances 3
 *   BENCH_MONGO_CONC_MAX_POOL     40     driver maxPoolSize per concurrent-phase process (0: driver default)
 *   BENCH_MONGO_CONC_FLOOR        1      before each size, the server's floor for it (bare calls; 0: none)
 *   BENCH_MONGO_LIGHT             --light         5      jobs/s
 *   BENCH_MONGO_LIGHT_WINDOW_MS   --light-window  10000
 *   BENCH_MONGO_BUDGET_S          --budget        720    no phase starts after this (s)
 *   --instances 1,2,4 --per-instance 30 --period 1000 --agenda-process-every 1000
 *   (the server's CPU: FERRETDB_STATE_FILE / POSTGRES_STATE_FILE / MONGODB_SERVER_PID, or found by
 *   port on this host; "n/a" when the server is elsewhere)
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { MongoClient, type Db } from 'mongodb';
import { createMongoBackend, Scheduler } from './pkg.js';
import { report, resultOf, runNode, startNode } from './child.js';
import { arg, banner, calibrateEpoch, emitSummary, epochNow, keepAlive, numArg, r, sleep, writeResult, type SummaryRow } from './lib.js';
import { agendaInstance, setupAgendaJobs, type AgendaTuning } from './mongo-agenda.js';
import { concurrentRun, showConcurrent, type ConcurrentResult } from './mongo-concurrent.js';
import {
  CommandCounter,
  describeServer,
  instrument,
  latenessSummary,
  perJob,
  serverInfo,
  serverFloor,
  concurrentFloor,
  type ConcurrentFloor,
  sumCounts,
  until,
  emptyResult,
  timelineFromParent,
  type InstanceResult,
  type ServerInfo,
  type StoreProbe,
  type Timeline,
} from './mongo-lib.js';
import { ServerCpu, type ServerCpuSample } from './server-cpu.js';

const URI = process.env['MONGODB_URI']?.trim() ?? '';

/** `--flag value`, else the environment variable, else the default. */
function setting(flag: string, env: string, fallback: string): string {
  return arg(flag) ?? (process.env[env]?.trim() || fallback);
}
function numSetting(flag: string, env: string, fallback: number): number {
  const v = setting(flag, env, String(fallback));
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${flag} / ${env} must be a number, got ${v}`);
  return n;
}
function listSetting(flag: string, env: string, fallback: string): string[] {
  return setting(flag, env, fallback)
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

const PHASES = new Set(listSetting('phases', 'BENCH_MONGO_PHASES', 'rt,floor,saturation,concurrent,light'));
const WITH_AGENDA = arg('no-agenda') === undefined && setting('agenda', 'BENCH_MONGO_AGENDA', '1') !== '0';
const PER_INSTANCE = numArg('per-instance', 30);
const PERIOD = numArg('period', 1000);
const WINDOW = numSetting('window', 'BENCH_MONGO_WINDOW_MS', 5000);
const WARMUP = numSetting('warmup', 'BENCH_MONGO_WARMUP_MS', 2000);
const CONCURRENCY = numSetting('concurrency', 'BENCH_MONGO_CONCURRENCY', 100);
const LIGHT = numSetting('light', 'BENCH_MONGO_LIGHT', 5);
const SATURATE = listSetting('saturate', 'BENCH_MONGO_SATURATE', '120,600').map(Number);
const SAT_INSTANCES = listSetting('sat-instances', 'BENCH_MONGO_SAT_INSTANCES', '1,4').map(Number);
const LIGHT_WINDOW = numSetting('light-window', 'BENCH_MONGO_LIGHT_WINDOW_MS', 10_000);
const INSTANCES = (arg('instances') ?? '1,2,4').split(',').map(Number);
const RT_TRIGGERS = numArg('rt-triggers', 5);
const FLOOR_MS = numSetting('floor-ms', 'BENCH_MONGO_FLOOR_MS', 3000);
const FLOOR_WORKERS = numSetting('floor-workers', 'BENCH_MONGO_FLOOR_WORKERS', 8);
const RT_PERIOD = numArg('rt-period', 1000);
const RT_WINDOW = numSetting('rt-window', 'BENCH_MONGO_RT_WINDOW_MS', 5000);
const CONC_JOBS = listSetting('conc-jobs', 'BENCH_MONGO_CONC_JOBS', '1200,5000').map(Number);
const CONC_LEASE = listSetting('conc-lease', 'BENCH_MONGO_CONC_LEASE_MS', '5000,default');
const CONC_WORK = numSetting('conc-work', 'BENCH_MONGO_CONC_WORK_MS', 12_000);
const CONC_DEADLINE = numSetting('conc-deadline', 'BENCH_MONGO_CONC_DEADLINE_MS', 30_000);
// bench/benches.ts kills the benchmark after 15 minutes: past this, no new phase starts.
const BUDGET_S = numSetting('budget', 'BENCH_MONGO_BUDGET_S', 720);
const CONC_FLOOR = process.env['BENCH_MONGO_CONC_FLOOR'] !== '0';
const CONC_INSTANCES = numSetting('conc-instances', 'BENCH_MONGO_CONC_INSTANCES', 3);
/** How long the instance processes of a run may take to boot. */
const BOOT_TIMEOUT = 60_000;
const AGENDA: AgendaTuning = { processEveryMs: numArg('agenda-process-every', PERIOD), concurrency: CONCURRENCY };
for (const [name, list] of [['BENCH_MONGO_SATURATE', SATURATE], ['BENCH_MONGO_SAT_INSTANCES', SAT_INSTANCES], ['BENCH_MONGO_CONC_JOBS', CONC_JOBS]] as const) {
  if (list.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`${name} must list positive integers, got ${list.join(',')}`);
}
for (const lease of CONC_LEASE) {
  if (lease !== 'default' && !(Number(lease) > 0)) throw new Error(`BENCH_MONGO_CONC_LEASE_MS must list lease ms or "default", got ${lease}`);
}

// Targets of issue 17 (benchmarks, not timed tests; reported, never asserted).
const TARGET_RT = 3;
const TARGET_FLOOR_RATIO = 0.9;
const TARGET_SCALE_RATIO = 1;
const TARGET_AGENDA_PEAK_RATIO = 2;
const TARGET_COMMANDS = 1.5;
const TARGET_LIGHT_P99 = 25;
const TARGET_CONC_LAST_MS = 16_000;

/** Store methods the poll calls (every poll, or every leaseMs/3 for maintenance). */
const POLL_METHODS = new Set([
  'triggerStore.findDue',
  'triggerStore.dependencyEdges',
  'jobStore.gatedTriggerIds',
  'jobStore.nextPendingAt',
  'jobStore.measureClockOffset',
  'jobStore.findExpiredLeases',
  'jobStore.findUnfiredDependents',
  'jobStore.purge',
  'lockManager.acquire',
  'lockManager.release',
  // Membership: renewed and read once per poll (the round-trip run uses no concurrency permits,
  // the only other user of renew).
  'lockManager.renew',
  'lockManager.holders',
]);

/** `promise`, or an error naming `what` once `ms` have passed. */
async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The server's CPU, when it runs on this host (set by main). */
let serverCpu: ServerCpu | null = null;

/** Databases this run created (dropped at the end, whatever happened). */
const createdDbs = new Set<string>();

function dbName(label: string): string {
  const name = `bench_mongo_${label}_${randomBytes(3).toString('hex')}`;
  createdDbs.add(name);
  return name;
}

// ─── 1. Round trips per fired job ──────────────────────────────────────────────────────────────

interface RoundTripResult {
  jobsFired: number;
  jobsSucceeded: number;
  claims: number;
  polls: number;
  windowMs: number;
  commandsTotal: number;
  byCommand: Record<string, number>;
  byMethod: Record<string, Record<string, number>>;
  calls: Record<string, number>;
  pollCommands: number;
  pollByCommand: Record<string, number>;
  fireCommands: number;
  fireByCommand: Record<string, number>;
  fireByMethod: Record<string, number>;
  perJobTotal: number;
  perJobFire: number;
  /** Both window edges fell at a quiet moment (no job in flight): the counts are exact. */
  exactEdges: boolean;
  /** Slot claims in the window that returned null (one instance: nobody else could win them). */
  lostClaims: Array<{ trigger: string; slot: number; version: number; alreadyWon: boolean }>;
  /** Slots this one instance sent more than one claim for (it fired the same slot twice). */
  slotsClaimedTwice: number;
  errors: string[];
}

/** Wait from `notBefore` until no tracked store call is in progress (at most 3 s). */
async function quiet(probe: StoreProbe, notBefore: number): Promise<{ at: number; quiet: boolean }> {
  await until(notBefore);
  const deadline = Date.now() + 3000;
  while (probe.active > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
  return { at: Date.now(), quiet: probe.active === 0 };
}

async function roundTripChild(): Promise<void> {
  const release = keepAlive();
  const name = arg('db')!;
  const client = new MongoClient(URI, { monitorCommands: true });
  await client.connect();
  const counter = new CommandCounter(client);
  // Every slot claim with its outcome, to explain claims that win nothing.
  const claims: Array<{ trigger: string; slot: number; version: number; won: boolean; at: number; inWindow: boolean }> = [];
  const probe: StoreProbe = {
    calls: {},
    counting: () => counter.on,
    active: 0,
    tracked: (m) => !POLL_METHODS.has(m),
    settled: (m, args, result) => {
      if (m !== 'triggerStore.claimSlot') return;
      claims.push({ trigger: args[0] as string, slot: (args[1] as Date).getTime(), version: args[2] as number, won: result !== null, at: Date.now(), inWindow: counter.on });
    },
  };
  const backend = createMongoBackend({ client, dbName: name });
  await backend.ensureIndexes();
  const scheduler = new Scheduler({
    triggerStore: instrument(backend.triggerStore, 'triggerStore', probe),
    jobStore: instrument(backend.jobStore, 'jobStore', probe),
    lockManager: instrument(backend.lockManager, 'lockManager', probe),
    instanceId: 'roundtrips',
    concurrency: 100,
    // No renewal sweep (every leaseMs / 3) and no maintenance pass inside the window.
    leaseMs: 120_000,
  });
  let fired = 0;
  let succeeded = 0;
  const errors: string[] = [];
  scheduler.register('noop', async () => undefined);
  scheduler.on('job:started', () => {
    if (counter.on) fired += 1;
  });
  scheduler.on('job:succeeded', () => {
    if (counter.on) succeeded += 1;
  });
  scheduler.on('error', (e) => {
    if (errors.length < 5) errors.push(e.message);
  });
  // All triggers fire together every RT_PERIOD ms from `first`. The window opens and closes at a
  // quiet moment (no fire-path store call in progress, checked from a macrotask, so no job is
  // between two of its calls either), half a period after a burst: every job in it is counted whole.
  const first = Math.ceil((Date.now() + 1500) / RT_PERIOD) * RT_PERIOD;
  for (let i = 0; i < RT_TRIGGERS; i++) {
    await scheduler.addTrigger({ id: `rt-${i}`, handler: 'noop', schedule: { every: RT_PERIOD, startAt: new Date(first) } });
  }
  await scheduler.start();
  const warm = first + Math.ceil(2000 / RT_PERIOD) * RT_PERIOD + RT_PERIOD / 2;
  const open = await quiet(probe, warm);
  counter.on = true;
  const close = await quiet(probe, open.at + Math.round(RT_WINDOW / RT_PERIOD) * RT_PERIOD);
  counter.on = false;
  const windowMs = close.at - open.at;
  const exactEdges = open.quiet && close.quiet;
  await scheduler.stop({ graceful: true, timeoutMs: 2000 });
  await client.db(name).dropDatabase();
  await client.close();
  release();
  const calls = probe.calls;
  // Claims in the window that returned null, and whether their slot had already been won earlier
  // (the engine re-fired a slot it had claimed itself) or lost to nobody (another cause).
  const perSlot = new Map<string, number>();
  for (const c of claims) if (c.inWindow) perSlot.set(`${c.trigger}@${c.slot}`, (perSlot.get(`${c.trigger}@${c.slot}`) ?? 0) + 1);
  const slotsClaimedTwice = [...perSlot.values()].filter((n) => n > 1).length;
  const wonBefore = new Set<string>();
  const lostClaims: Array<{ trigger: string; slot: number; version: number; alreadyWon: boolean }> = [];
  for (const c of claims) {
    const key = `${c.trigger}@${c.slot}`;
    if (c.inWindow && !c.won) lostClaims.push({ trigger: c.trigger, slot: c.slot, version: c.version, alreadyWon: wonBefore.has(key) });
    if (c.won) wonBefore.add(key);
  }

  const pollBy: Record<string, number> = {};
  const fireBy: Record<string, number> = {};
  const fireMethods: Record<string, number> = {};
  const polls = calls['triggerStore.findDue'] ?? 0;
  // The poll ends with a forced dispatch: one claimPending per poll is the poll's; more are the fire path's.
  let pollClaimPending = polls;
  for (const [method, commands] of Object.entries(counter.byMethod)) {
    for (const [command, count] of Object.entries(commands)) {
      let poll = 0;
      if (POLL_METHODS.has(method)) poll = count;
      else if (method === 'jobStore.claimPending') {
        poll = Math.min(count, pollClaimPending);
        pollClaimPending -= poll;
      }
      if (poll > 0) pollBy[command] = (pollBy[command] ?? 0) + poll;
      if (count - poll > 0) {
        fireBy[command] = (fireBy[command] ?? 0) + count - poll;
        fireMethods[method] = (fireMethods[method] ?? 0) + count - poll;
      }
    }
  }
  const pollCommands = Object.values(pollBy).reduce((a, b) => a + b, 0);
  const fireCommands = counter.total - pollCommands;
  const result: RoundTripResult = {
    jobsFired: fired,
    jobsSucceeded: succeeded,
    claims: calls['triggerStore.claimSlot'] ?? 0,
    polls,
    windowMs,
    commandsTotal: counter.total,
    byCommand: counter.byCommand,
    byMethod: counter.byMethod,
    calls,
    pollCommands,
    pollByCommand: pollBy,
    fireCommands,
    fireByCommand: fireBy,
    fireByMethod: fireMethods,
    perJobTotal: counter.total / fired,
    perJobFire: fireCommands / fired,
    exactEdges,
    lostClaims,
    slotsClaimedTwice,
    errors,
  };
  report(result);
}

// ─── 2. Throughput and lateness, n instances ───────────────────────────────────────────────────

/** One instance of our scheduler (child process). */
async function oursChild(): Promise<void> {
  const release = keepAlive();
  const offset = calibrateEpoch();
  const instance = numArg('instance', 0);
  const concurrency = numArg('conc', CONCURRENCY);
  const client = new MongoClient(URI, { monitorCommands: true });
  await client.connect();
  const counter = new CommandCounter(client);
  const backend = createMongoBackend({ client, dbName: arg('db')! });
  const scheduler = new Scheduler({ ...backend, instanceId: `ours-${instance}`, concurrency });
  const t = await timelineFromParent();
  const result = emptyResult('ours', instance, counter, t.to - t.from);
  const inWindow = (at: number): boolean => at >= t.from && at < t.to;
  scheduler.register('noop', async (ctx) => {
    const at = epochNow(offset);
    if (!inWindow(at)) return;
    const due = ctx.job.scheduledFor.getTime();
    result.started += 1;
    if (Date.now() < due) result.early += 1;
    result.lateness.push(at - due);
    result.keys.push(ctx.job.key);
  });
  scheduler.on('job:succeeded', () => {
    if (inWindow(epochNow(offset))) result.completed += 1;
    if (counter.on) result.countedCompleted += 1;
  });
  scheduler.on('error', (e) => {
    if (Date.now() >= t.to) return;
    result.errors += 1;
    result.firstError ??= e.message;
  });
  await until(t.startAt);
  result.lateStart = Date.now() > t.firstAt;
  await scheduler.start();
  await until(t.from);
  counter.on = true;
  const counted0 = Date.now();
  const cpu0 = process.cpuUsage();
  await until(t.to);
  counter.on = false;
  result.countedMs = Date.now() - counted0;
  const cpu = process.cpuUsage(cpu0);
  result.cpuMs = (cpu.user + cpu.system) / 1000;
  result.commandsTotal = counter.total;
  // Report first: a stop on an overloaded server can take long, and its figures are not measured.
  report(result);
  await Promise.race([scheduler.stop({ graceful: true, timeoutMs: 1000 }), sleep(3000)]);
  await Promise.race([client.close(true), sleep(1000)]);
  release();
  process.exit(0);
}

async function agendaChild(): Promise<void> {
  const { result, shutdown } = await agendaInstance({
    uri: URI,
    dbName: arg('db')!,
    instance: numArg('instance', 0),
    count: numArg('count', 0),
    tuning: { processEveryMs: numArg('process-every', AGENDA.processEveryMs), concurrency: numArg('conc', CONCURRENCY) },
    timeline: timelineFromParent,
  });
  report(result);
  await shutdown();
  process.exit(0);
}


/** Create the triggers of our scheduler (through the public API). */
async function setupOurs(db: Db, count: number, periodMs: number, firstAt: number): Promise<void> {
  const backend = createMongoBackend({ db });
  await backend.ensureIndexes();
  const scheduler = new Scheduler({ ...backend });
  scheduler.register('noop', async () => undefined);
  const batch = 50;
  for (let start = 0; start < count; start += batch) {
    const adds: Array<Promise<unknown>> = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const startAt = new Date(firstAt + Math.floor((i * periodMs) / count));
      adds.push(scheduler.addTrigger({ id: `t-${i}`, handler: 'noop', schedule: { every: periodMs, startAt } }));
    }
    await Promise.all(adds);
  }
}

interface RunResult {
  system: 'ours' | 'agenda';
  instances: number;
  triggers: number;
  periodMs: number;
  offeredPerSec: number;
  windowMs: number;
  jobsPerSec: number;
  jobsPerSecPerInstance: number;
  /** Completions per second including duplicate runs of a slot. */
  completionsPerSec: number;
  startsPerSec: number;
  lateness: ReturnType<typeof latenessSummary>;
  early: number;
  duplicates: number;
  commandsPerJob: number;
  commandsPerJobByCommand: Record<string, number>;
  /** Mean driver-measured round-trip time per command (ms). */
  commandMeanMs: Record<string, number>;
  commandsFailed: Record<string, number>;
  clientCpuMsPerJob: number;
  /** The server's CPU ms in the window (FerretDB, PostgreSQL and its backends), null where unknown. */
  serverCpu: ServerCpuSample | null;
  serverCpuMsPerJob: number | null;
  /** Server CPU ms per ms of window (1 = one core busy). */
  serverCpuShare: number | null;
  perInstance: Array<{ instance: number; completed: number; started: number; p50: number; p99: number; cpuMs: number; lateStart: boolean; errors: number; firstError: string | null }>;
  setupMs: number;
  /** Instance processes that crashed or hung (their figures are missing from the run's). */
  failedInstances: number;
  wallMs: number;
}

/** One configuration: n children booted, then setup and a shared timeline, then merge. */
async function throughputRun(client: MongoClient, system: 'ours' | 'agenda', instances: number, perInstance: number, periodMs: number, windowMs = WINDOW, extra: string[] = []): Promise<RunResult> {
  const began = Date.now();
  const name = dbName(`${system}${instances}`);
  const db = client.db(name);
  const count = perInstance * instances;
  // The instance processes boot first (seconds each on a busy 2-core host, where 4 share the
  // cores), so that a slow boot delays the run instead of eating its window.
  let ready = 0;
  const children = Array.from({ length: instances }, (_, i) =>
    startNode(
      'mongo.ts',
      ['--child', system, '--instance', String(i), '--count', String(count), '--db', name, '--conc', String(CONCURRENCY), '--process-every', String(AGENDA.processEveryMs), ...extra],
      (line) => {
        if (line === 'ready') ready += 1;
      },
      { timeoutMs: BOOT_TIMEOUT + 60_000 + count * 10 + WARMUP + windowMs },
    ),
  );
  let exited = 0;
  for (const c of children) void c.done.then(() => (exited += 1));
  const bootDeadline = Date.now() + BOOT_TIMEOUT;
  while (ready + exited < instances && Date.now() < bootDeadline) await sleep(50);
  if (ready < instances) console.warn(`  ! ${instances - ready} of ${instances} ${system} instance(s) not ready after ${r((Date.now() - began) / 1000, 1)} s`);
  // The parent creates the triggers (50 at a time; FerretDB on PostgreSQL: a few ms each) while the
  // instances wait for the first slot; the window opens after a warm-up. A trigger added after its
  // first slot simply starts at its next one (the phase stays), so a slow setup costs warm-up only.
  const setupStart = Date.now();
  const firstAt = setupStart + 1500 + count * 5;
  const startAt = firstAt - 1000;
  const from = firstAt + WARMUP;
  const to = from + windowMs;
  for (const c of children) c.send(`go ${JSON.stringify({ startAt, firstAt, from, to } satisfies Timeline)}`);
  // Bounded: on a wedged server the run fails (and the next one runs) instead of waiting for ever.
  const setupLimit = 60_000 + count * 20;
  try {
    await withDeadline(system === 'ours' ? setupOurs(db, count, periodMs, firstAt) : setupAgendaJobs(db, count, periodMs, firstAt), setupLimit, `${system} setup of ${count} triggers`);
  } catch (error) {
    for (const c of children) c.kill();
    throw error;
  }
  const setupMs = Date.now() - setupStart;
  if (Date.now() > firstAt) console.warn(`  ! setup took ${setupMs} ms: the first slots passed before their triggers existed`);
  await until(from);
  const server0 = serverCpu?.sample() ?? null;
  await until(to);
  const server1 = serverCpu?.sample() ?? null;
  const outs = await Promise.all(children.map((c) => c.done));
  const results: InstanceResult[] = [];
  let failedInstances = 0;
  for (const out of outs) {
    try {
      results.push(resultOf<InstanceResult>(out));
    } catch (error) {
      failedInstances += 1;
      console.warn(`  ! a ${system} instance gave no result: ${String(error).slice(0, 300)}`);
    }
  }
  await db.dropDatabase().catch(() => undefined);

  const completed = results.reduce((a, x) => a + x.completed, 0);
  const started = results.reduce((a, x) => a + x.started, 0);
  const lateness = results.flatMap((x) => x.lateness);
  const keys = new Map<string, number>();
  for (const x of results) for (const k of x.keys) keys.set(k, (keys.get(k) ?? 0) + 1);
  let duplicates = 0;
  for (const n of keys.values()) if (n > 1) duplicates += n - 1;
  const commands = sumCounts(results.map((x) => x.commands));
  const commandMs = sumCounts(results.map((x) => x.commandMs));
  const commandsFailed = sumCounts(results.map((x) => x.commandsFailed));
  // A slot run twice (FerretDB's non-atomic updates let Agenda lock one document twice) counts once.
  const unique = Math.max(0, completed - duplicates);
  const commandsTotal = results.reduce((a, x) => a + x.commandsTotal, 0);
  const cpuMs = results.reduce((a, x) => a + x.cpuMs, 0);
  // Per-job figures of the instances: what they counted over what completed while they counted.
  const counted = results.reduce((a, x) => a + x.countedCompleted, 0);
  const shortestCount = Math.min(...results.map((x) => x.countedMs));
  if (results.length > 0 && shortestCount < windowMs * 0.8) console.warn(`  ! an instance counted for only ${shortestCount} of ${windowMs} ms (a starved process: its timers fired late)`);
  const serverDelta = server0 !== null && server1 !== null ? ServerCpu.delta(server0, server1) : null;
  const serverMs = serverDelta?.totalMs ?? null;
  return {
    system,
    instances,
    triggers: count,
    periodMs,
    offeredPerSec: (count * 1000) / periodMs,
    windowMs,
    jobsPerSec: unique / (windowMs / 1000),
    jobsPerSecPerInstance: unique / (windowMs / 1000) / instances,
    completionsPerSec: completed / (windowMs / 1000),
    startsPerSec: started / (windowMs / 1000),
    lateness: latenessSummary(lateness),
    early: results.reduce((a, x) => a + x.early, 0),
    duplicates,
    commandsPerJob: commandsTotal / Math.max(1, counted),
    commandsPerJobByCommand: perJob(commands, counted),
    commandMeanMs: Object.fromEntries(Object.entries(commandMs).map(([k, v]) => [k, r(v / (commands[k] ?? 1), 2)])),
    commandsFailed,
    clientCpuMsPerJob: cpuMs / Math.max(1, counted),
    serverCpu: serverDelta,
    serverCpuMsPerJob: serverMs === null ? null : serverMs / Math.max(1, unique),
    serverCpuShare: serverMs === null ? null : serverMs / windowMs,
    perInstance: results.map((x) => {
      const d = latenessSummary(x.lateness);
      return { instance: x.instance, completed: x.completed, started: x.started, p50: d.p50, p99: d.p99, cpuMs: r(x.cpuMs, 0), lateStart: x.lateStart, errors: x.errors, firstError: x.firstError };
    }),
    setupMs,
    failedInstances,
    wallMs: Date.now() - began,
  };
}

function showRun(run: RunResult): void {
  const l = run.lateness;
  const server = run.serverCpuShare === null ? '' : `, server CPU ${r(run.serverCpuShare * 100, 0)}% of a core (${r(run.serverCpuMsPerJob!, 2)} ms/job)`;
  console.log(
    `${run.system.padEnd(6)} ×${run.instances}: ${r(run.jobsPerSec, 0).toString().padStart(5)} jobs/s (${r(run.jobsPerSecPerInstance, 0)}/instance; offered ${r(run.offeredPerSec, 0)}/s), lateness p50 ${r(l.p50, 1)} ms p99 ${r(l.p99, 1)} ms max ${r(l.max, 0)} ms (n=${l.n}), ` +
      `${r(run.commandsPerJob, 2)} commands/job, client CPU ${r(run.clientCpuMsPerJob, 2)} ms/job${server}; dup ${run.duplicates}, early ${run.early} [${r(run.wallMs / 1000, 1)} s, setup ${r(run.setupMs / 1000, 1)} s]`,
  );
  console.log(`    commands per job: ${JSON.stringify(run.commandsPerJobByCommand)}; mean ms: ${JSON.stringify(run.commandMeanMs)}${Object.keys(run.commandsFailed).length ? `; failed: ${JSON.stringify(run.commandsFailed)}` : ''}`);
  for (const p of run.perInstance) {
    if (p.errors > 0 || p.lateStart) console.log(`    instance ${p.instance}: ${p.errors} errors${p.firstError ? ` (${p.firstError})` : ''}${p.lateStart ? ', started late' : ''}`);
  }
}

// ─── main ──────────────────────────────────────────────────────────────────────────────────────

type Floor = Awaited<ReturnType<typeof serverFloor>> & { serverCpuMsPerJob: number | null };
/** The shaped floor run from `processes` processes at once (their jobs/s summed). */
interface ProcessFloor {
  processes: number;
  jobsPerSec: number;
}
/** The concurrent phase's floor, with the server's CPU per job. */
type ConcFloor = ConcurrentFloor & { serverCpuMsPerJob: number | null };

/** When the run must stop starting phases (see BENCH_MONGO_BUDGET_S); set by main. */
let budgetEndsAt = Number.POSITIVE_INFINITY;
/** Phases skipped for the budget (reported, not a failure). */
const skippedPhases: string[] = [];

/**
 * Run one phase; a phase that fails is reported and the others still run. Past the budget, a phase
 * is skipped (and listed), so that a slow server cannot make the whole benchmark overrun its limit.
 */
async function phase<T>(name: string, errors: string[], run: () => Promise<T>): Promise<T | null> {
  if (Date.now() > budgetEndsAt) {
    skippedPhases.push(name);
    console.error(`  ! ${name}: skipped, the time budget is used up`);
    return null;
  }
  try {
    return await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    errors.push(`${name}: ${message.slice(0, 500)}`);
    console.error(`\n!!! phase ${name} failed: ${message.slice(0, 2000)}`);
    return null;
  }
}

function showRoundTrips(rt: RoundTripResult): void {
  console.log(
    `round trips: ${rt.jobsFired} jobs fired in ${rt.windowMs} ms (${rt.claims} slot claims, ${rt.jobsSucceeded} succeeded), ${rt.polls} polls; ` +
      `${rt.commandsTotal} commands = ${rt.pollCommands} poll + ${rt.fireCommands} fire path → ${r(rt.perJobFire, 2)} per fired job (raw ${r(rt.perJobTotal, 2)})`,
  );
  if (!rt.exactEdges) console.log('  (no quiet moment at a window edge: jobs in flight at the edges make these counts approximate)');
  console.log(`  per fired job, by command: ${JSON.stringify(perJob(rt.fireByCommand, rt.jobsFired))}`);
  console.log(`  per fired job, by store method: ${JSON.stringify(perJob(rt.fireByMethod, rt.jobsFired))}`);
  console.log(`  poll commands in the window: ${JSON.stringify(rt.pollByCommand)}`);
  if (rt.slotsClaimedTwice > 0) console.log(`  ${rt.slotsClaimedTwice} slot(s) were claimed more than once by this single instance (the engine fired the same slot twice)`);
  if (rt.lostClaims.length) {
    const again = rt.lostClaims.filter((c) => c.alreadyWon).length;
    console.log(`  ${rt.lostClaims.length} slot claims returned null with no other instance running; ${again} of them re-claimed a slot this instance had already won`);
  }
  if (rt.errors.length) console.log(`  errors: ${rt.errors.join(' | ')}`);
}

async function main(): Promise<void> {
  if (!URI) {
    console.log('mongo: skipped (MONGODB_URI is not set; e.g. eval "$(bash .ci/ferretdb.sh start)")');
    emitSummary([]);
    return;
  }
  const began = Date.now();
  budgetEndsAt = began + BUDGET_S * 1000;
  const client = new MongoClient(URI);
  await client.connect();
  const server: ServerInfo = await serverInfo(client.db('admin'));
  serverCpu = new ServerCpu(URI);
  const cpuFound = serverCpu.processes.serverPid !== null || serverCpu.processes.postgresPid !== null;
  banner(`mongo: ${describeServer(server)}`);
  console.log(`  phases: ${[...PHASES].join(', ')}; Agenda: ${WITH_AGENDA ? 'yes' : 'no'}; load average ${loadavg().map((x) => r(x, 1)).join(' ')}`);
  console.log(`  server CPU: ${cpuFound ? `pid ${serverCpu.processes.serverPid ?? '-'}, PostgreSQL ${serverCpu.processes.postgresPid ?? '-'}` : 'n/a'} (${serverCpu.processes.how})`);
  if (server.kind === 'FerretDB') {
    console.log('  FerretDB translates every command for its backend, has no change streams and its conditional updates');
    console.log('  are not atomic: these figures say little about MongoDB (docs/performance.md, "MongoDB backend").');
  }
  const phaseErrors: string[] = [];
  let rt: RoundTripResult | null = null;
  let floor: Floor | null = null;
  let floorShaped: Floor | null = null;
  const runs: RunResult[] = [];
  const saturated: RunResult[] = [];
  const concurrent: ConcurrentResult[] = [];
  const concFloors: ConcFloor[] = [];
  const floorByProcesses: ProcessFloor[] = [];
  const light: RunResult[] = [];
  try {
    if (PHASES.has('rt')) {
      banner('round trips per fired job (1 instance)');
      rt = await phase('rt', phaseErrors, async () => {
        const out = await runNode('mongo.ts', ['--child', 'roundtrips', '--db', dbName('rt'), '--rt-triggers', String(RT_TRIGGERS), '--rt-period', String(RT_PERIOD), '--rt-window', String(RT_WINDOW)], { echo: true, timeoutMs: RT_WINDOW + 60_000 });
        return resultOf<RoundTripResult>(out);
      });
      if (rt) showRoundTrips(rt);
    }

    if (PHASES.has('floor')) {
      // The server's own unbatched ceiling: claim + insert + end as bare driver calls, no scheduler.
      const measureFloor = (shaped: boolean): Promise<Floor | null> =>
        phase(shaped ? 'floor (shaped)' : 'floor', phaseErrors, async () => {
          const floorDb = client.db(dbName(shaped ? 'floor_shaped' : 'floor'));
          let cpu0 = serverCpu!.sample();
          // The bare floor as the issue measured it (100 triggers, 3 s from an empty jobs
          // collection); the shaped one on the terms of the top saturation phase: as many
          // triggers, its warm-up before its window, so both scan collections of one size.
          const terms = shaped ? { triggers: Math.max(100, ...SATURATE), ms: WINDOW, warmup: { ms: WARMUP, atWindowStart: () => void (cpu0 = serverCpu!.sample()) } } : { triggers: 100, ms: FLOOR_MS, warmup: null };
          const measured = await serverFloor(floorDb, terms.ms, FLOOR_WORKERS, terms.triggers, shaped, terms.warmup);
          const cpu = ServerCpu.delta(cpu0, serverCpu!.sample()).totalMs;
          await floorDb.dropDatabase().catch(() => undefined);
          const jobs = (measured.jobsPerSec * terms.ms) / 1000;
          return { ...measured, serverCpuMsPerJob: cpu === null ? null : cpu / Math.max(1, jobs) };
        });
      floor = await measureFloor(false);
      // The same calls on documents as big as the scheduler's (see serverFloor): what the server
      // costs per job for our documents, apart from what the engine adds.
      floorShaped = await measureFloor(true);
      // The shaped floor again from 1 and from n processes (the chains and triggers divided among
      // them, one database): what more processes cost this host with no scheduler in them.
      const top = Math.max(100, ...SATURATE);
      for (const processes of [1, Math.max(...SAT_INSTANCES)]) {
        const measured = await phase(`floor ×${processes} processes`, phaseErrors, async () => {
          const name = dbName(`floor_procs_${processes}`);
          const startAt = Date.now() + 4000;
          const share = (i: number): string[] => ['--child', 'floor', '--db', name, '--prefix', `p${i}`, '--start-at', String(startAt), '--warmup', String(WARMUP), '--ms', String(WINDOW),
            '--workers', String(Math.max(1, Math.round(FLOOR_WORKERS / processes))), '--triggers', String(Math.ceil(top / processes))];
          const outs = await Promise.all(Array.from({ length: processes }, (_, i) => runNode('mongo.ts', share(i), { timeoutMs: 60_000 + WARMUP + WINDOW })));
          await client.db(name).dropDatabase().catch(() => undefined);
          return { processes, jobsPerSec: outs.reduce((sum, out) => sum + resultOf<{ jobsPerSec: number }>(out).jobsPerSec, 0) };
        });
        if (measured) floorByProcesses.push(measured);
      }
      if (floorByProcesses.length === 2) {
        const [one, many] = floorByProcesses as [ProcessFloor, ProcessFloor];
        console.log(`server floor, shaped, from ${one.processes} process: ${r(one.jobsPerSec, 0)} jobs/s; from ${many.processes} processes: ${r(many.jobsPerSec, 0)} jobs/s (${fmt(many.jobsPerSec / one.jobsPerSec, 2)}x)`);
      }
      for (const f of [floor, floorShaped]) {
        if (!f) continue;
        console.log(
          `server floor (claim + insert + end as bare driver calls${f.shaped ? ', documents shaped as the scheduler\'s' : ''}, ${f.workers} chains in parallel, one process, ${f.triggers} triggers${f.warmupMs > 0 ? `, counted after ${f.warmupMs} ms` : ''}): ${r(f.jobsPerSec, 0)} jobs/s, ` +
            `chain p50 ${f.chainMs.p50} ms p99 ${f.chainMs.p99} ms, server CPU ${f.serverCpuMsPerJob === null ? 'n/a' : `${r(f.serverCpuMsPerJob, 2)} ms/job`}`,
        );
      }
    }

    if (PHASES.has('throughput')) {
      banner(`throughput: ${PER_INSTANCE} triggers per instance every ${PERIOD} ms (offered ${r((PER_INSTANCE * 1000) / PERIOD, 0)} jobs/s per instance), window ${WINDOW} ms`);
      for (const n of INSTANCES) {
        for (const system of WITH_AGENDA ? (['ours', 'agenda'] as const) : (['ours'] as const)) {
          const run = await phase(`throughput ${system} ×${n}`, phaseErrors, () => throughputRun(client, system, n, PER_INSTANCE, PERIOD));
          if (run) {
            runs.push(run);
            showRun(run);
          }
        }
      }
    }

    if (PHASES.has('saturation')) {
      // Offered more than the server takes (at 120/s on a slow server, 600/s on most), on 1 and on
      // n instances: each system's ceiling on this server, and whether instances add or subtract.
      for (const offered of SATURATE) {
        banner(`saturation: offered ${offered} jobs/s (${offered} \`every: ${PERIOD} ms\` triggers), window ${WINDOW} ms, concurrency ${CONCURRENCY}`);
        for (const n of SAT_INSTANCES) {
          for (const system of WITH_AGENDA ? (['ours', 'agenda'] as const) : (['ours'] as const)) {
            const run = await phase(`saturation ${system} ${offered}/s ×${n}`, phaseErrors, () => throughputRun(client, system, n, Math.ceil(offered / n), PERIOD));
            if (run) {
              saturated.push(run);
              showRun(run);
            }
          }
        }
      }
    }

    if (PHASES.has('concurrent')) {
      for (const [i, jobs] of CONC_JOBS.entries()) {
        const lease = CONC_LEASE[Math.min(i, CONC_LEASE.length - 1)] ?? 'default';
        const leaseMs = lease === 'default' ? null : Number(lease);
        banner(`concurrent jobs: ${jobs} × ${r(CONC_WORK / 1000, 1)} s on ${CONC_INSTANCES} processes, leaseMs ${lease}, deadline ${r(CONC_DEADLINE / 1000, 0)} s after the slot`);
        if (CONC_FLOOR) {
          // The server's own floor for this phase: the same claims, inserts and ends as bare calls.
          const measured = await phase(`concurrent floor ${jobs}`, phaseErrors, async () => {
            const floorDb = client.db(dbName(`conc_floor_${jobs}`));
            const cpu0 = serverCpu!.sample();
            const f = await concurrentFloor(floorDb, jobs, CONC_WORK, CONC_INSTANCES);
            const cpu = ServerCpu.delta(cpu0, serverCpu!.sample()).totalMs;
            await floorDb.dropDatabase().catch(() => undefined);
            return { ...f, serverCpuMsPerJob: cpu === null ? null : cpu / jobs };
          });
          if (measured) {
            concFloors.push(measured);
            console.log(
              `floor (bare claim + insert + end of shaped documents, one process): slot → last end ${r(measured.lastDoneMs / 1000, 1)} s, ` +
                `start p50 / p99 ${r(measured.startLateness.p50, 0)} / ${r(measured.startLateness.p99, 0)} ms, end p50 / p99 ${r(measured.endMs.p50, 0)} / ${r(measured.endMs.p99, 0)} ms, ` +
                `server CPU ${measured.serverCpuMsPerJob === null ? 'n/a' : `${r(measured.serverCpuMsPerJob, 2)} ms/job`}`,
            );
          }
        }
        for (const system of WITH_AGENDA ? (['ours', 'agenda'] as const) : (['ours'] as const)) {
          const run = await phase(`concurrent ${system} ${jobs}`, phaseErrors, () =>
            concurrentRun(client, URI, system, { jobs, instances: CONC_INSTANCES, workMs: CONC_WORK, leaseMs, deadlineMs: CONC_DEADLINE }, serverCpu!),
          );
          if (run) {
            concurrent.push(run);
            showConcurrent(run);
          }
        }
      }
    }

    if (PHASES.has('light') && LIGHT > 0) {
      banner(`light load: ${LIGHT} triggers every ${PERIOD} ms, 1 instance, window ${LIGHT_WINDOW} ms`);
      for (const system of WITH_AGENDA ? (['ours', 'agenda'] as const) : (['ours'] as const)) {
        const run = await phase(`light ${system}`, phaseErrors, () => throughputRun(client, system, 1, LIGHT, PERIOD, LIGHT_WINDOW));
        if (run) {
          light.push(run);
          showRun(run);
        }
      }
    }
  } finally {
    // Whatever a failed phase left behind.
    for (const name of createdDbs) await client.db(name).dropDatabase().catch(() => undefined);
    await client.close();
  }

  const totalS = (Date.now() - began) / 1000;
  console.log(`\n(mongo benchmark: ${r(totalS, 0)} s; load average now ${loadavg().map((x) => r(x, 1)).join(' ')})`);
  console.log(`\n${compactTables(floor, saturated, concurrent, light, floorShaped, concFloors)}`);
  if (phaseErrors.length > 0) console.error(`\n!!! phases that failed: ${phaseErrors.join(' | ')}`);
  if (skippedPhases.length > 0) console.error(`\n! skipped for the time budget (BENCH_MONGO_BUDGET_S=${BUDGET_S}): ${skippedPhases.join(', ')}`);
  const rows = summaryRows(server, rt, floor, [...runs, ...saturated], concurrent, light, floorShaped, concFloors, floorByProcesses);
  const data = {
    server,
    uri: URI.replace(/\/\/[^@/]*@/, '//***@'),
    serverProcesses: serverCpu.processes,
    config: {
      phases: [...PHASES],
      agenda: WITH_AGENDA,
      periodMs: PERIOD,
      windowMs: WINDOW,
      warmupMs: WARMUP,
      concurrency: CONCURRENCY,
      agendaTuning: AGENDA,
      saturate: SATURATE,
      satInstances: SAT_INSTANCES,
      floor: { ms: FLOOR_MS, workers: FLOOR_WORKERS },
      concurrent: { jobs: CONC_JOBS, leaseMs: CONC_LEASE, workMs: CONC_WORK, deadlineMs: CONC_DEADLINE, instances: CONC_INSTANCES },
      light: LIGHT,
      lightWindowMs: LIGHT_WINDOW,
      throughput: { instances: INSTANCES, perInstance: PER_INSTANCE },
      rt: { triggers: RT_TRIGGERS, periodMs: RT_PERIOD, windowMs: RT_WINDOW },
    },
    loadAverage: loadavg(),
    floor,
    floorShaped,
    floorByProcesses,
    concurrentFloors: concFloors,
    roundTrips: rt ? { ...rt, perJobByCommand: perJob(rt.fireByCommand, rt.jobsFired), perJobByMethod: perJob(rt.fireByMethod, rt.jobsFired) } : null,
    runs,
    saturated,
    concurrent,
    light,
    phaseErrors,
    skippedPhases,
    totalSeconds: totalS,
    rows,
  };
  const file = writeResult('mongo', data);
  const copy = process.env['BENCH_MONGO_OUT']?.trim();
  if (copy) copyFileSync(file, copy);
  console.log(`results: ${file}${copy ? ` and ${copy}` : ''}`);
  emitSummary(rows);
  // A failed phase fails `npm run bench` (bench/run.ts reads the exit code).
  if (phaseErrors.length > 0) process.exitCode = 1;
}

/** Format a number or "n/a". */
function fmt(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : String(r(value, digits));
}

function textTable(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

/** The saturated run of Agenda that matches one of ours (same instances, same offered rate). */
function agendaTwin(runs: RunResult[], ours: RunResult): RunResult | undefined {
  return runs.find((x) => x.system === 'agenda' && x.instances === ours.instances && x.offeredPerSec === ours.offeredPerSec);
}

/** The compact tables printed at the end (the figures docs/performance.md records). */
function compactTables(floor: Floor | null, saturated: RunResult[], concurrent: ConcurrentResult[], light: RunResult[], floorShaped: Floor | null, concFloors: ConcFloor[]): string {
  const out: string[] = [];
  const rateRows = [...saturated, ...light].map((x) => {
    const twin = x.system === 'ours' ? agendaTwin([...saturated, ...light], x) : undefined;
    return [
      light.includes(x) ? 'light' : 'saturation',
      x.system,
      String(x.instances),
      String(r(x.offeredPerSec, 0)),
      fmt(x.jobsPerSec, 1),
      floor ? fmt(x.jobsPerSec / floor.jobsPerSec, 2) : 'n/a',
      twin ? (twin.jobsPerSec > 0 ? fmt(x.jobsPerSec / twin.jobsPerSec, 2) : x.jobsPerSec > 0 ? 'Agenda 0' : 'both 0') : '-',
      fmt(x.commandsPerJob, 2),
      fmt(x.serverCpuMsPerJob, 2),
      `${fmt(x.lateness.p50, 1)} / ${fmt(x.lateness.p99, 1)}`,
      String(x.duplicates),
    ];
  });
  if (floorShaped) rateRows.unshift(['floor', 'shaped docs', '1', '-', fmt(floorShaped.jobsPerSec, 1), floor ? fmt(floorShaped.jobsPerSec / floor.jobsPerSec, 2) : '-', '-', '3', fmt(floorShaped.serverCpuMsPerJob, 2), `chain ${fmt(floorShaped.chainMs.p50, 1)} / ${fmt(floorShaped.chainMs.p99, 1)}`, '-']);
  if (floor) rateRows.unshift(['floor', 'bare driver', '1', '-', fmt(floor.jobsPerSec, 1), '1', '-', '3', fmt(floor.serverCpuMsPerJob, 2), `chain ${fmt(floor.chainMs.p50, 1)} / ${fmt(floor.chainMs.p99, 1)}`, '-']);
  if (rateRows.length > 0) {
    out.push(textTable(['phase', 'system', 'inst.', 'offered/s', 'jobs/s', '/floor', '/Agenda', 'cmds/job', 'server CPU ms/job', 'lateness p50 / p99 ms', 'dup'], rateRows));
  }
  if (concurrent.length > 0) {
    const rows = concurrent.map((x) => [
      x.system,
      String(x.jobs),
      x.system === 'ours' ? String(x.leaseMs ?? 'default') : '-',
      x.leaseLost === null ? 'n/a' : String(x.leaseLost),
      String(x.doubleRuns),
      x.lastFinishMs === null ? `> ${r(x.endedAfterMs / 1000, 1)} s (${x.unfinished} left)` : `${r(x.lastFinishMs / 1000, 1)} s`,
      `${fmt(x.lateness.p50, 0)} / ${fmt(x.lateness.p99, 0)}`,
      fmt(x.completionsPerSec, 1),
      fmt(x.commandsPerJob, 2),
      fmt(x.serverCpuMsPerJob, 2),
    ]);
    for (const f of concFloors) {
      rows.unshift(['floor', String(f.jobs), '-', '-', '-', `${r(f.lastDoneMs / 1000, 1)} s`, `${fmt(f.startLateness.p50, 0)} / ${fmt(f.startLateness.p99, 0)}`, fmt(f.jobs / (f.lastDoneMs / 1000), 1), '-', fmt(f.serverCpuMsPerJob, 2)]);
    }
    out.push(textTable(['concurrent', 'jobs', 'leaseMs', 'lease:lost', 'double runs', 'slot → last done', 'start late p50 / p99 ms', 'jobs/s', 'cmds/job', 'server CPU ms/job'], rows));
  }
  return out.join('\n\n');
}

function summaryRows(server: ServerInfo, rt: RoundTripResult | null, floor: Floor | null, runs: RunResult[], concurrent: ConcurrentResult[], light: RunResult[], floorShaped: Floor | null, concFloors: ConcFloor[], floorByProcesses: ProcessFloor[]): SummaryRow[] {
  const where = server.kind === 'FerretDB' ? `FerretDB ${server.ferretdbVersion}${server.backend ? ` ${server.backend}` : ''}` : `MongoDB ${server.version}`;
  const rows: SummaryRow[] = [];
  const row = (metric: string, value: string, baseline: string, ratio: string, target: string, met: boolean | null): void => {
    rows.push({ bench: 'mongo', metric, value, baseline, ratio, target, met });
  };
  if (rt) {
    row(
      `round trips per fired job, polls apart (${where})`,
      `${r(rt.perJobFire, 2)} (${Object.entries(perJob(rt.fireByCommand, rt.jobsFired)).map(([k, v]) => `${k.split(':')[0]} ${v}`).join(', ')})`,
      `raw ${r(rt.perJobTotal, 2)} incl. poll`,
      '-',
      `<= ${TARGET_RT}`,
      rt.perJobFire <= TARGET_RT,
    );
  }
  if (floor) row('server floor: bare claim + insert + end', `${r(floor.jobsPerSec, 0)} jobs/s (${floor.workers} chains)`, '-', '-', '-', null);
  if (floorShaped) row('server floor, documents shaped as ours', `${r(floorShaped.jobsPerSec, 0)} jobs/s, server ${fmt(floorShaped.serverCpuMsPerJob, 2)} ms/job`, floor ? `bare ${r(floor.jobsPerSec, 0)}/s` : '-', floor ? `${fmt(floorShaped.jobsPerSec / floor.jobsPerSec, 2)}x bare` : '-', '-', null);
  const ours = runs.filter((x) => x.system === 'ours');
  for (const x of ours) {
    const twin = agendaTwin(runs, x);
    const floorRatio = floor ? x.jobsPerSec / floor.jobsPerSec : Number.NaN;
    row(
      `jobs/s, offered ${r(x.offeredPerSec, 0)}/s, ${x.instances} inst.`,
      `${r(x.jobsPerSec, 0)}/s, ${r(x.commandsPerJob, 2)} cmds/job, server ${fmt(x.serverCpuMsPerJob, 2)} ms/job, p99 ${r(x.lateness.p99, 0)} ms`,
      `${twin ? `Agenda ${r(twin.jobsPerSec, 0)}/s p99 ${r(twin.lateness.p99, 0)} ms` : 'no Agenda run'}; floor ${floor ? r(floor.jobsPerSec, 0) : 'n/a'}/s`,
      `${fmt(floorRatio, 2)}x floor${floorShaped ? ` (${fmt(x.jobsPerSec / floorShaped.jobsPerSec, 2)}x shaped)` : ''}; ${twin ? (twin.jobsPerSec > 0 ? `${r(x.jobsPerSec / twin.jobsPerSec, 2)}x Agenda` : 'Agenda none') : '-'}`,
      x.instances === 1 ? `>= ${TARGET_FLOOR_RATIO}x floor (saturated)` : '-',
      // Only a saturated single instance is held to the floor: below it, the offered rate is the cap.
      x.instances === 1 && floor && x.offeredPerSec > floor.jobsPerSec ? floorRatio >= TARGET_FLOOR_RATIO : null,
    );
  }
  // 4 instances against 1 at the same offered rate.
  for (const many of ours.filter((x) => x.instances > 1)) {
    const one = ours.find((x) => x.instances === 1 && x.offeredPerSec === many.offeredPerSec);
    if (!one) continue;
    const pf = floorByProcesses.find((f) => f.processes === many.instances);
    const pf1 = floorByProcesses.find((f) => f.processes === 1);
    const floorScale = pf && pf1 ? `floor ${pf.processes} proc. / 1: ${fmt(pf.jobsPerSec / pf1.jobsPerSec, 2)}x` : '-';
    row(`jobs/s ${many.instances} inst. / 1 inst., offered ${r(many.offeredPerSec, 0)}/s`, `${r(many.jobsPerSec, 0)} / ${r(one.jobsPerSec, 0)}`, floorScale, `${fmt(many.jobsPerSec / one.jobsPerSec, 2)}x`, `>= ${TARGET_SCALE_RATIO}x`, many.jobsPerSec / one.jobsPerSec >= TARGET_SCALE_RATIO);
  }
  const agendaRuns = runs.filter((x) => x.system === 'agenda');
  if (ours.length > 0 && agendaRuns.length > 0) {
    const peak = Math.max(...ours.map((x) => x.jobsPerSec));
    const agendaPeak = Math.max(...agendaRuns.map((x) => x.jobsPerSec));
    row('peak jobs/s against Agenda\'s peak', `${r(peak, 0)}/s`, `${r(agendaPeak, 0)}/s Agenda`, agendaPeak > 0 ? `${r(peak / agendaPeak, 2)}x` : 'Agenda none', `>= ${TARGET_AGENDA_PEAK_RATIO}x`, agendaPeak > 0 ? peak / agendaPeak >= TARGET_AGENDA_PEAK_RATIO : true);
  }
  const at120 = ours.find((x) => x.instances === 1 && x.offeredPerSec === 120);
  const at120Agenda = at120 ? agendaTwin(runs, at120) : undefined;
  if (at120 && at120Agenda && at120Agenda.lateness.n > 0) {
    row('lateness p99, offered 120/s, 1 inst.', `${r(at120.lateness.p99, 1)} ms`, `${r(at120Agenda.lateness.p99, 1)} ms Agenda`, `${fmt(at120.lateness.p99 / at120Agenda.lateness.p99, 2)}x`, "<= Agenda's", at120.lateness.p99 <= at120Agenda.lateness.p99);
  }
  // Commands per job at saturation: the single instance at the highest offered rate, polls included.
  const top = ours.filter((x) => x.instances === 1).sort((a, b) => b.offeredPerSec - a.offeredPerSec)[0];
  if (top) {
    const twin = agendaTwin(runs, top);
    row(
      `store commands per fired job, polls incl. (offered ${r(top.offeredPerSec, 0)}/s, 1 inst.)`,
      `${r(top.commandsPerJob, 2)} (${Object.entries(top.commandsPerJobByCommand).slice(0, 4).map(([k, v]) => `${k.split(':')[0]} ${v}`).join(', ')})`,
      twin ? `${r(twin.commandsPerJob, 2)} Agenda` : '-',
      '-',
      `<= ${TARGET_COMMANDS}`,
      top.commandsPerJob <= TARGET_COMMANDS,
    );
  }
  for (const x of concurrent.filter((c) => c.system === 'ours')) {
    const twin = concurrent.find((c) => c.system === 'agenda' && c.requested === x.requested);
    const last = x.lastFinishMs === null ? `${x.unfinished} unfinished at ${r(x.endedAfterMs / 1000, 0)} s` : `last done ${r(x.lastFinishMs / 1000, 1)} s`;
    const twinLast = twin ? (twin.lastFinishMs === null ? `${twin.unfinished} unfinished` : `last done ${r(twin.lastFinishMs / 1000, 1)} s`) : '';
    const limit = x.leaseMs !== null ? TARGET_CONC_LAST_MS : null;
    const cf = concFloors.find((f) => f.jobs === x.requested);
    row(
      `${x.jobs} concurrent ${r(x.workMs / 1000, 0)} s jobs, ${x.instances} processes, leaseMs ${x.leaseMs ?? 'default'}`,
      `${x.leaseLost} lost, ${x.doubleRuns} double, ${last}, start p50/p99 ${r(x.lateness.p50, 0)}/${r(x.lateness.p99, 0)} ms`,
      [twin ? `Agenda: ${twin.doubleRuns} double, ${twinLast}, p50/p99 ${r(twin.lateness.p50, 0)}/${r(twin.lateness.p99, 0)} ms` : '', cf ? `floor: last end ${r(cf.lastDoneMs / 1000, 1)} s` : ''].filter(Boolean).join('; ') || '-',
      twin && twin.completionsPerSec > 0 ? `${r(x.completionsPerSec / twin.completionsPerSec, 2)}x Agenda jobs/s` : '-',
      `0 lost, 0 double${limit ? `, last <= ${limit / 1000} s` : ''}`,
      x.leaseLost === 0 && x.doubleRuns === 0 && x.unfinished === 0 && (limit === null || (x.lastFinishMs !== null && x.lastFinishMs <= limit)),
    );
  }
  const lo = light.find((x) => x.system === 'ours');
  const la = light.find((x) => x.system === 'agenda');
  if (lo) {
    row(
      `light load lateness p50 / p99 (${r(lo.offeredPerSec, 0)} jobs/s, 1 inst.)`,
      `${r(lo.lateness.p50, 1)} / ${r(lo.lateness.p99, 1)} ms`,
      la ? `${r(la.lateness.p50, 1)} / ${r(la.lateness.p99, 1)} ms Agenda` : '-',
      la ? `p99 ${r(lo.lateness.p99 / la.lateness.p99, 2)}x` : '-',
      `p99 <= ${TARGET_LIGHT_P99} ms`,
      lo.lateness.p99 <= TARGET_LIGHT_P99,
    );
  }
  // Only our scheduler's early fires fail `npm run bench`; Agenda's are reported in the JSON.
  const early = [...runs, ...light].filter((x) => x.system === 'ours').reduce((a, x) => a + x.early, 0);
  row('early fires', String(early), '-', '-', '0', early === 0);
  return rows;
}

/** One process of the floor of n processes: its share of the chains on the shared database. */
async function floorChild(): Promise<void> {
  const client = new MongoClient(URI);
  await client.connect();
  try {
    const db = client.db(arg('db'));
    const share = { prefix: `${arg('prefix')!}-`, startAt: numArg('start-at', Date.now()) };
    const warmup = { ms: numArg('warmup', 0), atWindowStart: () => undefined };
    report(await serverFloor(db, numArg('ms', 3000), numArg('workers', 2), numArg('triggers', 100), true, warmup, share));
  } finally {
    await client.close();
  }
}

const childKind = arg('child');
if (childKind === 'floor') await floorChild();
else if (childKind === 'roundtrips') await roundTripChild();
else if (childKind === 'ours') await oursChild();
else if (childKind === 'agenda') await agendaChild();
else await main();
