/**
 * The concurrent-jobs phase of `bench/mongo.ts`: N one-shot jobs due at one instant, each handler
 * sleeping `workMs` (12 s) without looking at its signal, as much real code does, spread over 3
 * instance *processes*; ours and Agenda on the same server in the same run.
 *
 * The parent creates the jobs (ours: N `at` triggers; Agenda: N `schedule`d jobs of one name) due at
 * the slot, starts the instance processes, and follows them live: each process prints one line per
 * handler start (`s <key> <lateness>`), handler return (`r <key>`), success (`e <key> <epoch ms>`),
 * failure (`f <key>`) and lost lease (`l`). The run ends when every job has succeeded and no handler
 * is still running, or at the deadline (slot + `deadlineMs`), whichever comes first; then each
 * process reports its CPU and driver commands (counted from the slot) and exits.
 *
 * Figures: lease:lost events (ours; Agenda has no such event: its lock simply expires after
 * `lockLifetime`, 10 min by default, and another instance may run the job again, which shows as a
 * double run), double runs (handler starts of a job beyond its first), slot → last success, start
 * lateness p50/p99 (first start of each job − the slot), jobs still unfinished at the end, driver
 * commands and server CPU per job. Benchmarks only: nothing asserts a timing.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MongoClient, type Db } from 'mongodb';
import { Agenda, type Job as AgendaJob } from 'agenda';
import { MongoBackend } from '@agendajs/mongo-backend';
import { createMongoBackend, Scheduler } from './pkg.js';
import { CHILD_FLAGS, report } from './child.js';
import { arg, calibrateEpoch, epochNow, keepAlive, numArg, r, sleep } from './lib.js';
import { CommandCounter, instrument, latenessSummary, sumCounts, type StoreProbe } from './mongo-lib.js';
import { ServerCpu, type ServerCpuSample } from './server-cpu.js';

/** How one concurrent-jobs run is shaped. */
export interface ConcurrentConfig {
  /** Jobs due at the slot. */
  jobs: number;
  /** Instance processes. */
  instances: number;
  /** Handler sleep (ms). */
  workMs: number;
  /** Ours: `leaseMs` (null: the scheduler's default). */
  leaseMs: number | null;
  /** The run ends at slot + this, finished or not. */
  deadlineMs: number;
}

/** What one concurrent-jobs run measured. */
export interface ConcurrentResult {
  system: 'ours' | 'agenda';
  /** Jobs asked for. */
  requested: number;
  /** Jobs due at the slot (created in time: see the setup's bound). */
  jobs: number;
  instances: number;
  concurrencyPerInstance: number;
  leaseMs: number | null;
  workMs: number;
  deadlineMs: number;
  /** Jobs that succeeded at least once. */
  succeeded: number;
  /** Jobs not succeeded when the run ended (deadline). */
  unfinished: number;
  /** Handler starts of a job beyond its first. */
  doubleRuns: number;
  /** `lease:lost` events (null for Agenda, which has none). */
  leaseLost: number | null;
  failed: number;
  /** Slot → last first-success (ms); null when not every job succeeded. */
  lastFinishMs: number | null;
  /** Slot → the end of the run (all done, or the deadline). */
  endedAfterMs: number;
  /** Jobs per second from the slot to the last success (succeeded / lastFinishMs). */
  completionsPerSec: number;
  /** First start of each job − the slot (ms). */
  lateness: ReturnType<typeof latenessSummary>;
  /** Jobs started at least once. */
  started: number;
  /** Driver commands of all instances from the slot to the end / jobs succeeded (NaN when none did). */
  commandsPerJob: number;
  commandsByCommand: Record<string, number>;
  /** Commands per job succeeded, by `<store method> <command>` (ours; empty for Agenda). */
  commandsByMethod: Record<string, number>;
  clientCpuMs: number;
  serverCpu: ServerCpuSample;
  serverCpuMsPerJob: number | null;
  errors: number;
  firstError: string | null;
  setupMs: number;
  /** The slot passed before the jobs were all created (ms; 0 when on time). */
  setupOverrunMs: number;
  /** Processes that were not ready at the slot. */
  lateInstances: number;
}

