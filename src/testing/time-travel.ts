/**
 * The time-travel harness: a scheduler on a manual clock that a test moves through hours, DST
 * nights or months in a second or two of real time, with a record of every attempt that ran.
 * Each timer falls due at its own instant and the work it starts settles there, so what a test
 * sees is what the scheduler does on a real clock, without sleeping.
 */
import { InvalidTriggerConfigError, ManualClock, Scheduler } from '@intellibrowse/scheduler';
import type { Job, JobQuery, JobSource, SchedulerOptions } from '@intellibrowse/scheduler';

/** Options of `new TimeTravel()`. */
export interface TimeTravelOptions {
  /**
   * Where the manual clock starts: a `Date`, epoch milliseconds or an ISO 8601 string.
   * @default '2026-01-01T00:00:00.000Z'
   * @example '2026-03-28T12:00:00Z'
   */
  start?: Date | number | string;
  /**
   * Options of the scheduler under test, except `clock` (the harness's manual clock). Stores
   * default to a fresh memory backend; pass your own to travel with them. Unless given, the
   * harness sets `instanceId: 'time-travel'` and stretches the intervals of the scheduler's own
   * housekeeping, as every timer is an instant the harness stops at (with production's defaults,
   * a month is 300,000 stops; with these, about 3,000):
   * - `pollIntervalMs: 3600000`, `lookaheadMs: 7200000`: the store is read once an hour (slots
   *   of triggers written through this scheduler reach it at once anyway);
   * - `leaseMs: 3600000`: the instance's lease is renewed, and the maintenance pass (late-slot
   *   alerts, recovery, purge) runs, every 20 minutes of manual time.
   * Pass production's values (`pollIntervalMs: 1000`, `leaseMs: 30000`) to test what depends on them.
   * @default {}
   * @example { concurrency: 1, defaults: { retry: { attempts: 3 } } }
   */
  scheduler?: Omit<SchedulerOptions, 'clock'>;
  /**
   * Longest real time one wait for quiet (`runUntilIdle`, or one instant of `advance`) may take,
   * in ms, before it throws an `IdleTimeoutError` naming the attempts still running (a handler
   * waiting on real I/O that never answers, or on the manual clock, which `runUntilIdle` never
   * moves).
   * @default 5000
   */
  idleTimeoutMs?: number;
  /**
   * How many event-loop turns in a row must pass with nothing happening (no scheduler event, no
   * timer due) before the harness calls an instant quiet. Raise it for stores that answer over
   * the network, whose replies may take several turns.
   * @default 3
   */
  quietTurns?: number;
}

/** How an attempt ended, as the scheduler reported it; `null` while it runs. */
export type RunOutcome = 'succeeded' | 'failed' | 'retrying' | 'cancelled' | 'lease-lost' | null;

/** One attempt the scheduler under test started, as `TimeTravel.runs` records it. */
export interface RunRecord {
  /** The job's id. */
  jobId: string;
  /** The trigger that made the job. */
  triggerId: string;
  /** The handler that ran. */
  handler: string;
  /** Where the job came from (`schedule`, `manual`, `event` or `dependency`). */
  source: JobSource;
  /** The slot the job belongs to (for a retry, the slot of its first attempt). */
  scheduledFor: Date;
  /** The attempt's number, from 1. */
  attempt: number;
  /** The manual clock's time when the attempt started. */
  startedAt: Date;
  /** The manual clock's time when its end was recorded; `null` while it runs. */
  endedAt: Date | null;
  /** How it ended; `null` while it runs. */
  outcome: RunOutcome;
  /** The payload it ran with. */
  payload: Job['payload'];
}

/** A wait for quiet went on past `idleTimeoutMs` of real time: something never settled. */
export class IdleTimeoutError extends Error {
  /** Stable code, as the scheduler's errors carry. */
  readonly code = 'ERR_IDLE_TIMEOUT';
  /** The attempts still running when it gave up. */
  readonly running: readonly RunRecord[];

  constructor(message: string, running: readonly RunRecord[]) {
    super(message);
    this.name = 'IdleTimeoutError';
    this.running = running;
  }
}

const DEFAULT_START = '2026-01-01T00:00:00.000Z';
const HOUR_MS = 3_600_000;
/** The events that end an attempt, and the outcome each records. */
const END_EVENTS = [
  ['job:succeeded', 'succeeded'],
  ['job:failed', 'failed'],
  ['job:retrying', 'retrying'],
  ['job:cancelled', 'cancelled'],
] as const;

/**
 * The manual clock with one event-loop turn, not three, between the timers it fires: the harness
 * runs the scheduler until idle at each instant itself, and a stop costs a turn per timer less.
 * Still a `ManualClock` (the root package's class) for whatever checks.
 */
class TravelClock extends ManualClock {
  /** @inheritdoc */
  override async settle(rounds = 1): Promise<void> {
    await super.settle(rounds);
  }
}

