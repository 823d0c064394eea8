/**
 * Starting attempts: at once, on the next event-loop turn once a turn's budget of starts is
 * spent, or (prepared ahead of their slot) at their start time; and running the handler on its
 * runner. An attempt's end goes to the settle handler (the `EndRecorder`).
 */
import type { TimerHandle } from '../clock.js';
import { JobTimeoutError } from '../errors.js';
import type { Lease, RunOutcome, RunRequest, SlotClaim } from '../ports.js';
import { TimeQueue } from '../queue/time-queue.js';
import type { Job, Trigger } from '../types.js';
import type { EngineContext } from './context.js';
import type { HandlerRegistration, Place, Run } from './handlers.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { zeroMetrics } from './outcome.js';
import { RunContext, RunningJob, type SettleHandler } from './running-job.js';
import type { Timeline } from './timeline.js';

/** Attempts started per event-loop turn before yielding. */
const TURN_BUDGET = 64;
/** How long prepared attempts may go on starting in one event-loop turn. */
const START_TURN_MS = 4;

/** Starts attempts and runs their handlers. */
export class AttemptRunner {
  readonly #ctx: EngineContext;
  readonly #leases: LeaseKeeper;
  readonly #timeline: Timeline;
  readonly #onSettled: SettleHandler<HandlerRegistration, Place>;
  // Attempts claimed and written ahead of their slot, by start time.
  readonly #prepared = new TimeQueue<Run>((run) => run.startAt);
  // Prepared attempts that started, whose triggers are queued for their next slot once a herd is out.
  #successors: Run[] = [];
  #startTimer: TimerHandle | null = null;
  #startTimerAt = Number.POSITIVE_INFINITY;
  #startsScheduled = false;
  #turnStarts = 0;
  #turnResetScheduled = false;
  // Attempts past a turn's budget, started on the next turn.
  #deferred: Run[] = [];
  #deferredScheduled = false;

  constructor(ctx: EngineContext, leases: LeaseKeeper, timeline: Timeline, onSettled: SettleHandler<HandlerRegistration, Place>) {
    this.#ctx = ctx;
    this.#leases = leases;
    this.#timeline = timeline;
    this.#onSettled = onSettled;
  }

  /** Whether prepared attempts are still starting (a herd): ends are recorded after them. */
  get startingHerd(): boolean {
    return this.#startsScheduled;
  }

  /** A new event-loop turn of the engine's own (a timer or an immediate): a fresh budget of starts. */
  newTurn(): void {
    this.#turnStarts = 0;
  }