/** Concurrency per instance: room for all jobs with 50 % to spare (the issue's 1,200 → 600 each). */
export function concurrencyFor(jobs: number, instances: number): number {
  return Math.ceil((jobs * 1.5) / instances);
}

// ─── Setup (parent) ────────────────────────────────────────────────────────────────────────────

/** `make(0..n-1)`, `batch` at a time; no new batch after `stopAt`. Returns how many were made. */
async function inBatches(n: number, batch: number, stopAt: number, make: (i: number) => Promise<unknown>): Promise<number> {
  let start = 0;
  for (; start < n && Date.now() < stopAt; start += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - start) }, (_, k) => make(start + k)));
  }
  return Math.min(start, n);
}

/**
 * Create `n` jobs due at `slot` through each system's public API (after the collections and
 * indexes), none started after `stopAt`. Returns how many, and how long the preparation and the
 * creation took (ms).
 */
async function setupJobs(system: 'ours' | 'agenda', db: Db, n: number, slot: number, stopAt: number): Promise<{ created: number; prepareMs: number; createMs: number }> {
  const began = Date.now();
  if (system === 'ours') {
    const backend = createMongoBackend({ db });
    await backend.ensureIndexes();
    const scheduler = new Scheduler({ ...backend });
    scheduler.register('sleep', async () => undefined);
    const t0 = Date.now();
    const created = await inBatches(n, 200, stopAt, (i) => scheduler.addTrigger({ id: `c-${i}`, handler: 'sleep', schedule: { at: new Date(slot) } }));
    return { created, prepareMs: t0 - began, createMs: Date.now() - t0 };
  }
  const agenda = new Agenda({ backend: new MongoBackend({ mongo: db }) });
  await agenda.ready;
  const t0 = Date.now();
  const created = await inBatches(n, 200, stopAt, (i) => agenda.create('sleep', { i }).schedule(new Date(slot)).save());
  return { created, prepareMs: t0 - began, createMs: Date.now() - t0 };
}

/** Setup time on this server now: 400 jobs (two batches) into a scratch database. */
async function setupProbe(client: MongoClient, system: 'ours' | 'agenda'): Promise<{ prepareMs: number; perJobMs: number }> {
  const db = client.db(`bench_conc_probe_${randomBytes(3).toString('hex')}`);
  try {
    const { prepareMs, createMs } = await setupJobs(system, db, 400, Date.now() + 3_600_000, Number.POSITIVE_INFINITY);
    return { prepareMs, perJobMs: createMs / 400 };
  } finally {
    await db.dropDatabase().catch(() => undefined);
  }
}

// ─── One run (parent) ──────────────────────────────────────────────────────────────────────────

interface ChildReport {
  cpuMs: number;
  commandsTotal: number;
  commands: Record<string, number>;
  /** Commands by the store method that issued them (`trigger.claimSlots` → `update:…` → n); ours only. */
  byMethod: Record<string, Record<string, number>>;
  errors: number;
  firstError: string | null;
}

