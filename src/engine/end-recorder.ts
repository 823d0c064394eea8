/**
 * Writing the ends of attempts: the ends of attempts that settle in one turn go to the store in
 * one fenced batch where the store can, each is reported (`job:succeeded`, ...), dependents are
 * fired, and the attempt's permit and place are given back so what waited for them goes on.
 * While a batch is on its way, the ends that settle meanwhile wait for its answer and go together
 * in the next one (a group commit): a store that answers slowly gets fewer, bigger batches rather
 * than one call per job.
 */
import type { TimerHandle } from '../clock.js';
import { StoreError } from '../errors.js';
import type { JobWrite, RunOutcome } from '../ports.js';
import type { Job, JobStatus } from '../types.js';
import type { AttemptRunner } from './attempt-runner.js';
import type { EngineContext } from './context.js';
import type { Dependents } from './dependents.js';
import type { Dispatcher } from './dispatcher.js';
import type { EndPlanner, RunEnd } from './end-plan.js';
import type { Handlers, Run } from './handlers.js';
import { asWritten } from './job-records.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { toError } from './outcome.js';
import type { Permits } from './permits.js';
import type { Timeline } from './timeline.js';

/** Ends of attempts recorded per store call (and per event-loop turn). */
const END_BATCH = 512;
/** Longest a recorded end waits while prepared attempts are still starting (a herd). */
const END_DEFER_MAX_MS = 100;

/** The collaborators an ended attempt hands on to. */
export interface EndRecorderParts {
  handlers: Handlers;
  leases: LeaseKeeper;
  runner: AttemptRunner;
  timeline: Timeline;
  dispatcher: Dispatcher;
  permits: Permits;
  dependents: Dependents;
  planner: EndPlanner;
}

/** Records ends in batches and releases what the attempts held. */
export class EndRecorder {
  readonly #ctx: EngineContext;
  readonly #p: EndRecorderParts;
  // Ends of attempts waiting to be written, oldest first, and when the oldest was queued.
  #ends: Run[] = [];
  #endsSince = 0;
  #scheduled = false;
  // Batches of ends being written (a `writeMany` store only), and when the latest went (local clock).
  #writing = 0;
  #writingSince = 0;
  #waitTimer: TimerHandle | null = null;

  constructor(ctx: EngineContext, parts: EndRecorderParts) {
    this.#ctx = ctx;
    this.#p = parts;
  }

