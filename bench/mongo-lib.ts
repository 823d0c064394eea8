/**
 * Helpers of the MongoDB benchmark (`bench/mongo.ts`): driver command counting (command monitoring,
 * optionally attributed to the store method that issued the command), server identification,
 * store instrumentation, per-instance window recorders and the child result shape.
 * Benchmarks only: nothing here asserts a timing.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CommandStartedEvent, Db, Document, MongoClient, UpdateFilter } from 'mongodb';
import { dist, sleep, type Dist } from './lib.js';

/** Which server answered: FerretDB or MongoDB, and its version strings. */
export interface ServerInfo {
  kind: 'FerretDB' | 'MongoDB';
  /** `buildInfo.version` (FerretDB reports the MongoDB version it imitates). */
  version: string;
  /** FerretDB's own version, when it is FerretDB. */
  ferretdbVersion: string | null;
  /** FerretDB's backend (`sqlite`, `postgresql`), when it says. */
  backend: string | null;
}

/** Ask the server who it is (`buildInfo`). */
export async function serverInfo(db: Db): Promise<ServerInfo> {
  const info = await db.command({ buildInfo: 1 });
  const ferret = typeof info['ferretdbVersion'] === 'string' ? info['ferretdbVersion'] : null;
  const features = info['ferretdbFeatures'] as Record<string, unknown> | undefined;
  const handler = features && typeof features['handler'] === 'string' ? features['handler'] : null;
  return { kind: ferret ? 'FerretDB' : 'MongoDB', version: String(info['version']), ferretdbVersion: ferret, backend: handler };
}

/** A one-line description of the server, for tables. */
export function describeServer(s: ServerInfo): string {
  return s.kind === 'FerretDB' ? `FerretDB ${s.ferretdbVersion}${s.backend ? ` (${s.backend})` : ''}, wire version of MongoDB ${s.version}` : `MongoDB ${s.version}`;
}

/** Command name plus the collection it addresses (`findAndModify:scheduler_jobs`), or just the name. */
export function commandKey(event: CommandStartedEvent): string {
  const target: unknown = event.command[event.commandName];
  return typeof target === 'string' ? `${event.commandName}:${target}` : event.commandName;
}

/** Store method in whose async context a driver command was issued (see {@link instrument}). */
export const storeContext = new AsyncLocalStorage<string>();

/**
 * Counts `commandStarted` events of one client while switched on, by command (+ collection) and,
 * when the command was issued inside an instrumented store method, by that method too.
 */
export class CommandCounter {
  on = false;
  total = 0;
  readonly byCommand: Record<string, number> = {};
  /** `method → command → count`; commands issued outside any instrumented method go under `(none)`. */
  readonly byMethod: Record<string, Record<string, number>> = {};
  /** Summed round-trip time (driver-measured `duration`, ms) of the commands counted, by command. */
  readonly msByCommand: Record<string, number> = {};
  /** Commands that failed (server error or network), by command. */
  readonly failedByCommand: Record<string, number> = {};
  readonly #pending = new Map<number, string>();

  constructor(client: MongoClient) {
    client.on('commandStarted', (event) => {
      if (!this.on) return;
      const key = commandKey(event);
      this.total += 1;
      this.byCommand[key] = (this.byCommand[key] ?? 0) + 1;
      const method = storeContext.getStore() ?? '(none)';
      const m = (this.byMethod[method] ??= {});
      m[key] = (m[key] ?? 0) + 1;
      this.#pending.set(event.requestId, key);
    });
    const settle = (requestId: number, duration: number, failed: boolean): void => {
      const key = this.#pending.get(requestId);
      if (key === undefined) return;
      this.#pending.delete(requestId);
      this.msByCommand[key] = (this.msByCommand[key] ?? 0) + duration;
      if (failed) this.failedByCommand[key] = (this.failedByCommand[key] ?? 0) + 1;
    };
    client.on('commandSucceeded', (event) => settle(event.requestId, event.duration, false));
    client.on('commandFailed', (event) => settle(event.requestId, event.duration, true));
  }