/** Run one configuration: setup, instance processes, follow them, merge. */
export async function concurrentRun(client: MongoClient, uri: string, system: 'ours' | 'agenda', config: ConcurrentConfig, serverCpu: ServerCpu): Promise<ConcurrentResult> {
  const name = `bench_conc_${system}_${config.jobs}_${randomBytes(3).toString('hex')}`;
  const db = client.db(name);
  const conc = concurrencyFor(config.jobs, config.instances);
  const probe = await setupProbe(client, system);
  let slot = Number.POSITIVE_INFINITY;
  const starts = new Map<string, number>();
  const lateness: number[] = [];
  const succeeded = new Set<string>();
  let lastSuccess = 0;
  let running = 0;
  let leaseLost = 0;
  let failed = 0;
  let ready = 0;
  let ended = false;
  const reports: ChildReport[] = [];
  const script = fileURLToPath(import.meta.url);
  const children = Array.from({ length: config.instances }, (_, i) => {
    const args = ['--child', system, '--db', name, '--instance', String(i), '--work', String(config.workMs), '--conc', String(conc)];
    if (config.leaseMs !== null) args.push('--lease', String(config.leaseMs));
    const child = spawn(process.execPath, [...CHILD_FLAGS, script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, MONGODB_URI: uri } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [kind, key = '', value] = line.split(' ');
      // What happens after the end (the processes are being stopped) is not measured.
      if (ended && kind !== 'RESULT') return;
      if (kind === 's') {
        starts.set(key, (starts.get(key) ?? 0) + 1);
        if (starts.get(key) === 1) lateness.push(Number(value) - slot);
        running += 1;
      } else if (kind === 'r') running -= 1;
      else if (kind === 'e') {
        if (!succeeded.has(key)) lastSuccess = Math.max(lastSuccess, Number(value));
        succeeded.add(key);
      } else if (kind === 'f') failed += 1;
      else if (kind === 'l') leaseLost += 1;
      else if (kind === 'ready') ready += 1;
      else if (kind === 'RESULT') reports.push(JSON.parse(line.slice('RESULT '.length)) as ChildReport);
    });
    return { child, exited, stderr: () => stderr };
  });

  try {
    // The processes boot first (several seconds on a busy host), then the slot is set: room for the
    // setup with a third of it to spare, plus a poll interval for the instances to see the new jobs.
    const bootDeadline = Date.now() + 60_000;
    let exited = 0;
    for (const c of children) void c.exited.then(() => (exited += 1));
    while (ready + exited < config.instances && Date.now() < bootDeadline) await sleep(100);
    const setupStart = Date.now();
    // At most 90 s ahead: a probe on a starved host can overestimate, and the wait is idle time.
    slot = setupStart + Math.min(90_000, Math.ceil((probe.prepareMs + config.jobs * probe.perJobMs) * 1.3) + 2000);
    const deadline = slot + config.deadlineMs;
    for (const c of children) c.child.stdin.write(`slot ${slot}\n`);
    // Bounded too: past the slot + 10 s no more jobs are created, and the run counts those that were.
    const { created } = await setupJobs(system, db, config.jobs, slot, slot + 10_000);
    if (created < config.jobs) console.warn(`  ! only ${created} of ${config.jobs} jobs were created by 10 s after the slot: the run measures those`);
    const setupMs = Date.now() - setupStart;
    const setupOverrunMs = Math.max(0, Date.now() - slot);
    if (setupOverrunMs > 0) console.warn(`  ! setup ran ${setupOverrunMs} ms past the slot: lateness includes it`);
    while (Date.now() < slot) await sleep(Math.min(50, slot - Date.now()));
    const lateInstances = config.instances - ready;
    const cpu0 = serverCpu.sample();
    while (Date.now() < deadline && !(succeeded.size >= created && running <= 0)) await sleep(200);
    const cpu1 = serverCpu.sample();
    const endedAt = Date.now();
    ended = true;
    for (const c of children) c.child.stdin.end('stop\n');
    // Each process reports and exits at once; a stuck one is killed after 10 s.
    await Promise.all(
      children.map(async (c) => {
        const timer = setTimeout(() => c.child.kill('SIGKILL'), 10_000);
        const code = await c.exited;
        clearTimeout(timer);
        if (code !== 0) console.warn(`  ! ${system} instance exited with ${code}: ${c.stderr().split('\n').slice(-5).join(' | ')}`);
      }),
    );
    let doubleRuns = 0;
    for (const count of starts.values()) doubleRuns += count - 1;
    const commands = sumCounts(reports.map((x) => x.commands));
    const byMethod: Record<string, number> = {};
    for (const x of reports) for (const [method, counts] of Object.entries(x.byMethod)) for (const [command, n] of Object.entries(counts)) byMethod[`${method} ${command}`] = (byMethod[`${method} ${command}`] ?? 0) + n;
    const commandsTotal = reports.reduce((a, x) => a + x.commandsTotal, 0);
    const serverCpuDelta = ServerCpu.delta(cpu0, cpu1);
    const done = succeeded.size >= created;
    const lastFinishMs = done ? lastSuccess - slot : null;
    const span = (done ? lastSuccess : endedAt) - slot;
    return {
      system,
      requested: config.jobs,
      jobs: created,
      instances: config.instances,
      concurrencyPerInstance: conc,
      leaseMs: system === 'ours' ? config.leaseMs : null,
      workMs: config.workMs,
      deadlineMs: config.deadlineMs,
      succeeded: succeeded.size,
      unfinished: created - succeeded.size,
      doubleRuns,
      leaseLost: system === 'ours' ? leaseLost : null,
      failed,
      lastFinishMs,
      endedAfterMs: endedAt - slot,
      completionsPerSec: span > 0 ? succeeded.size / (span / 1000) : 0,
      lateness: latenessSummary(lateness),
      started: starts.size,
      commandsPerJob: succeeded.size > 0 ? commandsTotal / succeeded.size : Number.NaN,
      commandsByCommand: Object.fromEntries(Object.entries(commands).map(([k, v]) => [k, r(v / Math.max(1, succeeded.size), 3)])),
      commandsByMethod: Object.fromEntries(Object.entries(byMethod).map(([k, v]) => [k, r(v / Math.max(1, succeeded.size), 3)])),
      clientCpuMs: reports.reduce((a, x) => a + x.cpuMs, 0),
      serverCpu: serverCpuDelta,
      serverCpuMsPerJob: serverCpuDelta.totalMs === null || succeeded.size === 0 ? null : serverCpuDelta.totalMs / succeeded.size,
      errors: reports.reduce((a, x) => a + x.errors, 0),
      firstError: reports.find((x) => x.firstError !== null)?.firstError ?? null,
      setupMs,
      setupOverrunMs,
      lateInstances,
    };
  } finally {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    // A moment for the killed processes' last requests to drain before the database goes.
    await sleep(500);
    await db.dropDatabase().catch(() => undefined);
  }
}

