/**
 * Issue 10's scenario, shared by `kill-anywhere.soak.ts` (asserted, `npm run test:soak`) and `bench/reliability.ts`
 * (measured): several scheduler processes (`worker-process.ts`) on one database, `every: 1000`
 * triggers whose handler writes a row to `runs` and then sleeps, processes SIGKILLed at random
 * instants or at chosen store calls, then every trigger paused from a Scheduler of the caller's
 * own, and an audit read from the database alone.
 *
 * What the audit reads (keep this list minimal: the engine may change everything else):
 *
 * - jobs (`scheduler_jobs`): `_id`, `triggerId`, `scheduledFor`, `status`, `error.code`,
 *   `lease.owner`, `history[].{status, at, instanceId, reason}`;
 * - triggers (`scheduler_triggers`): `_id`, `status`;
 * - runs (`runs`, written by the handler): `jobId`, `instanceId`.
 *
 * A job was "running on the killed process" when, right after that process is gone, it is
 * `running` with `lease.owner` = the dead instance's id. Such a job is "re-run" when it ends
 * `succeeded`, the `runs` collection has a row for it from another instance, and its history has an
 * entry written by another instance whose `reason` contains the dead instance's id.
 */
import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { ownerOf } from '../../src/engine/membership.js';
import { Scheduler } from '../../src/index.js';
import { createMongoBackend, type MongoBackend } from '../../src/stores/mongo/index.js';
import { seededRandom } from '../helpers/random.js';
import { delay, startWorker, waitFor, type KillPoint, type WorkerHandle, type WorkerOptions } from './processes.js';

export const HANDLER = 'reliability.work';
const FINAL = ['succeeded', 'failed', 'cancelled', 'skipped'];

/** Issue 10's settings. */
export interface ScenarioSettings {
  triggers: number;
  everyMs: number;
  leaseMs: number;
  pollMs: number;
  lookaheadMs: number;
  /** Scheduler `leadMs` (undefined: the scheduler's default, 250 ms at these settings). */
  leadMs: number | undefined;
  workMs: number;
  concurrency: number;
}

export const ISSUE_10: ScenarioSettings = {
  triggers: Number(process.env["RELIABILITY_TRIGGERS"] ?? 20),
  everyMs: 1000,
  leaseMs: 1500,
  pollMs: 200,
  // The scheduler's default (a new user's setting).
  lookaheadMs: 5000,
  leadMs: undefined,
  workMs: 300,
  concurrency: 10,
};

/** The fields of a stored job the audit reads. */
export interface JobDoc {
  _id: string;
  triggerId: string;
  scheduledFor: Date;
  status: string;
  attempts?: number;
  instanceId?: string | null;
  error?: { code?: string | null; message?: string } | null;
  lease?: { owner: string; expiresAt?: Date } | null;
  history: Array<{ status: string; at: Date; instanceId: string | null; reason: string | null }>;
}

export interface RunDoc {
  jobId: string;
  triggerId: string;
  scheduledFor: Date;
  instanceId: string;
  at: Date;
}

/** A small seeded PRNG (mulberry32, the tests' one): the same seed gives the same kill instants and points. */
export const prng = seededRandom;