  /** Mean round-trip time per command (ms), for the commands that completed. */
  meanMs(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, ms] of Object.entries(this.msByCommand)) out[key] = Math.round((ms / (this.byCommand[key] ?? 1)) * 100) / 100;
    return out;
  }
}

/** What {@link instrument} records: calls per method while counting, and calls in progress. */
export interface StoreProbe {
  /** `<label>.<method>` → calls made while `counting()` was true. */
  calls: Record<string, number>;
  counting(): boolean;
  /** Calls in progress of the methods `tracked()` accepts (to find quiet moments). */
  active: number;
  tracked(name: string): boolean;
  /** Called with each settled call's arguments and result (optional). */
  settled?(name: string, args: unknown[], result: unknown): void;
}

/**
 * Wrap every method of a store object so that driver commands it issues are attributed to
 * `<label>.<method>`, its calls are counted while `probe.counting()` is true, and calls in progress
 * are tracked. Returns a proxy; the original object is untouched.
 */
export function instrument<T extends object>(store: T, label: string, probe: StoreProbe): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
      const name = `${label}.${property}`;
      const tracked = probe.tracked(name);
      return (...args: unknown[]) => {
        if (probe.counting()) probe.calls[name] = (probe.calls[name] ?? 0) + 1;
        if (!tracked) return storeContext.run(name, () => (value as (...a: unknown[]) => unknown).apply(target, args));
        probe.active += 1;
        const settle = (): void => {
          probe.active -= 1;
        };
        try {
          const out = storeContext.run(name, () => (value as (...a: unknown[]) => unknown).apply(target, args));
          if (out instanceof Promise) {
            return out.then(
              (result: unknown) => {
                settle();
                probe.settled?.(name, args, result);
                return result;
              },
              (error: unknown) => {
                settle();
                throw error;
              },
            );
          }
          settle();
          return out;
        } catch (error) {
          settle();
          throw error;
        }
      };
    },
  });
}

/** What one instance (child process) of a throughput run reports. */
export interface InstanceResult {
  system: 'ours' | 'agenda';
  instance: number;
  /** Handler starts inside the window. */
  started: number;
  /** Completions (final write acknowledged / Agenda `complete`) inside the window. */
  completed: number;
  /** Handler start − scheduled time (ms) of every start inside the window. */
  lateness: number[];
  /** Starts before their scheduled time (a bug in either system). */
  early: number;
  /** Slot identities started inside the window (to find duplicates across instances). */
  keys: string[];
  /** Driver commands issued inside the window, by command:collection. */
  commands: Record<string, number>;
  /** Summed driver-measured round-trip time of those commands (ms), by command:collection. */
  commandMs: Record<string, number>;
  /** Those that failed, by command:collection. */
  commandsFailed: Record<string, number>;
  commandsTotal: number;
  /**
   * Completions while the commands and the CPU were counted (from the moment the window's timer
   * fired to the moment its end's did: on a starved host these can be late, so per-job figures
   * divide by these rather than by `completed`).
   */
  countedCompleted: number;
  /** How long the counting lasted (ms). */
  countedMs: number;
  /** Process CPU time inside the window, ms. */
  cpuMs: number;
  errors: number;
  firstError: string | null;
  /** The instance started after the first slot (its process booted too slowly). */
  lateStart: boolean;
  windowMs: number;
}

/** Sleep until an epoch instant (ms). */
export async function until(epochMs: number): Promise<void> {
  for (;;) {
    const left = epochMs - Date.now();
    if (left <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(left, 1000)));
  }
}

/** Lateness distribution rounded for reports. */
export function latenessSummary(values: number[]): Dist {
  const d = dist(values);
  const round = (v: number): number => Math.round(v * 100) / 100;
  return { n: d.n, min: round(d.min), p50: round(d.p50), p90: round(d.p90), p99: round(d.p99), max: round(d.max), mean: round(d.mean) };
}

/** Sum a list of `name → count` records. */
export function sumCounts(records: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const rec of records) for (const [k, v] of Object.entries(rec)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Divide every count by `n` (rounded to 3 digits), sorted by value descending. */
export function perJob(counts: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, n > 0 ? Math.round((v / n) * 1000) / 1000 : Number.NaN]),
  );
}