  /**
   * An attempt settled (or was stopped: `outcome` null): queue the write of its end. Only noted
   * here; what the end writes is worked out when the ends are recorded, which a herd of prepared
   * starts may put off for a moment.
   */
  readonly onSettled = (run: Run, outcome: RunOutcome | null): void => {
    run.timeout?.cancel();
    run.timeout = null;
    if (!run.begun) this.#p.runner.releaseSuccessor(run);
    run.endedAt = this.#ctx.o.clock.now();
    run.outcome = outcome;
    if (this.#ends.length === 0) this.#endsSince = run.endedAt;
    this.#ends.push(run);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // In a microtask: the ends of attempts that settled in one turn share one store call.
    queueMicrotask(this.#takeEnds);
  };

  readonly #takeEnds = (): void => {
    this.#scheduled = false;
    if (this.#ends.length === 0) return;
    if (this.#p.runner.startingHerd && this.#ctx.o.clock.now() - this.#endsSince < END_DEFER_MAX_MS) {
      // Prepared attempts are still starting (a herd): starting them comes first.
      this.#scheduled = true;
      setImmediate(this.#takeEnds);
      return;
    }
    if (this.#writing > 0 && this.#ctx.o.jobStore.writeMany && this.#waitForBatch()) return;
    let batch = this.#ends;
    if (batch.length > END_BATCH) {
      // A big backlog goes in chunks, with a turn of the event loop between them.
      batch = this.#ends.splice(0, END_BATCH);
      this.#scheduled = true;
      setImmediate(this.#takeEnds);
    } else {
      this.#ends = [];
    }
    if (!this.#ctx.o.jobStore.writeMany) {
      this.#ctx.track(this.#recordEnds(batch));
      return;
    }
    this.#writing += 1;
    this.#writingSince = this.#ctx.o.clock.now();
    this.#ctx.track(
      this.#recordEnds(batch).finally(() => {
        this.#writing -= 1;
        if (this.#writing === 0) {
          this.#waitTimer?.cancel();
          this.#waitTimer = null;
        }
        if (this.#ends.length > 0 && !this.#scheduled) {
          this.#scheduled = true;
          queueMicrotask(this.#takeEnds);
        }
      }),
    );
  };

  /**
   * A batch is on its way: the ends queued now go with the next one, sent when it is answered.
   * But not for longer than a third of a lease (as an end waits for a renewal): an answer that
   * does not come must not hold every later end. Returns whether the ends wait.
   */
  #waitForBatch(): boolean {
    const { clock, leaseMs } = this.#ctx.o;
    const left = this.#writingSince + Math.floor(leaseMs / 3) - clock.now();
    if (left <= 0) return false;
    this.#waitTimer ??= clock.setTimer(() => {
      this.#waitTimer = null;
      if (this.#scheduled) return;
      this.#scheduled = true;
      queueMicrotask(this.#takeEnds);
    }, left);
    return true;
  }

  /** Write a batch of ends (in one store call where the store can), then report and release each attempt. */
  async #recordEnds(settled: Run[]): Promise<void> {
    const { o } = this.#ctx;
    // An end is written once its lease's renewal in flight (if any) is answered, or has taken a
    // third of the lease: two writes to one record at once are one too many for a server without
    // atomic updates, but a renewal that does not come back must not hold the end for ever. An
    // attempt that was stopped (a stop, a cancel, a lease that ran out) does not wait at all.
    let renewals: Array<Promise<void>> | null = null;
    for (const run of settled) if (run.renewal && run.reason === null) (renewals ??= []).push(run.renewal);
    if (renewals) {
      let timer: TimerHandle | null = null;
      const limit = new Promise<void>((resolve) => (timer = o.clock.setTimer(resolve, Math.floor(o.leaseMs / 3))));
      await Promise.race([Promise.all(renewals), limit]);
      (timer as TimerHandle | null)?.cancel();
    }
    const ends = settled.map((run) => this.#p.planner.plan(run));
    const writes: JobWrite[] = [];
    for (const end of ends) if (end.write) writes.push(end.write);
    const jobStore = o.jobStore;
    if (jobStore.writeMany && writes.length > 0) {
      let matched: boolean[] | null = null;
      try {
        matched = await jobStore.writeMany(writes);
      } catch (error) {
        // Any of the batch may be written or not: each end goes on its own, with retries, and one
        // refused is checked against the stored record (it may be this very write, made before).
        o.logger.warn({ jobs: writes.length, error: toError(error).message }, 'writing the ends of a batch failed; writing them one by one');
      }
      if (matched) {
        let k = 0;
        for (const end of ends) this.#afterEnd(end, end.write && matched[k++] ? asWritten(end.run.job, end.write) : null);
        return;
      }
    }
    // One write per end, each reported (and its capacity freed) as soon as it is answered: a slow
    // answer holds up only its own attempt.
    const unsure = jobStore.writeMany !== undefined && writes.length > 0;
    const alone: Array<Promise<void>> = [];
    for (const end of ends) {
      if (!end.write) this.#afterEnd(end, null);
      else alone.push(this.#recordEndWithRetry(end.run.job, end.write, unsure).then((answer) => this.#afterEnd(end, answer)));
    }
    await Promise.all(alone);
  }

  /**
   * One end's write, retried through a short store outage (see `retryStore`); an error only once
   * the retries are spent. A write refused after an earlier try that may have landed (a batch
   * that threw, a lost answer) is looked up: the stored record says whether it was this one.
   */
  async #recordEndWithRetry(job: Job, write: JobWrite, unsure: boolean): Promise<Job | null | Error> {
    let tries = 0;
    try {
      const answer = await this.#ctx.retryStore(() => {
        tries += 1;
        return this.#recordEnd(job, write);
      });
      if (answer !== null || (!unsure && tries === 1)) return answer;
      const stored = await this.#ctx.o.jobStore.get(job.id);
      return stored && madeBy(stored, write) ? stored : null;
    } catch (error) {
      return toError(error);
    }
  }