/** The seed to use: `RELIABILITY_SEED` when set, else a fresh one. */
export function seedFromEnv(): number {
  const fromEnv = Number(process.env['RELIABILITY_SEED']);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 1 + Math.floor(Math.random() * 2 ** 31);
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** `count` ids `t1, t2, …` (some skipped) such that every member owns at least `min` of them. */
export function coveringTriggerIds(members: string[], count: number, min = 1): string[] {
  const chosen: string[] = [];
  const owned = new Map<string, number>();
  for (let k = 1; chosen.length < count && k < 100_000; k++) {
    const id = `t${k}`;
    const owner = ownerOf(members, id);
    const missing = members.reduce((n, m) => n + Math.max(0, min - (m === owner ? (owned.get(m) ?? 0) + 1 : (owned.get(m) ?? 0))), 0);
    if ((owned.get(owner) ?? 0) < min || count - chosen.length - 1 >= missing) {
      chosen.push(id);
      owned.set(owner, (owned.get(owner) ?? 0) + 1);
    }
  }
  return chosen;
}

/** One process the scenario killed, and what was running on it then. */
export interface Victim {
  instanceId: string;
  /** How it died: `random` (SIGKILL from outside) or the worker's `kill-point` words. */
  how: string;
  killedAt: number;
  /** Jobs `running` with `lease.owner` = this instance right after it was gone. */
  orphans: JobDoc[];
}

export interface PauseTiming {
  triggerId: string;
  began: number;
  done: number;
  ms: number;
  error: string | null;
}

/** The outcome of one scenario, read from the database. */
export interface Audit {
  slotsChecked: number;
  jobs: number;
  /** Slots that must have a job (before the pause began, with a margin) but have none, and that
   * lie before a later job of the same trigger: skipped over (claimed, no job written). */
  lost: string[];
  /** Slots that must have a job but have none, after the trigger's last job: the cluster had not
   * fired them yet when the pause began (a backlog), or lost them at the end. */
  unfired: string[];
  /** Slots with more than one job (anywhere). */
  duplicates: string[];
  /** Jobs for instants that are not slots. */
  offGrid: string[];
  /**
   * Slot jobs withdrawn (`skipped`, "slot withdrawn: …") because their trigger's pause landed
   * between the job's insert and the trigger's advance: they never ran, and count as neither lost
   * nor failed.
   */
  withdrawn: number;
  /** Jobs for slots after the trigger's pause was confirmed (beyond `leadMs`). */
  afterPause: string[];
  /** Triggers not `paused` in the store at the end. */
  notPaused: string[];
  /** Jobs not `succeeded` (status, error code, last runner). */
  notSucceeded: string[];
  /** Failed jobs that were not running on a killed process: a live instance's job declared dead. */
  liveWronglyFailed: string[];
  /** Failure codes of those. */
  liveWronglyFailedCodes: Record<string, number>;
  /** Jobs with no row in `runs`. */
  withoutRun: string[];
  /** Jobs that were running on a killed process. */
  crashed: number;
  /** … of which re-run elsewhere and `succeeded` with the dead instance named in their history. */
  crashedRerun: number;
  /** … of which `failed`. */
  crashedFailed: number;
  /** Problems with those jobs (not re-run, history not naming the dead instance, …). */
  crashedProblems: string[];
  /** Renewal round trips of every process (ms). */
  renew: { count: number; p50: number | null; p99: number | null; max: number | null };
  /** The renewal round trips themselves (for totals over several runs). */
  renewSamples: number[];
  pause: { p50: number | null; max: number | null; errors: string[] };
}

function describe(job: JobDoc): string {
  const runner = [...job.history].reverse().find((h) => h.status === 'running')?.instanceId ?? job.instanceId ?? '?';
  return `${job.triggerId}@${job.scheduledFor.toISOString()} ${job._id}: ${job.status}${job.error?.code ? ` ${job.error.code}` : ''} (ran on ${runner})`;
}

/**
 * A cluster of scheduler processes on one database, with the triggers of the scenario and a
 * Scheduler of the caller's own (`admin`, never started) to add and pause them.
 */
export class Cluster {
  readonly settings: ScenarioSettings;
  readonly uri: string;
  readonly db: Db;
  readonly dbName: string;
  readonly backend: MongoBackend;
  readonly admin: Scheduler;
  readonly jobs: Collection<JobDoc>;
  readonly runs: Collection<RunDoc>;
  readonly tag: string;
  /** Every process started, in order. */
  readonly workers: WorkerHandle[] = [];
  readonly victims: Victim[] = [];
  triggerIds: string[] = [];
  startAt = 0;
  pauses: PauseTiming[] = [];
  #serial = 0;
  readonly #extra: Partial<WorkerOptions>;

  constructor(options: { uri: string; db: Db; dbName: string; tag: string; settings?: Partial<ScenarioSettings>; worker?: Partial<WorkerOptions> }) {
    this.settings = { ...ISSUE_10, ...options.settings };
    this.uri = options.uri;
    this.db = options.db;
    this.dbName = options.dbName;
    this.tag = `${options.tag}-${randomBytes(2).toString('hex')}`;
    this.backend = createMongoBackend({ db: options.db });
    this.admin = new Scheduler({ ...this.backend, instanceId: 'test-admin' });
    this.admin.register(HANDLER, () => undefined);
    this.jobs = options.db.collection<JobDoc>('scheduler_jobs');
    this.runs = options.db.collection<RunDoc>('runs');
    this.#extra = options.worker ?? {};
  }

  live(): WorkerHandle[] {
    return this.workers.filter((w) => w.alive());
  }

  /** Start a worker (not waiting for `ready`). */
  spawn(kill?: KillPoint, instanceId?: string): WorkerHandle {
    const s = this.settings;
    const worker = startWorker({
      uri: this.uri,
      dbName: this.dbName,
      instanceId: instanceId ?? this.nextInstanceId(),
      pollMs: s.pollMs,
      lookaheadMs: s.lookaheadMs,
      leaseMs: s.leaseMs,
      concurrency: s.concurrency,
      workMs: s.workMs,
      ...(s.leadMs === undefined ? {} : { leadMs: s.leadMs }),
      recordRuns: true,
      traceRenew: true,
      statusEveryMs: 2000,
      logLevel: 'warn',
      traceSlowMs: 1000,
      ...this.#extra,
      ...(kill ? { kill } : {}),
    });
    this.workers.push(worker);
    return worker;
  }

  /**
   * An instance id for a new process that, once the triggers exist, owns at least `min` of them
   * among the live processes (so a kill point in the firing path is reached soon).
   */
  nextInstanceId(min = 3): string {
    for (let attempt = 0; ; attempt++) {
      const id = `${this.tag}-w${++this.#serial}`;
      if (this.triggerIds.length === 0 || attempt > 50) return id;
      const members = [...this.live().map((w) => w.instanceId), id];
      if (this.triggerIds.filter((t) => ownerOf(members, t) === id).length >= min) return id;
    }
  }

  /** Add the triggers: ids covering `members` (each owns some), `every` from an aligned start. */
  async addTriggers(members: string[], leadMs = 1500): Promise<void> {
    await this.backend.ensureIndexes();
    const s = this.settings;
    this.triggerIds = coveringTriggerIds(members, s.triggers, Math.min(3, Math.floor(s.triggers / members.length)));
    this.startAt = Math.ceil((Date.now() + leadMs) / s.everyMs) * s.everyMs;
    for (const id of this.triggerIds) {
      await this.admin.addTrigger({
        id,
        handler: HANDLER,
        schedule: { every: s.everyMs, startAt: new Date(this.startAt) },
        retry: { attempts: 1 },
      });
    }
  }

  /** Wait until every trigger has a succeeded job. */
  async flowing(timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => (await this.jobs.distinct('triggerId', { status: 'succeeded' })).length >= this.triggerIds.length,
      timeoutMs,
      () => `jobs did not start flowing for every trigger; workers:\n${this.describeWorkers()}`,
      200,
    );
  }

  /** What ran on a process that is gone: read once it has exited. */
  async bury(worker: WorkerHandle, how: string): Promise<Victim> {
    await worker.exited;
    const killedAt = worker.exitedAt ?? Date.now();
    // A request the dead process had sent may still be executed by the server: let it land.
    await delay(250);
    const orphans = await this.jobs.find({ status: 'running', 'lease.owner': worker.instanceId }).toArray();
    const victim: Victim = { instanceId: worker.instanceId, how, killedAt, orphans };
    this.victims.push(victim);
    return victim;
  }

  /** SIGKILL from outside, now. */
  async killNow(worker: WorkerHandle): Promise<Victim> {
    await worker.kill();
    return this.bury(worker, 'random');
  }

  /** Pause every trigger from `admin`, all at once; remembers when each pause began and resolved. */
  async pauseAll(): Promise<PauseTiming[]> {
    this.pauses = await Promise.all(
      this.triggerIds.map(async (triggerId) => {
        const began = Date.now();
        let error: string | null = null;
        try {
          const t = await this.admin.pauseTrigger(triggerId);
          if (t.status !== 'paused') error = `pauseTrigger resolved with status ${t.status}`;
        } catch (e) {
          error = e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e);
        }
        const done = Date.now();
        return { triggerId, began, done, ms: done - began, error };
      }),
    );
    return this.pauses;
  }

  /** Wait until no job is left unfinished (or `timeoutMs` passed); returns the unfinished ones. */
  async settle(timeoutMs: number): Promise<JobDoc[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const open = await this.jobs.find({ status: { $nin: FINAL } }).toArray();
      if (open.length === 0 || Date.now() >= deadline) return open;
      await delay(250);
    }
  }

  /** Read everything and check it (see the file comment). */
  async audit(options: { mustFireMarginMs?: number } = {}): Promise<Audit> {
    const s = this.settings;
    const margin = options.mustFireMarginMs ?? 2000;
    const leadMs = s.leadMs ?? Math.min(250, Math.floor(s.lookaheadMs / 2), Math.floor(s.leaseMs / 3));
    const all = await this.jobs.find({}).toArray();
    const runs = await this.runs.find({}).toArray();
    const triggers = await this.db
      .collection<{ _id: string; status: string }>('scheduler_triggers')
      .find({}, { projection: { status: 1 } })
      .toArray();
    const pauseOf = new Map(this.pauses.map((p) => [p.triggerId, p]));
    const audit: Audit = {
      slotsChecked: 0,
      jobs: all.length,
      lost: [],
      unfired: [],
      duplicates: [],
      offGrid: [],
      withdrawn: 0,
      afterPause: [],
      notPaused: triggers.filter((t) => t.status !== 'paused').map((t) => `${t._id}: ${t.status}`),
      notSucceeded: [],
      liveWronglyFailed: [],
      liveWronglyFailedCodes: {},
      withoutRun: [],
      crashed: 0,
      crashedRerun: 0,
      crashedFailed: 0,
      crashedProblems: [],
      renew: { count: 0, p50: null, p99: null, max: null },
      renewSamples: [],
      pause: {
        p50: percentile(this.pauses.map((p) => p.ms), 0.5),
        max: this.pauses.length ? Math.max(...this.pauses.map((p) => p.ms)) : null,
        errors: this.pauses.filter((p) => p.error).map((p) => `${p.triggerId}: ${p.error}`),
      },
    };
    const bySlot = new Map<string, JobDoc[]>();
    for (const job of all) {
      const at = job.scheduledFor.getTime();
      if ((at - this.startAt) % s.everyMs !== 0 || at < this.startAt) audit.offGrid.push(describe(job));
      const key = `${job.triggerId}@${at}`;
      bySlot.set(key, [...(bySlot.get(key) ?? []), job]);
      const pause = pauseOf.get(job.triggerId);
      if (isWithdrawn(job)) {
        // The pause landed while this slot was being taken: its job is recorded `skipped` and never
        // ran. Legitimate only for a trigger that was paused, and only around its pause.
        if (pause && at >= pause.began - 2 * s.everyMs) audit.withdrawn += 1;
        else audit.notSucceeded.push(`${describe(job)}: withdrawn, but not at its trigger's pause`);
        continue;
      }
      if (pause && at > pause.done + leadMs) audit.afterPause.push(`${describe(job)}; pause confirmed at ${new Date(pause.done).toISOString()}`);
    }
    for (const [key, list] of bySlot) if (list.length > 1) audit.duplicates.push(`${key}: ${list.map(describe).join(' | ')}`);
    const end = this.pauses.length ? Math.max(...this.pauses.map((p) => p.began)) : Date.now();
    const lastJobAt = new Map<string, number>();
    for (const job of all) lastJobAt.set(job.triggerId, Math.max(lastJobAt.get(job.triggerId) ?? 0, job.scheduledFor.getTime()));
    for (const id of this.triggerIds) {
      const until = (pauseOf.get(id)?.began ?? end) - margin;
      for (let slot = this.startAt; slot <= until; slot += s.everyMs) {
        audit.slotsChecked += 1;
        if (bySlot.has(`${id}@${slot}`)) continue;
        // A hole before a later job of the trigger: the trigger moved past it (claimed) without a job.
        if (slot < (lastJobAt.get(id) ?? 0)) audit.lost.push(`${id}@${new Date(slot).toISOString()}`);
        else audit.unfired.push(`${id}@${new Date(slot).toISOString()}`);
      }
    }
    const orphanOf = new Map<string, Victim>();
    for (const v of this.victims) for (const o of v.orphans) orphanOf.set(o._id, v);
    const runRows = new Map<string, RunDoc[]>();
    for (const r of runs) runRows.set(r.jobId, [...(runRows.get(r.jobId) ?? []), r]);
    for (const job of all) {
      if (job.status !== 'succeeded' && !isWithdrawn(job)) audit.notSucceeded.push(describe(job));
      if (job.status === 'failed' && !orphanOf.has(job._id)) {
        audit.liveWronglyFailed.push(describe(job));
        const code = job.error?.code ?? 'none';
        audit.liveWronglyFailedCodes[code] = (audit.liveWronglyFailedCodes[code] ?? 0) + 1;
      }
      if (!runRows.has(job._id) && job.status !== 'skipped' && job.status !== 'cancelled') audit.withoutRun.push(describe(job));
    }
    const byId = new Map(all.map((j) => [j._id, j]));
    for (const [id, victim] of orphanOf) {
      audit.crashed += 1;
      const job = byId.get(id);
      if (!job) {
        audit.crashedProblems.push(`${id} (of ${victim.instanceId}): gone from the store`);
        continue;
      }
      if (job.status === 'failed') audit.crashedFailed += 1;
      const rerunRow = (runRows.get(id) ?? []).some((r) => r.instanceId !== victim.instanceId);
      const naming = job.history.some((h) => h.instanceId !== victim.instanceId && (h.reason ?? '').includes(victim.instanceId));
      const problems: string[] = [];
      if (job.status !== 'succeeded') problems.push(`status ${job.status}${job.error?.code ? ` (${job.error.code})` : ''}`);
      if (!rerunRow) problems.push('no `runs` row from another instance (handler not run again)');
      if (!naming) problems.push(`no history entry by another instance naming ${victim.instanceId}`);
      if (problems.length === 0) audit.crashedRerun += 1;
      else audit.crashedProblems.push(`${describe(job)} [killed ${victim.how}]: ${problems.join('; ')}; history ${JSON.stringify(job.history.map((h) => [h.status, h.instanceId, h.reason]))}`);
    }
    const renewMs = this.workers.flatMap((w) => w.renewMs);
    audit.renewSamples = renewMs;
    audit.renew = { count: renewMs.length, p50: percentile(renewMs, 0.5), p99: percentile(renewMs, 0.99), max: renewMs.length ? Math.max(...renewMs) : null };
    return audit;
  }

  describeWorkers(): string {
    return this.workers
      .map(
        (w) =>
          `${w.instanceId} pid ${w.pid} alive=${w.alive()} errors=${w.errors.length} killPoint=${w.killPoint ?? '-'}\n` +
          `  stdout (last lines):\n${w.lines.slice(-15).map((l) => `    ${l}`).join('\n')}\n  stderr: ${w.stderr().slice(-1500)}`,
      )
      .join('\n');
  }
}