/**
 * The server's own ceiling for any scheduler that makes three round trips per job: `workers`
 * loops, each doing what one fire does (a conditional findOneAndUpdate on one of `triggers` small
 * documents, an insert into a collection with a unique key, a findOneAndUpdate of that document by
 * `_id`), for `ms`. Returns jobs/s and the latency of one such 3-command chain.
 *
 * On a server whose updates scan the collection (FerretDB v1), what an update costs grows with
 * the documents' size and count: `shaped` documents and a `warmup` (the chains run that long
 * before the measured `ms`, as a scheduler's phase has its warm-up, so the jobs collection has
 * grown alike; `atWindowStart` is called when counting starts) make a floor on the same terms as a
 * saturation phase with `triggers` triggers. With `share`, several processes run it on one database
 * at once (ids prefixed, chains started at `startAt`): the floor of n instance processes.
 */
export async function serverFloor(
  db: Db,
  ms: number,
  workers: number,
  triggers = 100,
  shaped = false,
  warmup: { ms: number; atWindowStart: () => void } | null = null,
  share: { prefix: string; startAt: number } | null = null,
): Promise<{ jobsPerSec: number; chainMs: Dist; workers: number; shaped: boolean; triggers: number; warmupMs: number }> {
  const t = db.collection<{ _id: string; v: number; nextRunAt: Date }>('floor_triggers');
  const j = db.collection<{ _id: string; key: string; status: string; history: unknown[] }>('floor_jobs');
  await j.createIndex({ key: 1 }, { unique: true });
  // Shaped: the documents carry every field the scheduler's trigger and job documents carry, with
  // values of the same kinds and sizes (a job ends with three history entries), so the server
  // reads and writes as many bytes per call as it does for the scheduler; the calls are the same.
  const at = new Date();
  const triggerFields = shaped ? shapedTrigger(at) : {};
  const jobFields = shaped ? shapedJob(at) : {};
  // Shared with other processes (`share`): ids of its own in the same collections, and the chains
  // start at one instant in every process.
  const prefix = share?.prefix ?? '';
  await t.insertMany(Array.from({ length: triggers }, (_, i) => ({ _id: `${prefix}t-${i}`, v: 0, nextRunAt: new Date(), ...triggerFields })));
  if (share !== null) await until(share.startAt);
  const version = new Array<number>(triggers).fill(0);
  const chains: number[] = [];
  let done = 0;
  let seq = 0;
  // With a warm-up, chains run from now on but count only from its end: the collections have
  // grown by then as a scheduler's do before its measured window.
  const warmupMs = warmup?.ms ?? 0;
  const countFrom = Date.now() + warmupMs;
  const end = countFrom + ms;
  const windowTimer = warmup === null ? null : setTimeout(warmup.atWindowStart, warmupMs);
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let k = w; Date.now() < end; k += workers) {
        const i = k % triggers;
        const t0 = performance.now();
        const claimed = await t.findOneAndUpdate({ _id: `${prefix}t-${i}`, v: version[i]! }, { $set: { nextRunAt: new Date() }, $inc: { v: 1 } }, { returnDocument: 'after' });
        version[i] = claimed?.v ?? version[i]! + 1;
        const id = `${prefix}j-${seq++}`;
        const job = { ...jobFields, _id: id, key: `k-${id}`, status: 'running', history: [...(shaped ? SHAPED_HISTORY : []), { status: 'running', at: new Date() }] };
        await j.insertOne(job);
        const end = shaped ? { finishedAt: new Date(), lease: null } : {};
        const entry: Document = shaped ? { status: 'succeeded', at: new Date(), instanceId: INSTANCE, reason: 'attempt 1 succeeded' } : { status: 'succeeded', at: new Date() };
        const ending = { $set: { ...end, status: 'succeeded' }, $push: { history: entry } } as UpdateFilter<{ _id: string; key: string; status: string; history: unknown[] }>;
        await j.findOneAndUpdate({ _id: id, status: 'running' }, ending, { returnDocument: 'after' });
        if (Date.now() < countFrom) continue;
        chains.push(performance.now() - t0);
        done += 1;
      }
    }),
  );
  if (windowTimer !== null) clearTimeout(windowTimer);
  return { jobsPerSec: done / (ms / 1000), chainMs: latenessSummary(chains), workers, shaped, triggers, warmupMs };
}

