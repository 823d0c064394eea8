/**
 * What each CLI command does with a Scheduler that is constructed on the store but never started:
 * reads go straight to the store; writes are the same public methods a running instance uses.
 * `triggers run` and `jobs retry` leave a `pending` job (an unstarted scheduler runs nothing),
 * which a running instance with the handler claims on its next poll.
 */
import { previews, triggerPreview } from '../management/preview.js';
import { nextFireTimes } from '../schedule/index.js';
import { JobNotFoundError, TriggerNotFoundError } from '../errors.js';
import type { Scheduler } from '../scheduler.js';
import { retryOfKey } from '../util/retry-key.js';
import { isFinalJobStatus, type JobStatus } from '../types.js';
import type { Command } from './args.js';
import { jobDetail, jobTable, previewTable, triggerDetail, triggerTable } from './format.js';

/** A command's result: what `--json` prints and what a human reads. */
export interface Output {
  /** JSON-serializable value. */
  json: unknown;
  /** Text for the terminal. */
  text: string;
}

const SHOW_NEXT = 5;

/** Run the one command that needs no store: `next "<cron>"`. */
export function runWithoutStore(command: Command, now: Date): Output {
  if (command.name !== 'next' || !('cron' in command.target)) throw new Error(`"${command.name}" needs the store`);
  return previewCron(command.target.cron, command.tz, command.count, command.from ?? now);
}

function previewCron(cron: string, tz: string | undefined, count: number, now: Date): Output {
  const timezone = tz ?? 'UTC';
  const items = previews({ kind: 'cron', cron, timezone }, nextFireTimes({ cron, timezone }, { from: now, count }));
  return { json: { items }, text: previewTable(items) };
}

/** `jobs cancel` on a job that is over (exit code 1). */
export class JobNotCancellableError extends Error {
  constructor(id: string, status: JobStatus, already: boolean) {
    super(
      already
        ? `job "${id}" is already ${status}: only a pending or running job can be cancelled`
        : `job "${id}" ended ${status} before it could be cancelled`,
    );
    this.name = 'JobNotCancellableError';
  }
}

/**
 * Run `command` against `scheduler` (constructed on the store, not started). `where` names the
 * database and collections read, for an empty list (a wrong `--db` or `--prefix` reads nothing).
 */
export async function runCommand(command: Command, scheduler: Scheduler, now: Date, where: string): Promise<Output> {
  switch (command.name) {
    case 'triggers ls': {
      const { name: _name, ...query } = command;
      const page = await scheduler.listTriggers(query);
      const more = page.nextCursor === null ? '' : `\n(more: raise --limit, at most 1000)`;
      return { json: page, text: `${page.items.length === 0 ? `(no triggers in ${where})` : triggerTable(page.items)}${more}` };
    }
    case 'triggers show': {
      const trigger = await scheduler.getTrigger(command.id);
      if (!trigger) throw new TriggerNotFoundError(command.id);
      const stats = (await scheduler.stats({ triggerId: command.id })).triggers[command.id] ?? null;
      const next = triggerPreview(trigger, now, SHOW_NEXT);
      return { json: { trigger, stats, next }, text: triggerDetail(trigger, stats, next) };
    }
    case 'triggers pause': {
      const trigger = await scheduler.pauseTrigger(command.id);
      return { json: { trigger }, text: `trigger ${trigger.id} is ${trigger.status}` };
    }
    case 'triggers resume': {
      const trigger = await scheduler.resumeTrigger(command.id);
      const next = trigger.nextRunAt === null ? '' : `, next run ${trigger.nextRunAt.toISOString()}`;
      return { json: { trigger }, text: `trigger ${trigger.id} is ${trigger.status}${next}` };
    }
    case 'triggers run': {
      const job = await scheduler.runTrigger(command.id, command.payload === undefined ? {} : { payload: command.payload });
      return {
        json: { job },
        text: `job ${job.id} queued for trigger ${job.triggerId} (${job.status}: a running instance with handler "${job.handler}" runs it)`,
      };
    }
    case 'jobs ls': {
      const { name: _name, ...query } = command;
      const page = await scheduler.listJobs(query);
      const more = page.nextCursor === null ? '' : `\n(more: raise --limit, at most 1000)`;
      return { json: page, text: `${page.items.length === 0 ? `(no jobs in ${where})` : jobTable(page.items)}${more}` };
    }
    case 'jobs show': {
      const job = await scheduler.getJob(command.id);
      if (!job) throw new JobNotFoundError(command.id);
      return { json: { job }, text: jobDetail(job) };
    }
    case 'jobs retry': {
      const job = await scheduler.retryJob(command.id);
      return { json: { job }, text: `job ${job.id} queued as a retry of job ${retryOfKey(job.key) ?? command.id} (${job.status})` };
    }
    case 'jobs cancel': {
      // cancelJob answers a job that is over with the job as it stands; from a shell that reads as
      // success, so it is refused here. A job that ends cancelled meanwhile (by anyone) is fine.
      const before = await scheduler.getJob(command.id);
      if (!before) throw new JobNotFoundError(command.id);
      if (isFinalJobStatus(before.status)) throw new JobNotCancellableError(command.id, before.status, true);
      const job = await scheduler.cancelJob(command.id);
      if (isFinalJobStatus(job.status) && job.status !== 'cancelled') throw new JobNotCancellableError(command.id, job.status, false);
      const text =
        job.status === 'running' && job.cancelRequested
          ? `job ${job.id} is running on ${job.instanceId ?? 'another instance'}: cancel requested, it stops at its next lease renewal`
          : `job ${job.id} is ${job.status}`;
      return { json: { job }, text };
    }
    case 'next': {
      if ('cron' in command.target) return previewCron(command.target.cron, command.tz, command.count, command.from ?? now);
      const trigger = await scheduler.getTrigger(command.target.triggerId);
      if (!trigger) throw new TriggerNotFoundError(command.target.triggerId);
      const items = triggerPreview(trigger, command.from ?? now, command.count);
      return { json: { items }, text: previewTable(items) };
    }
  }
}
