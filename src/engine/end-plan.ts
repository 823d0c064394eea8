/**
 * How an attempt ended, and the fenced write that records it: succeeded, failed (or retried by
 * its policy), cancelled, timed out, or handed back as pending (a stop, a lease running out).
 * Nothing here touches the store; the `EndRecorder` writes what it plans.
 */
import { PermanentJobError, StoreError } from '../errors.js';
import type { JobCondition, JobPatch, JobWrite, RunOutcome } from '../ports.js';
import { backoffDelay } from '../schedule/index.js';
import type { Job, JobMetrics, JobStatus } from '../types.js';
import type { EngineContext } from './context.js';
import type { Handlers, Run } from './handlers.js';
import { runningCondition } from './job-records.js';
import { assertTransition, historyEntry } from './job-state.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { errorInfo, storableResult, toError } from './outcome.js';

/** How an attempt ended, waiting for its write. */
export interface RunEnd {
  run: Run;
  status: JobStatus;
  /** The fenced write that records the end; `null` when there is nothing to write (lease lost). */
  write: JobWrite | null;
  timedOut: boolean;
  hasDependents: boolean;
}

/** An end other than success, before the fields every end shares. */
interface OtherEnd {
  status: JobStatus;
  patch: JobPatch;
  note: string;
}

/** Whether some trigger depends on a trigger's jobs (see `Dependents`). */
export interface DependentsIndex {
  has(triggerId: string): boolean;
}

/** Works out the ends of attempts. */
export class EndPlanner {
  readonly #ctx: EngineContext;
  readonly #handlers: Handlers;
  readonly #leases: LeaseKeeper;
  readonly #dependents: DependentsIndex;
  #instantMs = Number.NaN;
  #instantDate = new Date(0);

  constructor(ctx: EngineContext, handlers: Handlers, leases: LeaseKeeper, dependents: DependentsIndex) {
    this.#ctx = ctx;
    this.#handlers = handlers;
    this.#leases = leases;
    this.#dependents = dependents;
  }

  /** The end of a settled attempt; a failure to work it out is reported, and nothing is written. */
  plan(run: Run): RunEnd {
    try {
      return this.#endOf(run, run.outcome, run.begun ? run.endedAt - run.startedAt : 0);
    } catch (error) {
      this.#ctx.fail(new StoreError(`recording the end of job ${run.job.id} failed: ${toError(error).message}`, { cause: error }), 'result-dropped');
      return { run, status: 'failed', write: null, timedOut: false, hasDependents: false };
    }
  }