/** What the concurrent phase's floor measured (see {@link concurrentFloor}). */
export interface ConcurrentFloor {
  jobs: number;
  workMs: number;
  /** Slot → the last end answered (ms). */
  lastDoneMs: number;
  /** Slot → each job's start (its insert answered), ms. */
  startLateness: Dist;
  /** Each end's round trip (ms), all landing within the spread of the starts. */
  endMs: Dist;
}

/**
 * The server's own floor for the concurrent phase: `jobs` triggers shaped as the scheduler's, due
 * at one slot `leadMs` ahead. At the slot every trigger is claimed (a conditional update by `_id`,
 * as the scheduler claims on a server without multi-statement updates), the claimed jobs inserted
 * `batch` at a time (one `insertMany` each, as the scheduler inserts a turn's jobs; `lanes` batches
 * in flight), and each job
 * ended `workMs` after its start (a conditional update with a history entry, as the scheduler's
 * fenced end). Bare driver calls from one process, no polls, leases or events: slot → last end is
 * the least time this server takes for the phase, whatever a scheduler does.
 */
export async function concurrentFloor(db: Db, jobs: number, workMs: number, lanes = 3, batch = 100, leadMs = 2000): Promise<ConcurrentFloor> {
  const t = db.collection<{ _id: string; version: number; nextRunAt: Date | null }>('floor_triggers');
  const j = db.collection<{ _id: string; key: string; status: string; fence: number; history: unknown[] }>('floor_jobs');
  await j.createIndex({ key: 1 }, { unique: true });
  const created = new Date();
  const slot = new Date(Date.now() + leadMs);
  const triggerFields = { ...shapedTrigger(created), schedule: { kind: 'at', at: slot } };
  const jobFields = shapedJob(slot);
  for (let i = 0; i < jobs; i += 500) {
    await t.insertMany(Array.from({ length: Math.min(500, jobs - i) }, (_, k) => ({ ...triggerFields, _id: `t-${i + k}`, version: 0, nextRunAt: slot })));
  }
  await until(slot.getTime());
  const starts: number[] = [];
  const ends: number[] = [];
  let lastDone = 0;
  const end = async (i: number): Promise<void> => {
    const t0 = performance.now();
    const at = new Date();
    const entry = { status: 'succeeded', at, instanceId: INSTANCE, reason: 'attempt 1 succeeded' };
    const metrics = { queuedMs: 6, durationMs: workMs, cpuUserMs: 0, cpuSystemMs: 0, heapUsedBytes: 0, threadWaitMs: 0 };
    await j.updateOne({ _id: `j-${i}`, status: 'running', fence: 1 }, { $set: { status: 'succeeded', finishedAt: at, lease: null, result: null, metrics }, $push: { history: entry } });
    ends.push(performance.now() - t0);
    lastDone = Math.max(lastDone, Date.now() - slot.getTime());
  };
  // Claims and inserts go `batch` at a time, `lanes` batches in flight (as `lanes` instances take
  // turns): sent all at once, every batch's claims would share the server and all start last.
  const ending: Array<Promise<void>> = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let from = (next++) * batch; from < jobs; from = (next++) * batch) {
      const chunk = Array.from({ length: Math.min(batch, jobs - from) }, (_, k) => from + k);
      const claimed = await Promise.all(
        chunk.map(async (i) => {
          const claim = { $set: { nextRunAt: null, lastRunAt: slot, status: 'completed', updatedAt: new Date() }, $inc: { version: 1 } };
          return (await t.updateOne({ _id: `t-${i}`, status: 'active', nextRunAt: slot, version: 0 }, claim)).matchedCount === 1;
        }),
      );
      const won = chunk.filter((_, k) => claimed[k]);
      const now = new Date();
      const history = [...SHAPED_HISTORY, { status: 'running', at: now, instanceId: INSTANCE, reason: 'attempt 1' }];
      await j.insertMany(
        won.map((i) => ({ ...jobFields, _id: `j-${i}`, key: `slot:t-${i}:${slot.getTime()}`, triggerId: `t-${i}`, status: 'running', fence: 1, startedAt: now, history })),
        { ordered: false },
      );
      const started = Date.now();
      for (const _ of won) starts.push(started - slot.getTime());
      ending.push(sleep(workMs).then(() => Promise.all(won.map(end))).then(() => undefined));
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  await Promise.all(ending);
  return { jobs, workMs, lastDoneMs: lastDone, startLateness: latenessSummary(starts), endMs: latenessSummary(ends) };
}