/** One line per run, for the console. */
export function showConcurrent(x: ConcurrentResult): void {
  const finish = x.lastFinishMs === null ? `${x.unfinished} of ${x.jobs} unfinished after ${r(x.endedAfterMs / 1000, 1)} s` : `last done ${r(x.lastFinishMs / 1000, 1)} s after the slot`;
  const server = x.serverCpuMsPerJob === null ? `server CPU ${x.serverCpu.totalMs === null ? 'n/a' : `${r(x.serverCpu.totalMs / 1000, 1)} s, no job done`}` : `server CPU ${r(x.serverCpuMsPerJob, 2)} ms/job`;
  console.log(
    `${x.system.padEnd(6)} ${x.jobs} × ${r(x.workMs / 1000, 1)} s on ${x.instances} processes (concurrency ${x.concurrencyPerInstance} each${x.system === 'ours' ? `, leaseMs ${x.leaseMs ?? 'default'}` : ''}): ` +
      `${finish}; lease:lost ${x.leaseLost ?? 'n/a'}, double runs ${x.doubleRuns}, failed ${x.failed}; start lateness p50 ${r(x.lateness.p50, 0)} ms p99 ${r(x.lateness.p99, 0)} ms (n=${x.lateness.n}); ` +
      `${r(x.completionsPerSec, 1)} jobs/s, ${Number.isNaN(x.commandsPerJob) ? 'n/a' : r(x.commandsPerJob, 2)} commands/job, ${server}${x.errors ? `; ${x.errors} errors (${x.firstError})` : ''}${x.lateInstances ? `; ${x.lateInstances} process(es) not ready at the slot` : ''}`,
  );
}