  /** The engine's record of an attempt whose job is written (running under this instance's lease). */
  newRun(job: Job, place: Place, trigger: Trigger | null, permit: Lease | null, claim: SlotClaim | null): Run {
    return new RunningJob(job, place.registration, trigger, place, permit, this.#onSettled, claim);
  }

  /**
   * Start an attempt now, or on the next turn once this turn's budget is spent. The attempt owns
   * its place (and permit) from here: its end gives them back.
   */
  start(run: Run): void {
    run.place.handOver();
    this.#leases.add(run);
    this.#ctx.emit('job:started', run.job);
    // With a store that answers in microtasks and handlers that return at once, job after job
    // could start without the event loop ever turning (a backlog, or a listener that starts the
    // next run): past a budget per turn, the attempt starts on the next turn instead.
    if (this.#deferred.length === 0 && this.#spendTurnBudget()) this.#execute(run);
    else this.#defer(run);
  }

  /** A written attempt goes: started now, or (prepared ahead) queued for its start time. */
  launch(run: Run): void {
    run.place.handOver();
    this.#ctx.emit('job:scheduled', run.job);
    if (run.startAt === 0) {
      this.start(run);
      return;
    }
    this.#leases.add(run);
    if (this.#ctx.state !== 'running') {
      // Written while the instance stops: handed back for its own time, like the prepared ones.
      run.abort({ kind: 'shutdown' });
      return;
    }
    this.#prepared.push(run);
    this.#leases.watch(run);
    if (run.startAt < this.#startTimerAt) this.#armStarts();
  }

  /** A prepared attempt settled before it began: its trigger's next slot is queued now. */
  releaseSuccessor(run: Run): void {
    const successor = run.successor;
    if (!successor) return;
    run.successor = null;
    this.#timeline.releaseHeld(successor);
  }

  /** The instance stops: attempts prepared ahead never start (handed back as pending for their own time). */
  stop(): void {
    this.#startTimer?.cancel();
    this.#startTimer = null;
    this.#startTimerAt = Number.POSITIVE_INFINITY;
    for (let run = this.#prepared.shift(); run; run = this.#prepared.shift()) run.abort({ kind: 'shutdown' });
    this.#successors = [];
  }

  #defer(run: Run): void {
    this.#deferred.push(run);
    if (this.#deferredScheduled) return;
    this.#deferredScheduled = true;
    setImmediate(this.#startDeferred);
  }

  /** Start the attempts that waited for a turn, in order, as far as this turn's budget goes. */
  readonly #startDeferred = (): void => {
    this.#deferredScheduled = false;
    this.#turnStarts = 0;
    const waiting = this.#deferred;
    this.#deferred = [];
    for (const run of waiting) {
      if (this.#deferred.length === 0 && this.#spendTurnBudget()) this.#execute(run);
      else this.#defer(run);
    }
  };

  /** Count a start against this event-loop turn's budget; `false` once it is spent. */
  #spendTurnBudget(): boolean {
    if (!this.#turnResetScheduled) {
      this.#turnResetScheduled = true;
      setImmediate(() => {
        this.#turnStarts = 0;
        this.#turnResetScheduled = false;
      });
    }
    this.#turnStarts += 1;
    return this.#turnStarts <= TURN_BUDGET;
  }

  #armStarts(): void {
    const head = this.#prepared.peek();
    if (!head || this.#startsScheduled) return;
    if (this.#startTimer && this.#startTimerAt <= head.startAt) return;
    this.#startTimer?.cancel();
    this.#startTimerAt = head.startAt;
    this.#startTimer = this.#ctx.o.clock.setTimer(this.#onStartTimer, Math.max(0, head.startAt - this.#ctx.o.clock.now()));
  }

  readonly #onStartTimer = (): void => {
    this.#startTimer = null;
    this.#startTimerAt = Number.POSITIVE_INFINITY;
    this.#startPrepared();
  };

  /**
   * Start the prepared attempts whose time has come, in order. Starting one is cheap (its slot is
   * claimed and its job written already), so a herd starts in few turns: as many as fit in
   * `START_TURN_MS` per turn. The ends of attempts that finish meanwhile wait (`startingHerd`).
   */
  readonly #startPrepared = (): void => {
    this.#startsScheduled = false;
    const now = this.#ctx.o.clock.now();
    const began = performance.now();
    let started = 0;
    for (let run = this.#prepared.peek(); run && run.startAt <= now; run = this.#prepared.peek()) {
      if ((started & 63) === 63 && performance.now() - began > START_TURN_MS) {
        this.#startsScheduled = true;
        setImmediate(this.#startPrepared);
        return;
      }
      this.#prepared.shift();
      // Cancelled, or its instance stopping, while it waited: its end is recorded already.
      if (run.settled) continue;
      if (run.successor) this.#successors.push(run);
      run.startedAt = now;
      this.#ctx.emit('job:started', run.job);
      this.#execute(run);
      started += 1;
    }
    // The next slots of the triggers that started are queued once every due start is out.
    const successors = this.#successors;
    this.#successors = [];
    for (const run of successors) this.releaseSuccessor(run);
    this.#armStarts();
  };

  /**
   * Start one attempt. Its end comes back through the settle handler: callbacks rather than an
   * async function, as this runs for every job and each promise or suspended frame is garbage to
   * collect.
   */
  #execute(run: Run): void {
    // Stopped (a cancel, a stop) while it waited for its turn: its end is recorded already.
    if (run.settled) return;
    const { job, registration } = run;
    const { clock, logger } = this.#ctx.o;
    if (run.startAt === 0) run.startedAt = clock.now();
    if (job.timeoutMs !== null) {
      const limit = job.timeoutMs;
      run.timeout = clock.setTimer(() => run.abort({ kind: 'timeout', error: new JobTimeoutError(limit) }), limit);
    }
    this.#leases.watch(run);
    if (registration.invalid) {
      run.settle({ ok: false, error: registration.invalid, metrics: zeroMetrics() });
      return;
    }
    run.begin();
    // The engine stops waiting on abort itself, so the runner need not watch the signal (and an
    // inline handler that never reads it never pays for creating one).
    const request: RunRequest = { handler: registration.handler, context: new RunContext(run, logger, this.#leases.renew), callerWatchesAbort: true };
    const { runner } = registration;
    if (runner.start) {
      try {
        runner.start(request, run.deliver);
      } catch (error) {
        run.deliver({ ok: false, error, metrics: zeroMetrics() });
      }
      return;
    }
    let running: Promise<RunOutcome>;
    try {
      running = runner.run(request);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(run.deliver, (error: unknown) => run.deliver({ ok: false, error, metrics: zeroMetrics() }));
  }
}