const INSTANCE = 'vm-23894-12172e';
const SHAPED_HISTORY = [{ status: 'pending', at: new Date(0), instanceId: INSTANCE, reason: 'slot claimed' }];

/** A trigger document's other fields, as the scheduler stores an `every` trigger. */
function shapedTrigger(at: Date): Record<string, unknown> {
  return {
    name: 'floor-trigger', handler: 'noop', schedule: { kind: 'every', every: 1000, startAt: at, endAt: null }, payload: null, status: 'active', lastRunAt: at,
    createdAt: at, updatedAt: at, retry: null, timeoutMs: null, maxStalls: null, misfire: 'run-once', overlap: 'allow', maxConcurrent: null, window: null,
    jitterMs: 0, priority: 0, startAt: null, endAt: null, tags: [], alertAfterMs: null, version: 0,
  };
}

/** A job document's other fields, as the scheduler stores a slot's job (the end adds result, metrics and history). */
function shapedJob(at: Date): Record<string, unknown> {
  return {
    triggerId: 'floor-trigger', handler: 'noop', payload: null, source: 'schedule', scheduledFor: at, runAt: at, priority: 0, attempts: 1, maxAttempts: 1,
    stalls: 0, maxStalls: 1, timeoutMs: null, backoff: null, permitLimit: null, nextAttemptAt: null, result: null, error: null,
    metrics: { queuedMs: 6, durationMs: 0, cpuUserMs: 0, cpuSystemMs: 0, heapUsedBytes: 0, threadWaitMs: 0 }, instanceId: INSTANCE, fence: 1, event: null,
    upstream: null, gate: null, traceparent: null, cancelRequested: false, dependentsFired: true, createdAt: at, startedAt: at, finishedAt: null,
    lease: { owner: INSTANCE, expiresAt: at }, writeStamp: 'a1b2c3d4e5f6.0',
  };
}

/** A fresh result of one instance's run, wired to its command counter. */
export function emptyResult(system: InstanceResult['system'], instance: number, counter: CommandCounter, windowMs: number): InstanceResult {
  return {
    system,
    instance,
    started: 0,
    completed: 0,
    lateness: [],
    early: 0,
    keys: [],
    commands: counter.byCommand,
    commandMs: counter.msByCommand,
    commandsFailed: counter.failedByCommand,
    commandsTotal: 0,
    countedCompleted: 0,
    countedMs: 0,
    cpuMs: 0,
    errors: 0,
    firstError: null,
    lateStart: false,
    windowMs,
  };
}

/** The instants of one throughput run, shared by its instance processes. */
export interface Timeline {
  /** Start the scheduler. */
  startAt: number;
  /** The first slot. */
  firstAt: number;
  /** The measured window [from, to). */
  from: number;
  to: number;
}

/**
 * In an instance process: say `ready` on stdout, then wait for the parent's `go {timeline}` line
 * on stdin (bench/child.ts `startNode`). Exits when stdin closes (the parent is gone), then or later.
 */
export function timelineFromParent(): Promise<Timeline> {
  return new Promise((resolve) => {
    let buffered = '';
    process.stdin.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const at = buffered.indexOf('\n');
      if (at < 0) return;
      const line = buffered.slice(0, at);
      if (line.startsWith('go ')) resolve(JSON.parse(line.slice(3)) as Timeline);
    });
    process.stdin.on('end', () => process.exit(3));
    process.stdin.resume();
    console.log('ready');
  });
}