// ─── Instance process (child) ──────────────────────────────────────────────────────────────────

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function child(system: 'ours' | 'agenda'): Promise<void> {
  const release = keepAlive();
  const offset = calibrateEpoch();
  const workMs = numArg('work', 12_000);
  const conc = numArg('conc', 100);
  const lease = arg('lease');
  // Each process's driver pool is bounded (`BENCH_MONGO_CONC_MAX_POOL`, default 40): three
  // processes of the driver's default 100 hold more connections than FerretDB's PostgreSQL pool
  // (`pool_max_conns`, 150 in docs/performance.md), and FerretDB v1 can then deadlock for good.
  const maxPoolSize = Number(process.env['BENCH_MONGO_CONC_MAX_POOL'] ?? 40);
  const client = new MongoClient(process.env['MONGODB_URI']!, { monitorCommands: true, ...(maxPoolSize > 0 ? { maxPoolSize } : {}) });
  await client.connect();
  const counter = new CommandCounter(client);
  const db = client.db(arg('db'));
  let errors = 0;
  let firstError: string | null = null;
  const onError = (e: Error): void => {
    errors += 1;
    firstError ??= e.message;
  };
  let stop: () => Promise<void>;
  if (system === 'ours') {
    const backend = createMongoBackend({ client, dbName: arg('db')! });
    // Every command attributed to the store method that issued it (counted from the slot on).
    const probe: StoreProbe = { calls: {}, counting: () => counter.on, active: 0, tracked: () => false };
    const stores = { triggerStore: instrument(backend.triggerStore, 'trigger', probe), jobStore: instrument(backend.jobStore, 'job', probe), lockManager: instrument(backend.lockManager, 'lock', probe) };
    const scheduler = new Scheduler({ ...stores, instanceId: `conc-${numArg('instance', 0)}`, concurrency: conc, ...(lease ? { leaseMs: Number(lease) } : {}) });
    scheduler.register('sleep', async (ctx) => {
      say(`s ${ctx.job.triggerId} ${epochNow(offset)}`);
      // Ignores ctx.signal on purpose (see the file comment).
      await sleep(workMs);
      say(`r ${ctx.job.triggerId}`);
    });
    scheduler.on('job:succeeded', (job) => say(`e ${job.triggerId} ${epochNow(offset)}`));
    scheduler.on('job:failed', (job) => say(`f ${job.triggerId}`));
    scheduler.on('lease:lost', () => say('l'));
    scheduler.on('error', onError);
    await scheduler.start();
    stop = () => scheduler.stop({ graceful: false });
  } else {
    const agenda = new Agenda({
      backend: new MongoBackend({ mongo: db }),
      name: `agenda-conc-${numArg('instance', 0)}`,
      processEvery: 1000,
      maxConcurrency: conc,
      defaultConcurrency: conc,
      lockLimit: 0,
      defaultLockLimit: 0,
    });
    await agenda.ready;
    const keyOf = (job: AgendaJob): string => String((job.attrs.data as { i?: number } | undefined)?.i ?? job.attrs._id);
    agenda.define('sleep', async (job: AgendaJob) => {
      say(`s ${keyOf(job)} ${epochNow(offset)}`);
      await sleep(workMs);
      say(`r ${keyOf(job)}`);
    });
    agenda.on('success', (job: AgendaJob) => say(`e ${keyOf(job)} ${epochNow(offset)}`));
    agenda.on('fail', (_error: Error, job: AgendaJob) => say(`f ${keyOf(job)}`));
    agenda.on('error', onError);
    await agenda.start();
    stop = () => agenda.stop(false);
  }
  // The parent says `slot <ms>` (commands and CPU count from then on) and later `stop`; stdin
  // closing (the parent went away) stops too.
  let cpu0 = process.cpuUsage();
  let counting: ReturnType<typeof setTimeout> | null = null;
  const stopped = new Promise<void>((resolve) => {
    createInterface({ input: process.stdin }).on('line', (line) => {
      const [word, value] = line.split(' ');
      if (word === 'slot') {
        counting = setTimeout(() => {
          counter.on = true;
          cpu0 = process.cpuUsage();
        }, Math.max(0, Number(value) - Date.now()));
      } else if (word === 'stop') resolve();
    });
    process.stdin.on('end', () => resolve());
  });
  say('ready');
  await stopped;
  if (counting !== null) clearTimeout(counting);
  counter.on = false;
  const cpu = process.cpuUsage(cpu0);
  report({ cpuMs: (cpu.user + cpu.system) / 1000, commandsTotal: counter.total, commands: counter.byCommand, byMethod: system === 'ours' ? counter.byMethod : {}, errors, firstError } satisfies ChildReport);
  // Handlers still sleeping are abandoned: the database is dropped next.
  await Promise.race([stop(), sleep(1500)]).catch(() => undefined);
  await Promise.race([client.close(true), sleep(500)]).catch(() => undefined);
  release();
  process.exit(0);
}

// Run as an instance process only when this file is the entry point (bench/mongo.ts imports it).
const kind = arg('child');
if (process.argv[1] === fileURLToPath(import.meta.url) && (kind === 'ours' || kind === 'agenda')) await child(kind);