/** One real event-loop turn: every microtask queued before it, and the immediates ahead of it, run. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A scheduler on a manual clock, moved by the test. Register handlers and add triggers on
 * `scheduler` as in production, `start()`, then move time with `advance` / `advanceTo`; `runs`
 * records every attempt, `jobs()` reads the stored jobs.
 *
 * Moving time fires the clock's timers one instant at a time, in order, and waits at each until
 * the scheduler is quiet (see `advanceTo`): a slot's handler starts at its time, and a handler
 * that does its work in promise callbacks ends at that time too. `runUntilIdle` also waits for
 * the attempts still running (handlers on real I/O).
 *
 * @example
 * const travel = new TimeTravel({ start: '2026-03-28T12:00:00Z' });
 * travel.scheduler.register('backup', () => 'done');
 * await travel.scheduler.addTrigger({ id: 'nightly', handler: 'backup', schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' } });
 * await travel.start();
 * await travel.advanceTo('2026-03-30T12:00:00Z');
 * expect(travel.runs.map((r) => r.startedAt.toISOString())).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
 * await travel.stop();
 */
export class TimeTravel {
  /** The manual clock the scheduler reads; move it through the harness, not directly. */
  readonly clock: ManualClock;
  /** The scheduler under test. */
  readonly scheduler: Scheduler;
  readonly #runs: RunRecord[] = [];
  /** Attempts started and not yet ended, by job id. */
  readonly #open = new Map<string, RunRecord>();
  readonly #idleTimeoutMs: number;
  readonly #quietTurns: number;
  /** Raised by every scheduler event: work happened since the last look. */
  #activity = 0;

  /** @param options where the clock starts, the scheduler's options, the idle bounds */
  constructor(options: TimeTravelOptions = {}) {
    const start = toTime(options.start ?? DEFAULT_START, 'start');
    this.#idleTimeoutMs = positiveInteger(options.idleTimeoutMs ?? 5000, 'idleTimeoutMs');
    this.#quietTurns = positiveInteger(options.quietTurns ?? 3, 'quietTurns');
    const given: Record<string, unknown> = { ...options.scheduler };
    if ('clock' in given) throw new InvalidTriggerConfigError('scheduler.clock', 'is the harness\'s own manual clock; leave it out');
    this.clock = new TravelClock(start);
    this.scheduler = new Scheduler({
      instanceId: 'time-travel',
      pollIntervalMs: HOUR_MS,
      lookaheadMs: 2 * HOUR_MS,
      leaseMs: HOUR_MS,
      ...options.scheduler,
      clock: this.clock,
    });
    this.#record();
  }

  /** The manual clock's time. */
  get now(): Date {
    return new Date(this.clock.now());
  }

  /** Every attempt started so far, in start order (a copy; ended ones carry their outcome). */
  get runs(): readonly RunRecord[] {
    return this.#runs.map((run) => ({ ...run }));
  }

  /** Start the scheduler, then run it until idle (slots already due run now). */
  async start(): Promise<void> {
    await this.scheduler.start();
    await this.runUntilIdle();
  }

  /** Stop the scheduler gracefully (running attempts finish first, as `scheduler.stop()` does). */
  async stop(): Promise<void> {
    await this.scheduler.stop();
  }