/** A one-line figure summary of an audit (for logs, failure messages and the bench table). */
export function figures(audit: Audit): Record<string, unknown> {
  return {
    slotsChecked: audit.slotsChecked,
    jobs: audit.jobs,
    lost: audit.lost.length,
    unfired: audit.unfired.length,
    duplicates: audit.duplicates.length,
    offGrid: audit.offGrid.length,
    withdrawn: audit.withdrawn,
    afterPause: audit.afterPause.length,
    notPaused: audit.notPaused.length,
    notSucceeded: audit.notSucceeded.length,
    liveWronglyFailed: audit.liveWronglyFailed.length,
    liveWronglyFailedCodes: audit.liveWronglyFailedCodes,
    withoutRun: audit.withoutRun.length,
    crashed: audit.crashed,
    crashedRerun: audit.crashedRerun,
    crashedFailed: audit.crashedFailed,
    renewP50: audit.renew.p50,
    renewP99: audit.renew.p99,
    renewMax: audit.renew.max,
    renewCount: audit.renew.count,
    pauseP50: audit.pause.p50,
    pauseMax: audit.pause.max,
    pauseErrors: audit.pause.errors.length,
  };
}

/** Whether a job is a slot withdrawn by its trigger's pause (see `Audit.withdrawn`). */
function isWithdrawn(job: JobDoc): boolean {
  return job.status === 'skipped' && job.history.some((h) => h.status === 'skipped' && (h.reason ?? '').startsWith('slot withdrawn'));
}
