/**
 * The Agenda baseline of `bench/mongo.ts`: agenda@6 with @agendajs/mongo-backend on the same server.
 *
 * Workload: one repeating job per job name (`every` creates one document per name; that is Agenda's
 * recurring-job model), K names, interval P, first runs spread evenly over one period.
 *
 * Scheduled time: Agenda recomputes `nextRunAt` before the handler runs, so the handler cannot read
 * the slot it runs for. The benchmark wraps the repository's `getNextJobToRun` (the lock query) and
 * remembers the `nextRunAt` each locked document had: that is the time the run was due.
 * Lateness = handler start − that time, measured exactly as for our scheduler.
 */
import { MongoClient, type Db } from 'mongodb';
import { Agenda, type Job } from 'agenda';
import { MongoBackend } from '@agendajs/mongo-backend';
import { calibrateEpoch, epochNow, keepAlive, sleep } from './lib.js';
import { CommandCounter, emptyResult, until, type InstanceResult, type Timeline } from './mongo-lib.js';

/** Agenda's tuning in the benchmark (documented in docs/performance.md). */
export interface AgendaTuning {
  /** `processEvery`: poll period, also how far ahead jobs are locked (ms). */
  processEveryMs: number;
  /** `maxConcurrency` (jobs running at once per instance) and `defaultConcurrency` (per name). */
  concurrency: number;
}

/** Job names of the workload. */
export function agendaJobName(i: number): string {
  return `noop-${i}`;
}

/**
 * Create K repeating jobs (one per name, interval `periodMs`), first runs at
 * `firstAt + i * periodMs / K`, through Agenda's own API (`create` + `repeatEvery` + `save` of a
 * `single` job, which is what `agenda.every()` does, with `nextRunAt` set to spread the phases).
 */
export async function setupAgendaJobs(db: Db, count: number, periodMs: number, firstAt: number): Promise<void> {
  const agenda = new Agenda({ backend: new MongoBackend({ mongo: db }) });
  await agenda.ready;
  const batch = 50;
  for (let start = 0; start < count; start += batch) {
    const saves: Array<Promise<unknown>> = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const job = agenda.create(agendaJobName(i), { i });
      job.attrs.type = 'single';
      job.repeatEvery(periodMs);
      job.attrs.nextRunAt = new Date(firstAt + Math.floor((i * periodMs) / count));
      saves.push(job.save());
    }
    await Promise.all(saves);
  }
}

interface LockedDoc {
  _id?: unknown;
  nextRunAt?: Date | null;
}

/** One Agenda instance (child process): run until `stopAt`, measure inside [from, to). */
export async function agendaInstance(opts: {
  uri: string;
  dbName: string;
  instance: number;
  count: number;
  tuning: AgendaTuning;
  /** Resolves with the run's instants once every instance has booted (see timelineFromParent). */
  timeline: () => Promise<Timeline>;
}): Promise<{ result: InstanceResult; shutdown: () => Promise<void> }> {
  const release = keepAlive();
  const offset = calibrateEpoch();
  const client = new MongoClient(opts.uri, { monitorCommands: true });
  await client.connect();
  const counter = new CommandCounter(client);
  const db = client.db(opts.dbName);
  const agenda = new Agenda({
    backend: new MongoBackend({ mongo: db }),
    name: `agenda-${opts.instance}`,
    processEvery: opts.tuning.processEveryMs,
    maxConcurrency: opts.tuning.concurrency,
    defaultConcurrency: opts.tuning.concurrency,
    lockLimit: 0,
    defaultLockLimit: 0,
  });
  await agenda.ready;
  const t = await opts.timeline();

  // Remember the due time of every locked document (see the file comment).
  const due = new Map<string, number>();
  const repo = agenda.db as unknown as { getNextJobToRun: (...args: unknown[]) => Promise<LockedDoc | undefined> };
  const lock = repo.getNextJobToRun.bind(repo);
  repo.getNextJobToRun = async (...args: unknown[]) => {
    const doc = await lock(...args);
    if (doc?.nextRunAt) due.set(String(doc._id), doc.nextRunAt.getTime());
    return doc;
  };

  const result = emptyResult('agenda', opts.instance, counter, t.to - t.from);
  const inWindow = (at: number): boolean => at >= t.from && at < t.to;
  const handler = async (job: Job): Promise<void> => {
    const at = epochNow(offset);
    if (!inWindow(at)) return;
    const id = String(job.attrs._id);
    const scheduled = due.get(id);
    result.started += 1;
    if (scheduled === undefined) return;
    if (Date.now() < scheduled) result.early += 1;
    result.lateness.push(at - scheduled);
    result.keys.push(`${job.attrs.name}@${scheduled}`);
  };
  for (let i = 0; i < opts.count; i++) agenda.define(agendaJobName(i), handler);
  agenda.on('complete', () => {
    if (inWindow(epochNow(offset))) result.completed += 1;
    if (counter.on) result.countedCompleted += 1;
  });
  // Errors after the window are the shutdown's (in-flight lock queries on a closing client).
  agenda.on('error', (error: Error) => {
    if (Date.now() >= t.to) return;
    result.errors += 1;
    result.firstError ??= error.message;
  });
  agenda.on('fail', (error: Error) => {
    if (Date.now() >= t.to) return;
    result.errors += 1;
    result.firstError ??= error.message;
  });

  await until(t.startAt);
  result.lateStart = Date.now() > t.firstAt;
  await agenda.start();
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
  return {
    result,
    // Bounded: on an overloaded server Agenda's stop (it unlocks the jobs it holds) can take long.
    shutdown: async () => {
      await Promise.race([agenda.stop(false), sleep(3000)]);
      await Promise.race([client.close(true), sleep(1000)]);
      release();
    },
  };
}