  #endOf(run: Run, outcome: RunOutcome | null, wallMs: number): RunEnd {
    const { job } = run;
    const reason = run.reason;
    if (reason?.kind === 'lease-lost') return { run, status: 'running', write: null, timedOut: false, hasDependents: false };
    const now = this.#instantAt(run.endedAt);
    const prepared = run.startAt > 0;
    const metrics: JobMetrics = {
      queuedMs: prepared ? (run.begun ? Math.max(0, run.startedAt - job.runAt.getTime()) : null) : job.metrics.queuedMs,
      durationMs: outcome ? Math.round(outcome.metrics.durationMs) : run.begun ? wallMs : null,
      cpuUserMs: outcome?.metrics.cpuUserMs ?? null,
      cpuSystemMs: outcome?.metrics.cpuSystemMs ?? null,
      heapUsedBytes: outcome?.metrics.heapUsedBytes ?? null,
      threadWaitMs: outcome?.metrics.waitMs === null || outcome === null ? null : Math.round(outcome.metrics.waitMs),
    };
    const condition = runningCondition(run.token);
    if (outcome?.ok && reason === null) {
      const result = storableResult(outcome.result);
      // The usual end, spelled out in one literal: this runs for every job.
      const hasDependents = this.#dependents.has(job.triggerId);
      const patch: JobPatch = {
        status: 'succeeded',
        metrics,
        lease: null,
        cancelRequested: false,
        finishedAt: now,
        dependentsFired: !hasDependents,
        gate: null,
        result: result.value,
        error: null,
      };
      const dropped = result.dropped ?? outcome.droppedResult ?? null;
      const note = dropped === null ? succeededNote(job.attempts) : `${succeededNote(job.attempts)}; its result was not stored: ${dropped}`;
      if (dropped !== null) this.#ctx.o.logger.warn({ jobId: job.id, reason: dropped }, 'a handler result was dropped');
      const history = [historyEntry('succeeded', now, this.#ctx.o.instanceId, note)];
      if (prepared) this.#notePreparedStart(run, patch);
      return { run, status: 'succeeded', write: { id: job.id, condition, patch, history }, timedOut: false, hasDependents };
    }
    if (reason?.kind === 'cancel') {
      return this.#endWith(
        run,
        { status: 'cancelled', note: 'cancelled by request', patch: { error: { name: 'JobCancelledError', message: 'job cancelled', code: null } } },
        metrics,
        now,
        condition,
      );
    }
    if (reason?.kind === 'shutdown' || reason?.kind === 'lease-expiring') {
      // One prepared ahead that never started is due at its own start time, not now.
      const runAt = run.begun || run.startAt <= now.getTime() ? now : new Date(run.startAt);
      return this.#endWith(
        run,
        {
          status: 'pending',
          note:
            reason.kind === 'lease-expiring'
              ? `aborted: its lease ran out before a renewal came back (renewal round trip p99 ${this.#leases.summary()?.p99Ms ?? 'unknown'} ms); handed back for another run`
              : run.begun
                ? 'aborted: instance stopped before the job finished; handed back for another run'
                : 'instance stopped before the job started; handed back for its own time',
          patch: { runAt, nextAttemptAt: runAt, attempts: Math.max(0, job.attempts - 1) },
        },
        metrics,
        now,
        condition,
      );
    }
    const error = reason?.kind === 'timeout' ? reason.error : outcome && !outcome.ok ? outcome.error : new Error('aborted');
    return this.#endWith(run, this.#failure(job, error, now), metrics, now, condition);
  }

  /** An end other than success: the common fields, then what the outcome adds. */
  #endWith(run: Run, outcome: OtherEnd, metrics: JobMetrics, now: Date, condition: JobCondition): RunEnd {
    const { job } = run;
    const { status } = outcome;
    assertTransition('running', status, job.id);
    const final = status !== 'pending';
    const hasDependents = final && this.#dependents.has(job.triggerId);
    // Object.assign rather than a spread: the outcome's patch has a different shape per
    // kind of end, and a spread of it sends V8 down its slow generic copy.
    const patch: JobPatch = Object.assign(
      {
        status,
        metrics,
        lease: null,
        cancelRequested: false,
        finishedAt: final ? now : null,
        dependentsFired: final ? !hasDependents : false,
        gate: status === 'pending' && job.permitLimit !== null ? job.triggerId : null,
      },
      outcome.patch,
    );
    const history = [historyEntry(status, now, this.#ctx.o.instanceId, outcome.note)];
    if (run.startAt > 0) this.#notePreparedStart(run, patch);
    return { run, status, write: { id: job.id, condition, patch, history }, timedOut: run.reason?.kind === 'timeout', hasDependents };
  }

  /**
   * The end of an attempt prepared ahead also records when it really started (its record says
   * when it was to start), or, for one that never started, that it did not: no `startedAt`, no
   * attempt spent.
   */
  #notePreparedStart(run: Run, patch: JobPatch): void {
    if (run.begun) {
      patch.startedAt = this.#instantAt(run.startedAt);
    } else {
      patch.startedAt = null;
      patch.attempts = 0;
    }
  }

  /** A failed attempt: retried by its policy (pending, with backoff) or failed for good. */
  #failure(job: Job, error: unknown, now: Date): OtherEnd {
    const info = errorInfo(error);
    const permanent = error instanceof PermanentJobError || info.code === 'ERR_PERMANENT_JOB';
    let retry = !permanent && job.attempts < job.maxAttempts;
    const registration = this.#handlers.get(job.handler);
    if (retry && registration?.retryOn) {
      try {
        retry = registration.retryOn(error, job.attempts) !== false;
      } catch (predicateError) {
        retry = false;
        this.#ctx.o.logger.warn({ jobId: job.id, error: toError(predicateError).message }, 'retryOn threw; not retrying');
      }
    }
    if (!retry) {
      const why = permanent ? 'permanent error' : job.attempts >= job.maxAttempts ? 'no attempts left' : 'retryOn declined';
      return { status: 'failed', patch: { error: info }, note: `attempt ${job.attempts} failed (${why}): ${info.message}` };
    }
    const delay = job.backoff ? backoffDelay(job.backoff, job.attempts) : 0;
    const runAt = new Date(now.getTime() + delay);
    return {
      status: 'pending',
      patch: { error: info, runAt, nextAttemptAt: runAt },
      note: `attempt ${job.attempts} failed: ${info.message}; retry in ${delay} ms`,
    };
  }

  /**
   * An instant as a `Date`, one object per millisecond: ends of the same millisecond share it
   * (a `Date` is about 100 bytes, and every end stamps one).
   */
  #instantAt(ms: number): Date {
    if (ms !== this.#instantMs) {
      this.#instantMs = ms;
      this.#instantDate = new Date(ms);
    }
    return this.#instantDate;
  }
}

const succeededNotes: string[] = [];

/** The history note of a successful attempt; the same string each time for the usual attempt numbers. */
function succeededNote(attempt: number): string {
  if (attempt >= 16) return `attempt ${attempt} succeeded`;
  return (succeededNotes[attempt] ??= `attempt ${attempt} succeeded`);
}