  /**
   * Move the clock forward by `ms`: see `advanceTo`.
   *
   * @param ms milliseconds of manual time, a finite number not below 0
   * @example
   * await travel.advance(24 * 60 * 60 * 1000); // one day
   */
  async advance(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new InvalidTriggerConfigError('ms', `must be a finite number of milliseconds not below 0, got ${String(ms)}`);
    }
    await this.#travelTo(this.clock.now() + ms);
  }

  /**
   * Move the clock forward to `target`. First the harness waits until the scheduler is quiet at
   * the current time; then, for each instant at which a timer falls due, up to and including
   * `target`, the clock moves to that instant, fires the timers due there (in the order they
   * were set) and the harness waits until quiet again; last the clock moves to `target` and
   * waits once more. Quiet is `runUntilIdle`'s idle without its first condition: an attempt
   * still running when the instant is quiet (its handler waits on the clock, such as for its
   * `timeoutMs`, or on real I/O) goes on while time moves, so a handler's timeout can fall due.
   * Call `runUntilIdle()` first to have attempts on real I/O end where they started. Time never
   * goes back: a `target` before the clock's time throws `InvalidTriggerConfigError` naming
   * `target`, and nothing moves.
   *
   * @param target a `Date`, epoch milliseconds or an ISO 8601 string, not before `now`
   * @example
   * await travel.advanceTo('2026-04-01T00:00:00Z');
   */
  async advanceTo(target: Date | number | string): Promise<void> {
    const end = toTime(target, 'target');
    const now = this.clock.now();
    if (end < now) {
      throw new InvalidTriggerConfigError('target', `${new Date(end).toISOString()} is before the clock's time ${new Date(now).toISOString()}; time travels forward only`);
    }
    await this.#travelTo(end);
  }

  /**
   * Run the scheduler without moving time until it is idle, and return. Idle means that, in
   * `quietTurns` event-loop turns in a row (one `setImmediate` each, so every microtask queued
   * before it has run):
   * - no attempt started by this scheduler is still running (each `job:started` is open until
   *   its `job:succeeded`, `job:failed`, `job:retrying`, `job:cancelled` or `lease:lost`);
   * - no timer of the clock is due at or before the clock's time (each due one is fired first,
   *   which is how slots, retries and starts due now run);
   * - the scheduler emitted no event.
   * Work due later (a retry's backoff, the next slot, the next poll) waits for `advance`. A job
   * the store holds as due but that the scheduler has no timer for (written by another
   * instance) runs at the next poll, as in production. Throws `IdleTimeoutError` after
   * `idleTimeoutMs` of real time.
   *
   * @example
   * await travel.scheduler.runTrigger('report');
   * await travel.runUntilIdle();
   * expect(travel.runs.at(-1)?.outcome).toBe('succeeded');
   */
  runUntilIdle(): Promise<void> {
    return this.#quiet(true);
  }

  /**
   * Every stored job matching `query` (all pages), oldest slot first.
   *
   * @param query the filters of `scheduler.listJobs` (`limit` and `cursor` are the harness's)
   * @example
   * const failed = await travel.jobs({ triggerId: 'nightly', status: 'failed' });
   */
  async jobs(query: Omit<JobQuery, 'limit' | 'cursor'> = {}): Promise<Job[]> {
    const out: Job[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Job[]; nextCursor: string | null } = await this.scheduler.listJobs({ ...query, limit: 1000, ...(cursor === null ? {} : { cursor }) });
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return out.reverse();
  }

  async #travelTo(end: number): Promise<void> {
    await this.#quiet(false);
    for (let next = this.clock.nextTimerAt(); next !== null && next <= end; next = this.clock.nextTimerAt()) {
      await this.clock.advanceTo(next);
      await this.#quiet(false);
    }
    await this.clock.advanceTo(end);
    await this.#quiet(false);
  }

  /**
   * Turn the event loop, firing the timers due now, until `quietTurns` turns in a row saw no
   * event and no due timer (and, with `idle`, no attempt running).
   */
  async #quiet(idle: boolean): Promise<void> {
    const deadline = Date.now() + this.#idleTimeoutMs;
    let quiet = 0;
    while (quiet < this.#quietTurns) {
      const seen = this.#activity;
      const now = this.clock.now();
      const due = this.clock.nextTimerAt();
      if (due !== null && due <= now) await this.clock.advanceTo(now);
      await turn();
      const busy = (idle && this.#open.size > 0) || (due !== null && due <= now) || this.#activity !== seen;
      quiet = busy ? 0 : quiet + 1;
      if (busy && Date.now() > deadline) throw this.#timeout(idle);
    }
  }

  /** Listen to the scheduler: every event is activity; starts and ends make `runs`. */
  #record(): void {
    const scheduler = this.scheduler;
    const busy = (): void => {
      this.#activity += 1;
    };
    for (const name of ['job:scheduled', 'job:skipped', 'job:timeout', 'job:stalled', 'trigger:added', 'trigger:updated', 'trigger:removed', 'slot:missed', 'error'] as const) {
      scheduler.on(name, busy);
    }
    scheduler.on('job:started', (job) => {
      busy();
      const run: RunRecord = {
        jobId: job.id,
        triggerId: job.triggerId,
        handler: job.handler,
        source: job.source,
        scheduledFor: new Date(job.scheduledFor.getTime()),
        attempt: job.attempts,
        startedAt: this.now,
        endedAt: null,
        outcome: null,
        payload: job.payload,
      };
      this.#runs.push(run);
      this.#open.set(job.id, run);
    });
    for (const [name, outcome] of END_EVENTS) scheduler.on(name, (job) => this.#end(job.id, outcome));
    scheduler.on('lease:lost', (event) => this.#end(event.jobId, 'lease-lost'));
  }

  #end(jobId: string, outcome: Exclude<RunOutcome, null>): void {
    this.#activity += 1;
    const run = this.#open.get(jobId);
    if (!run) return;
    run.endedAt = this.now;
    run.outcome = outcome;
    this.#open.delete(jobId);
  }

  #timeout(idle: boolean): IdleTimeoutError {
    const running = [...this.#open.values()].map((run) => ({ ...run }));
    const names = running.map((run) => `job ${run.jobId} of trigger ${run.triggerId} (started ${run.startedAt.toISOString()})`);
    const what = running.length > 0 ? `${running.length} attempt(s) still running: ${names.join(', ')}` : 'the scheduler kept working without a pause';
    return new IdleTimeoutError(
      `${idle ? 'runUntilIdle' : 'advance'}: not ${idle ? 'idle' : 'quiet'} after ${this.#idleTimeoutMs} ms of real time at ${this.now.toISOString()}: ${what}. ` +
        'A handler waiting on the manual clock ends only when the test advances it; one waiting on real I/O needs more idleTimeoutMs.',
      running,
    );
  }
}

/** A time given as a `Date`, epoch milliseconds or an ISO 8601 string, in epoch ms. */
function toTime(value: Date | number | string, field: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidTriggerConfigError(field, `must be a valid Date, epoch milliseconds or ISO 8601 string, got ${String(value)}`);
  return ms;
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidTriggerConfigError(field, `must be a positive integer, got ${String(value)}`);
  return value;
}
