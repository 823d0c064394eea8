/**
 * The MongoDB backend under load, with Agenda on the same server in the same run as the baseline.
 * Needs a server: `MONGODB_URI` (`npm run bench` skips this benchmark without it). Results and
 * method: docs/performance.md, "MongoDB backend". About 3.5 minutes.
 *
 *  1. Round trips per fired job. One instance, R `every` triggers that all fire at the same instant
 *     every `--rt-period` ms, a no-op handler, leases long enough that no renewal falls in the
 *     window. The driver's command monitoring (`monitorCommands`) counts every command started in a
 *     window whose edges wait for a quiet moment (no fire-path store call in progress), so each job
 *     in it is counted whole; every command is attributed to the store method that issued it
 *     (AsyncLocalStorage around proxied stores). The poll's periodic queries (findDue,
 *     dependencyEdges, gatedTriggerIds, nextPendingAt, the one claimPending of each poll's forced
 *     dispatch, maintenance) are reported apart: commands per fired job = (all − poll) / jobs fired.
 *     Also: the server floor (bare driver calls doing claim + insert + completion, no scheduler).
 *  2. Throughput and lateness with 1, 2 and 4 instances (separate child processes) on one database,
 *     ours and Agenda alternating: K × n repeating triggers (K per instance) with interval P and
 *     phases spread evenly over the period, offering K × n / P jobs/s; no-op handlers. Over a fixed
 *     window (after a warm-up) each process counts handler starts, completions, lateness (handler
 *     start − scheduled time, sub-ms epoch clock from bench/lib.ts), driver commands and its CPU.
 *     jobs/s = completions in the window, duplicate runs of a slot removed, / window length.
 *     Agenda's scheduled time comes from its lock query (mongo-agenda.ts). On FerretDB, a what-if
 *     run (diagnosis only) repeats our 1-instance run with the completion filtered on `_id` alone.
 *     Then a saturation run: 1 instance offered `--saturate` jobs/s (more than this server takes),
 *     so that each system's ceiling shows; at the rate above both keep up and tie by construction.
 *  3. A light-load lateness run (1 instance each, a rate both keep up with), so that lateness is
 *     compared where neither system is saturated.
 *
 * Writes `.bench-out/mongo.json`; prints `BENCH_SUMMARY` for bench/run.ts. Nothing asserts timings.
 *
 *   MONGODB_URI=... node --import tsx --expose-gc bench/mongo.ts [--instances 1,2,4] [--per-instance 30]
 *       [--period 1000] [--window 10000] [--concurrency 20] [--light 5] [--light-window 20000] [--saturate 120]
 *       [--agenda-process-every 1000] [--no-agenda] [--no-light] [--no-saturate]
 *   (set FERRETDB_STATE_FILE or MONGODB_SERVER_PID to also read the server's CPU time from /proc)
 */
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { createMongoBackend, Scheduler } from './pkg.js';
import { report, resultOf, runNode } from './child.js';
import { arg, banner, calibrateEpoch, emitSummary, epochNow, keepAlive, numArg, r, sleep, writeResult, type SummaryRow } from './lib.js';
import { agendaInstance, setupAgendaJobs, type AgendaTuning } from './mongo-agenda.js';
import {
  CommandCounter,
  describeServer,
  instrument,
  latenessSummary,
  perJob,
  processCpuMs,
  serverInfo,
  serverFloor,
  serverPid,
  sumCounts,
  until,
  emptyResult,
  type InstanceResult,
  type ServerInfo,
  type StoreProbe,
} from './mongo-lib.js';