  /**
   * Write the end of this instance's own attempt; the job as written, or `null` when the lease
   * was lost. A store that can answer without copying the record back (`write`) is spared that:
   * the attempt's own record with the write applied is the same job.
   */
  #recordEnd(job: Job, write: JobWrite): Promise<Job | null> {
    const store = this.#ctx.o.jobStore;
    if (!store.write) return store.update(write.id, write.condition, write.patch, write.history);
    return store.write(write.id, write.condition, write.patch, write.history).then((matched) => (matched ? asWritten(job, write) : null));
  }

  /** Report a recorded end, fire dependents, give back the permit and the capacity. */
  #afterEnd(end: RunEnd, written: Job | null | Error): void {
    const { run, status } = end;
    if (written instanceof Error) {
      this.#ctx.fail(new StoreError(`recording the end of job ${run.job.id} failed: ${written.message}`, { cause: written }), 'result-dropped');
    } else if (end.write && written === null) {
      this.#ctx.emit('lease:lost', { jobId: run.job.id, token: run.token, reason: 'fenced' });
    } else if (written) {
      if (end.timedOut) this.#ctx.emit('job:timeout', written);
      this.#emitStatus(written, status);
      if (status === 'pending') this.#p.dispatcher.notePending();
      if (status === 'pending' && written.gate === null) this.#p.timeline.wakeAt(written.runAt.getTime());
    }
    const fireDependents = end.hasDependents && written !== null && !(written instanceof Error);
    if (!fireDependents && !run.permit) {
      this.#release(run);
      return;
    }
    const after = async (): Promise<void> => {
      try {
        if (fireDependents) await this.#p.dependents.fire(written);
      } catch (error) {
        this.#ctx.fail(new StoreError(`firing the dependents of job ${run.job.id} failed: ${toError(error).message}`, { cause: error }));
      } finally {
        if (run.permit) await this.#p.permits.release(run.permit);
      }
    };
    this.#ctx.track(after().finally(() => this.#release(run)));
  }

  #emitStatus(job: Job, status: JobStatus): void {
    if (status === 'succeeded') this.#ctx.emit('job:succeeded', job);
    else if (status === 'failed') this.#ctx.emit('job:failed', job);
    else if (status === 'cancelled') this.#ctx.emit('job:cancelled', job);
    else if (status === 'pending') this.#ctx.emit('job:retrying', job);
  }

  /** The attempt is over and recorded: free its place, and let what waited for it go on. */
  #release(run: Run): void {
    const { leases, dispatcher, timeline } = this.#p;
    leases.delete(run);
    run.place.release();
    run.end();
    dispatcher.kick();
    timeline.onCapacity();
    if (run.permit) void dispatcher.tryStartGated(run.job.triggerId).catch((error: unknown) => this.#ctx.fail(toError(error)));
  }
}

/** Whether a stored job carries a write's own history entry (the same status, instant, instance and reason): the write landed. */
function madeBy(stored: Job, write: JobWrite): boolean {
  const own = write.history?.at(-1);
  if (!own || stored.status !== write.patch.status) return false;
  const at = own.at.getTime();
  return stored.history.some((entry) => entry.status === own.status && entry.at.getTime() === at && entry.instanceId === own.instanceId && entry.reason === own.reason);
}