const URI = process.env['MONGODB_URI']?.trim() ?? '';
const PER_INSTANCE = numArg('per-instance', 30);
const PERIOD = numArg('period', 1000);
const WINDOW = numArg('window', 10_000);
const WARMUP = numArg('warmup', 2500);
const CONCURRENCY = numArg('concurrency', 20);
const LIGHT = numArg('light', 5);
const SATURATE = numArg('saturate', 120);
const LIGHT_WINDOW = numArg('light-window', 20_000);
const INSTANCES = (arg('instances') ?? '1,2,4').split(',').map(Number);
const RT_TRIGGERS = numArg('rt-triggers', 5);
const FLOOR_MS = numArg('floor-ms', 3000);
const FLOOR_WORKERS = numArg('floor-workers', 8);
const RT_PERIOD = numArg('rt-period', 1000);
const RT_WINDOW = numArg('rt-window', 8000);
const AGENDA: AgendaTuning = { processEveryMs: numArg('agenda-process-every', PERIOD), concurrency: CONCURRENCY };
const TARGET_RT = 3;
const TARGET_PER_INSTANCE = 2000;
const TARGET_P99 = 25;
const TARGET_RATIO = 3;

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

function dbName(label: string): string {
  return `bench_mongo_${label}_${randomBytes(3).toString('hex')}`;
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
  const t = timeline();
  const instance = numArg('instance', 0);
  const concurrency = numArg('conc', CONCURRENCY);
  const client = new MongoClient(URI, { monitorCommands: true });
  await client.connect();
  const counter = new CommandCounter(client);
  const backend = createMongoBackend({ client, dbName: arg('db')! });
  const scheduler = new Scheduler({ ...backend, instanceId: `ours-${instance}`, concurrency });
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
  const cpu0 = process.cpuUsage();
  await until(t.to);
  counter.on = false;
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
  const t = timeline();
  const { result, shutdown } = await agendaInstance({
    uri: URI,
    dbName: arg('db')!,
    instance: numArg('instance', 0),
    count: numArg('count', 0),
    tuning: { processEveryMs: numArg('process-every', AGENDA.processEveryMs), concurrency: numArg('conc', CONCURRENCY) },
    ...t,
  });
  report(result);
  await shutdown();
  process.exit(0);
}

interface Timeline {
  startAt: number;
  firstAt: number;
  from: number;
  to: number;
}

function timeline(): Timeline {
  return {
    startAt: numArg('start', 0),
    firstAt: numArg('first', 0),
    from: numArg('from', 0),
    to: numArg('to', 0),
  };
}

/** Create the triggers of our scheduler (through the public API). */
async function setupOurs(db: Db, count: number, periodMs: number, firstAt: number): Promise<void> {
  const backend = createMongoBackend({ db });
  await backend.ensureIndexes();
  const scheduler = new Scheduler({ ...backend });
  scheduler.register('noop', async () => undefined);
  const batch = 10;
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
  serverCpuMsPerJob: number | null;
  serverCpuShare: number | null;
  perInstance: Array<{ instance: number; completed: number; started: number; p50: number; p99: number; cpuMs: number; lateStart: boolean; errors: number; firstError: string | null }>;
  setupMs: number;
  wallMs: number;
}

/** One configuration: setup, n children, merge. */
async function throughputRun(client: MongoClient, system: 'ours' | 'agenda', instances: number, perInstance: number, periodMs: number, windowMs = WINDOW, extra: string[] = []): Promise<RunResult> {
  const began = Date.now();
  const name = dbName(`${system}${instances}`);
  const db = client.db(name);
  const count = perInstance * instances;
  // Children boot (~1-2 s each on this host, slower when 4 share 2 cores) while the parent creates
  // the triggers (FerretDB: up to ~30 ms each under load); the first slot leaves room for both, the
  // window opens after a warm-up.
  const setupStart = Date.now();
  const firstAt = setupStart + Math.max(2500 + 750 * instances, 1500 + count * 30);
  const startAt = firstAt - 1000;
  const from = firstAt + WARMUP;
  const to = from + windowMs;
  const common = ['--db', name, '--start', String(startAt), '--first', String(firstAt), '--from', String(from), '--to', String(to), '--conc', String(CONCURRENCY), '--process-every', String(AGENDA.processEveryMs)];
  const children = Array.from({ length: instances }, (_, i) =>
    runNode('mongo.ts', ['--child', system, '--instance', String(i), '--count', String(count), ...common, ...extra], { echo: false, timeoutMs: to - Date.now() + 60_000 }),
  );
  if (system === 'ours') await setupOurs(db, count, periodMs, firstAt);
  else await setupAgendaJobs(db, count, periodMs, firstAt);
  const setupMs = Date.now() - setupStart;
  if (Date.now() > startAt) console.warn(`  ! setup took ${setupMs} ms: instances start late`);
  await until(from);
  const pid = serverPid();
  const server0 = processCpuMs(pid);
  await until(to);
  const server1 = processCpuMs(pid);
  const outs = await Promise.all(children);
  const results = outs.map((o) => resultOf<InstanceResult>(o));
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
  const serverCpu = server0 !== null && server1 !== null ? server1 - server0 : null;
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
    commandsPerJob: commandsTotal / Math.max(1, unique),
    commandsPerJobByCommand: perJob(commands, unique),
    commandMeanMs: Object.fromEntries(Object.entries(commandMs).map(([k, v]) => [k, r(v / (commands[k] ?? 1), 2)])),
    commandsFailed,
    clientCpuMsPerJob: cpuMs / Math.max(1, unique),
    serverCpuMsPerJob: serverCpu === null ? null : serverCpu / Math.max(1, unique),
    serverCpuShare: serverCpu === null ? null : serverCpu / windowMs,
    perInstance: results.map((x) => {
      const d = latenessSummary(x.lateness);
      return { instance: x.instance, completed: x.completed, started: x.started, p50: d.p50, p99: d.p99, cpuMs: r(x.cpuMs, 0), lateStart: x.lateStart, errors: x.errors, firstError: x.firstError };
    }),
    setupMs,
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

async function main(): Promise<void> {
  if (!URI) {
    console.log('mongo: skipped (MONGODB_URI is not set; e.g. eval "$(bash .ci/ferretdb.sh start)")');
    emitSummary([]);
    return;
  }
  const began = Date.now();
  const client = new MongoClient(URI);
  await client.connect();
  const server: ServerInfo = await serverInfo(client.db('admin'));
  banner(`mongo: ${describeServer(server)}`);
  if (server.kind === 'FerretDB') {
    console.log('  FerretDB scans the collection for every query but a bare _id lookup (no index use), has no change streams and');
    console.log('  its conditional updates are not atomic: these figures say little about MongoDB (docs/performance.md, "MongoDB backend").');
  }

  // 1. Round trips.
  const rtName = dbName('rt');
  const rt = resultOf<RoundTripResult>(await runNode('mongo.ts', ['--child', 'roundtrips', '--db', rtName, '--rt-triggers', String(RT_TRIGGERS), '--rt-period', String(RT_PERIOD), '--rt-window', String(RT_WINDOW)], { echo: true, timeoutMs: RT_WINDOW + 60_000 }));
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

  // The server's ceiling for three round trips per job (no scheduler at all).
  const floorDb = client.db(dbName('floor'));
  const floor = await serverFloor(floorDb, FLOOR_MS, FLOOR_WORKERS);
  await floorDb.dropDatabase().catch(() => undefined);
  console.log(
    `server floor (claim + insert + completion from bare driver calls, ${floor.workers} in parallel, one process): ${r(floor.jobsPerSec, 0)} jobs/s, chain p50 ${floor.chainMs.p50} ms p99 ${floor.chainMs.p99} ms`,
  );

  // 2. Throughput, ours and Agenda alternating.
  const runs: RunResult[] = [];
  const withAgenda = arg('no-agenda') === undefined;
  banner(`throughput: ${PER_INSTANCE} triggers per instance every ${PERIOD} ms (offered ${r((PER_INSTANCE * 1000) / PERIOD, 0)} jobs/s per instance), window ${WINDOW} ms`);
  for (const n of INSTANCES) {
    const ours = await throughputRun(client, 'ours', n, PER_INSTANCE, PERIOD);
    runs.push(ours);
    showRun(ours);
    if (withAgenda) {
      const agenda = await throughputRun(client, 'agenda', n, PER_INSTANCE, PERIOD);
      runs.push(agenda);
      showRun(agenda);
    }
  }


  // 2b. Saturation: one instance offered more than the server can take, so each system's ceiling
  // on this server shows (at the offered rate above both keep up and tie by construction).
  const saturated: RunResult[] = [];
  if (arg('no-saturate') === undefined && SATURATE > 0) {
    banner(`saturation: ${SATURATE} triggers every ${PERIOD} ms, 1 instance (offered ${r((SATURATE * 1000) / PERIOD, 0)} jobs/s), window ${WINDOW} ms`);
    saturated.push(await throughputRun(client, 'ours', 1, SATURATE, PERIOD));
    showRun(saturated[saturated.length - 1]!);
    if (withAgenda) {
      saturated.push(await throughputRun(client, 'agenda', 1, SATURATE, PERIOD));
      showRun(saturated[saturated.length - 1]!);
    }
  }

  // 3. Light load, lateness where neither is saturated.
  const light: RunResult[] = [];
  if (arg('no-light') === undefined && LIGHT > 0) {
    banner(`light load: ${LIGHT} triggers every ${PERIOD} ms, 1 instance, window ${LIGHT_WINDOW} ms`);
    light.push(await throughputRun(client, 'ours', 1, LIGHT, PERIOD, LIGHT_WINDOW));
    showRun(light[light.length - 1]!);
    if (withAgenda) {
      light.push(await throughputRun(client, 'agenda', 1, LIGHT, PERIOD, LIGHT_WINDOW));
      showRun(light[light.length - 1]!);
    }
  }
  await client.close();

  const totalS = (Date.now() - began) / 1000;
  console.log(`\n(mongo benchmark: ${r(totalS, 0)} s)`);
  const rows = summaryRows(server, rt, floor, [...runs, ...saturated], light);
  writeResult('mongo', {
    server,
    uri: URI.replace(/\/\/[^@/]*@/, '//***@'),
    config: { perInstance: PER_INSTANCE, saturate: SATURATE, periodMs: PERIOD, windowMs: WINDOW, warmupMs: WARMUP, concurrency: CONCURRENCY, agenda: AGENDA, light: LIGHT, lightWindowMs: LIGHT_WINDOW, instances: INSTANCES, rt: { triggers: RT_TRIGGERS, periodMs: RT_PERIOD, windowMs: RT_WINDOW } },
    floor,
    roundTrips: { ...rt, perJobByCommand: perJob(rt.fireByCommand, rt.jobsFired), perJobByMethod: perJob(rt.fireByMethod, rt.jobsFired) },
    runs,
    saturated,
    light,
    totalSeconds: totalS,
    rows,
  });
  emitSummary(rows);
}

function summaryRows(server: ServerInfo, rt: RoundTripResult, floor: Awaited<ReturnType<typeof serverFloor>>, runs: RunResult[], light: RunResult[]): SummaryRow[] {
  const where = server.kind === 'FerretDB' ? `FerretDB ${server.ferretdbVersion}` : `MongoDB ${server.version}`;
  const rows: SummaryRow[] = [
    {
      bench: 'mongo',
      metric: `round trips per fired job (${where})`,
      value: `${r(rt.perJobFire, 2)} (${Object.entries(perJob(rt.fireByCommand, rt.jobsFired)).map(([k, v]) => `${k.split(':')[0]} ${v}`).join(', ')})`,
      baseline: `raw ${r(rt.perJobTotal, 2)} incl. poll`,
      ratio: '-',
      target: `<= ${TARGET_RT}`,
      met: rt.perJobFire <= TARGET_RT,
    },
  ];
  if (server.kind === 'FerretDB') {
    // On FerretDB the store makes a job's completion a read by _id plus the fenced write (its
    // conditional updates are not atomic); on MongoDB the completion is the fenced write alone.
    const updatesPerJob = (rt.fireByMethod['jobStore.update'] ?? 0) / rt.jobsFired;
    const mongoPath = rt.perJobFire - updatesPerJob / 2;
    rows.push({
      bench: 'mongo',
      metric: 'round trips per fired job, MongoDB path (derived: FerretDB-only read of each completion removed)',
      value: r(mongoPath, 2).toString(),
      baseline: `${r(rt.perJobFire, 2)} measured on FerretDB`,
      ratio: '-',
      target: `<= ${TARGET_RT}`,
      met: mongoPath <= TARGET_RT,
    });
  }
  for (const ours of runs.filter((x) => x.system === 'ours')) {
    const agenda = runs.find((x) => x.system === 'agenda' && x.instances === ours.instances && x.offeredPerSec === ours.offeredPerSec);
    const ratio = agenda ? ours.jobsPerSec / agenda.jobsPerSec : Number.NaN;
    rows.push({
      bench: 'mongo',
      metric: `jobs/s, ${ours.instances} instance(s), offered ${r(ours.offeredPerSec, 0)}/s`,
      value: `${r(ours.jobsPerSec, 0)}/s (${r(ours.jobsPerSecPerInstance, 0)}/inst.)`,
      baseline: agenda ? `${r(agenda.jobsPerSec, 0)}/s Agenda` : '-',
      ratio: agenda ? (agenda.jobsPerSec > 0 ? `${r(ratio, 2)}x` : 'Agenda completed none') : '-',
      target: `>= ${TARGET_RATIO}x Agenda; >= ${TARGET_PER_INSTANCE}/s/inst.`,
      met: agenda ? ratio >= TARGET_RATIO && ours.jobsPerSecPerInstance >= TARGET_PER_INSTANCE : ours.jobsPerSecPerInstance >= TARGET_PER_INSTANCE,
    });
    rows.push({
      bench: 'mongo',
      metric: `lateness p50 / p99, ${ours.instances} instance(s)`,
      value: `${r(ours.lateness.p50, 1)} / ${r(ours.lateness.p99, 1)} ms`,
      baseline: agenda ? (agenda.lateness.n > 0 ? `${r(agenda.lateness.p50, 1)} / ${r(agenda.lateness.p99, 1)} ms Agenda` : 'Agenda: no samples') : '-',
      ratio: agenda && agenda.lateness.n > 0 ? `p99 ${r(ours.lateness.p99 / agenda.lateness.p99, 2)}x` : '-',
      target: `p99 < ${TARGET_P99} ms, <= Agenda`,
      met: ours.lateness.p99 < TARGET_P99 && (!agenda || agenda.lateness.n === 0 || ours.lateness.p99 <= agenda.lateness.p99),
    });
  }
  const lo = light.find((x) => x.system === 'ours');
  const la = light.find((x) => x.system === 'agenda');
  if (lo) {
    rows.push({
      bench: 'mongo',
      metric: `light load lateness p50 / p99 (${r(lo.offeredPerSec, 0)} jobs/s, 1 inst.)`,
      value: `${r(lo.lateness.p50, 1)} / ${r(lo.lateness.p99, 1)} ms`,
      baseline: la ? `${r(la.lateness.p50, 1)} / ${r(la.lateness.p99, 1)} ms Agenda` : '-',
      ratio: la ? `p99 ${r(lo.lateness.p99 / la.lateness.p99, 2)}x` : '-',
      target: `p99 < ${TARGET_P99} ms, <= Agenda`,
      met: lo.lateness.p99 < TARGET_P99 && (!la || lo.lateness.p99 <= la.lateness.p99),
    });
  }
  rows.push({
    bench: 'mongo',
    metric: 'server floor: bare claim + insert + completion',
    value: `${r(floor.jobsPerSec, 0)} jobs/s (${floor.workers} in parallel)`,
    baseline: '-',
    ratio: '-',
    target: '-',
    met: null,
  });
  // Only our scheduler's early fires fail `npm run bench`; Agenda's are reported in the JSON.
  const early = [...runs, ...light].filter((x) => x.system === 'ours').reduce((a, x) => a + x.early, 0);
  rows.push({ bench: 'mongo', metric: 'early fires', value: String(early), baseline: '-', ratio: '-', target: '0', met: early === 0 });
  return rows;
}

const childKind = arg('child');
if (childKind === 'roundtrips') await roundTripChild();
else if (childKind === 'ours') await oursChild();
else if (childKind === 'agenda') await agendaChild();
else await main();
