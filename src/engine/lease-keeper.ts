/**
 * The attempts held on this instance (running, or prepared to start at their slot) and their
 * leases: one timer renews them a margin before they run out, wider while the store is slow, and
 * an attempt whose lease ran out before a renewal came back is aborted by its own holder before
 * anyone else may recover it.
 *
 * Where the backend keeps instance leases, the leases of all held attempts hang on this
 * instance's registration (`InstanceRegistration`): one renewal per interval keeps them all, and
 * a registration lost (fenced by an instance that took this one for dead) aborts them all.
 * Without one (another backend, or while registering fails) every lease is renewed on its own.
 */
import type { TimerHandle } from '../clock.js';
import { StoreError } from '../errors.js';
import type { LeaseLostReason } from '../events.js';
import { LinkedList } from '../queue/linked-list.js';
import type { EngineContext } from './context.js';
import type { Run } from './handlers.js';
import { toError } from './outcome.js';
import { InstanceRegistration } from './instance-registration.js';
import { renewalMargin, RenewalTimes, type RenewalSummary } from './renewal-times.js';

/** Least pause after a failed lease renewal before the next try (a tenth of the lease if longer). */
const RENEW_RETRY_MIN_MS = 100;

/** The held attempts and the renewal of their leases. */
export class LeaseKeeper {
  readonly #ctx: EngineContext;
  // Attempts held here, in start order.
  readonly #held = new LinkedList<Run>();
  readonly #renewalTimes = new RenewalTimes();
  #timer: TimerHandle | null = null;
  #timerAt = Number.POSITIVE_INFINITY;
  #lastSlowRenewalAt = Number.NEGATIVE_INFINITY;
  /** This instance's registration, which the held leases hang on while it is held. */
  readonly registration: InstanceRegistration;
  #instanceRenewal: Promise<void> | null = null;
  #instanceRetryAt = 0;
  /** Between `start()` and `stop()`: a renewal answered after a stop arms no timer. */
  #active = false;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
    this.registration = new InstanceRegistration(ctx);
  }

  /**
   * Register this instance (where the backend keeps instance leases) and keep the registration
   * renewed from now on, jobs or not. A failure is reported; the registration is tried again at
   * the next renewal tick, and jobs' leases are renewed one by one meanwhile.
   */
  async start(): Promise<void> {
    this.#active = true;
    if (!this.registration.supported) return;
    await this.#register();
  }

  /** Give the registration up once no attempt is held any more (a stopping instance). */
  async release(): Promise<void> {
    this.stop();
    await this.registration.release();
  }

  async #register(): Promise<void> {
    try {
      await this.registration.register();
    } catch (error) {
      this.#instanceRetryAt = this.#ctx.o.clock.now() + this.#retryPauseMs();
      this.#ctx.fail(new StoreError(`registering the instance lease failed: ${toError(error).message}`, { cause: error }));
    } finally {
      this.#armNext();
    }
  }

  #retryPauseMs(): number {
    return Math.max(RENEW_RETRY_MIN_MS, Math.floor(this.#ctx.o.leaseMs / 10));
  }

  /** Attempts held here. */
  get size(): number {
    return this.#held.size;
  }

  /** The held attempts, oldest first (a copy). */
  toArray(): Run[] {
    return this.#held.toArray();
  }

  add(run: Run): void {
    this.#held.add(run);
  }

  delete(run: Run): void {
    this.#held.delete(run);
  }

  /** The attempt of a job held here, if any; a walk of the list, which only a cancel does. */
  find(jobId: string): Run | undefined {
    for (let run = this.#held.first; run !== null; run = run.nextLinked) if (run.job.id === jobId) return run;
    return undefined;
  }

  /** Round trips of recent renewals (`null` before the first). */
  summary(): RenewalSummary | null {
    return this.#renewalTimes.summary();
  }

  /** The slowest recent renewal round trip, in ms (0 before the first). */
  recentMaxMs(): number {
    return this.#renewalTimes.recentMax();
  }

  /** Make sure a run's lease is renewed in time (arms the timer for it if need be). */
  watch(run: Run): void {
    if (this.registration.held) this.#armNext();
    else this.#arm(this.#renewalDue(run));
  }

  /** Arm the timer for the next renewal or registration of the instance lease, if there is one. */
  #armNext(): void {
    if (!this.#active || !this.registration.supported) return;
    this.#arm(this.#instanceDue());
  }

  /** When (local clock) the registration is to be renewed, or registered again. */
  #instanceDue(): number {
    if (this.#instanceRenewal) return Number.POSITIVE_INFINITY;
    if (!this.registration.held) return this.#instanceRetryAt;
    const due = this.registration.expiresAt - this.#ctx.clockOffsetMs - renewalMargin(this.#ctx.o.leaseMs, this.#renewalTimes.recentMax());
    return Math.max(due, this.#instanceRetryAt);
  }

  /** No more renewals: the instance stopped. */
  stop(): void {
    this.#active = false;
    this.#timer?.cancel();
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  /**
   * Renew one held attempt's lease (and its permit); abort it when the lease is lost or a cancel
   * was requested. One renewal per attempt at a time. A function the job context can hold (one
   * per scheduler, not one per job): a handler's `heartbeat()`.
   */
  readonly renew = (run: Run): Promise<void> => {
    if (run.reason) return Promise.resolve();
    if (this.registration.held) return this.#renewInstance();
    return (run.renewal ??= this.#renewOnce(run));
  };

  /**
   * Renew the registration that every held lease hangs on: one store call for all of them. One at
   * a time; a heartbeat joins the one on its way.
   */
  #renewInstance(): Promise<void> {
    return (this.#instanceRenewal ??= (async () => {
      const { o } = this.#ctx;
      const began = o.clock.now();
      try {
        const answer = await this.registration.renew();
        if (answer.kind === 'failed') {
          this.#instanceRetryAt = o.clock.now() + this.#retryPauseMs();
          this.#ctx.fail(new StoreError(`renewing the instance lease failed: ${toError(answer.error).message}`, { cause: answer.error }));
          return;
        }
        this.#noteRenewal(o.clock.now() - began);
        if (answer.kind === 'stale') return;
        this.#instanceRetryAt = 0;
        if (answer.kind === 'lost') {
          this.#loseAll('expired');
          return;
        }
        if (answer.cancels.length > 0) {
          const cancels = new Set(answer.cancels);
          for (let run = this.#held.first; run !== null; run = run.nextLinked) if (cancels.has(run.job.id)) run.abort({ kind: 'cancel' });
        }
        await this.#renewPermits();
      } finally {
        this.#instanceRenewal = null;
        this.#armNext();
      }
    })());
  }

  /**
   * Capped triggers' permits are locks of their own, renewed with the instance lease: all in one
   * store call where the lock manager can (`renewMany`). Only when fewer were renewed than held
   * are they renewed one by one, which tells which ones were lost (and leaves them to expire).
   */
  async #renewPermits(): Promise<void> {
    const { o } = this.#ctx;
    const runs = this.toArray().filter((run) => run.permit !== null && !run.reason);
    if (runs.length === 0) return;
    const now = this.#ctx.storeNow();
    if (o.lockManager.renewMany) {
      try {
        const renewed = await o.lockManager.renewMany(runs.map((run) => run.permit!), o.leaseMs, now);
        if (renewed === runs.length) {
          const expiresAt = new Date(now.getTime() + o.leaseMs);
          for (const run of runs) run.permit = { ...run.permit!, expiresAt };
          return;
        }
      } catch (error) {
        this.#ctx.fail(new StoreError(`renewing the permits of ${runs.length} jobs failed: ${toError(error).message}`, { cause: error }));
        return;
      }
    }
    for (const run of runs) {
      try {
        run.permit = (await o.lockManager.renew(run.permit!, o.leaseMs, this.#ctx.storeNow())) ?? run.permit;
      } catch (error) {
        this.#ctx.fail(new StoreError(`renewing the permit of job ${run.job.id} failed: ${toError(error).message}`, { cause: error }));
      }
    }
  }

  /**
   * Every held attempt lost its lease with the registration: abort them all (their jobs are, or
   * will be, recovered elsewhere; their writes are refused by their tokens). A new registration
   * follows at the next tick.
   */
  #loseAll(reason: LeaseLostReason): void {
    this.registration.drop();
    for (const run of this.toArray()) {
      if (run.reason || run.settled) continue;
      this.#ctx.emit('lease:lost', { jobId: run.job.id, token: run.token, reason });
      run.abort({ kind: reason === 'expired' ? 'lease-lost' : 'lease-expiring' });
    }
  }

  async #renewOnce(run: Run): Promise<void> {
    const { o } = this.#ctx;
    const { job } = run;
    const began = o.clock.now();
    const expiresAt = this.#ctx.leaseExpiry();
    try {
      const current = await o.jobStore.renewLease(job.id, run.token, expiresAt);
      this.#noteRenewal(o.clock.now() - began);
      if (!current) {
        run.abort({ kind: 'lease-lost' });
        this.#ctx.emit('lease:lost', { jobId: job.id, token: run.token, reason: 'expired' });
        return;
      }
      run.leaseExpiresAt = Math.max(run.leaseExpiresAt, expiresAt.getTime());
      run.renewRetryAt = 0;
      if (current.cancelRequested) run.abort({ kind: 'cancel' });
      if (run.permit) run.permit = (await o.lockManager.renew(run.permit, o.leaseMs, this.#ctx.storeNow())) ?? run.permit;
    } catch (error) {
      // Keep running through a store outage while the lease lasts (the sweep aborts the attempt
      // once it has run out): the final write is fenced, so a job that was taken over meanwhile
      // cannot overwrite the new holder's record.
      run.renewRetryAt = o.clock.now() + Math.max(RENEW_RETRY_MIN_MS, Math.floor(o.leaseMs / 10));
      this.#ctx.fail(new StoreError(`lease renewal of job ${job.id} failed: ${toError(error).message}`, { cause: error }));
    } finally {
      run.renewal = null;
      if (run.linked && !run.settled) this.watch(run);
    }
  }

  /** Note a renewal's round trip; report one that took most of the lease. */
  #noteRenewal(roundTripMs: number): void {
    const { o } = this.#ctx;
    this.#renewalTimes.record(roundTripMs);
    this.#ctx.storeRoundTripMs = this.#renewalTimes.recentMax();
    this.#ctx.onRoundTrip(roundTripMs);
    const now = o.clock.now();
    if (roundTripMs * 2 > o.leaseMs && now - this.#lastSlowRenewalAt >= o.leaseMs) {
      this.#lastSlowRenewalAt = now;
      o.logger.warn({ roundTripMs, leaseMs: o.leaseMs }, 'lease renewal took more than half the lease');
      this.#ctx.emit('lease:renewal-slow', { roundTripMs, leaseMs: o.leaseMs, jobs: this.#held.size });
    }
  }

  /** When (local clock) a run's lease is to be renewed: a margin before it runs out, wider when renewals are slow. */
  #renewalDue(run: Run): number {
    const due = run.leaseExpiresAt - this.#ctx.clockOffsetMs - renewalMargin(this.#ctx.o.leaseMs, this.#renewalTimes.recentMax());
    return Math.max(due, run.renewRetryAt);
  }

  /**
   * Arm the renewal timer for `at` (local clock) unless it is armed for earlier already. One timer
   * per instance, not one per job: a short job costs no timer at all.
   */
  #arm(due: number): void {
    if ((this.#held.size === 0 && !this.registration.supported) || this.#ctx.state === 'stopped' || !this.#active) {
      this.#timer?.cancel();
      this.#timer = null;
      this.#timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (!Number.isFinite(due) || (this.#timer && this.#timerAt <= due)) return;
    this.#timer?.cancel();
    this.#timerAt = due;
    this.#timer = this.#ctx.o.clock.setTimer(this.#onTimer, Math.max(0, due - this.#ctx.o.clock.now()));
  }

  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#arm(this.#sweep());
  };

  /**
   * Walk the held attempts: renew every lease due within the next sixth of a lease, so one sweep
   * serves many jobs, and abort every unfinished attempt whose lease ran out (half of
   * `leaseGraceMs` ago) while its renewal was still on its way or failed; it is handed back before
   * anyone would recover it (recovery waits the whole grace). Returns when the next renewal or
   * give-up is due.
   */
  #sweep(): number {
    const { o } = this.#ctx;
    const now = o.clock.now();
    const soon = now + Math.floor(o.leaseMs / 6);
    // The holder gives up half the grace past the expiry: a renewal answered late still counts (the
    // store refuses it only once the job was recovered), and recovery waits the whole grace. While
    // renewals are slow, recovery's grace stretches to two of the slowest recent round trips (on a
    // store slow for all), and so does this half of it: giving up while the renewal is merely slow
    // would hand back (and run twice) the jobs of a live instance.
    const giveUpAfter = Math.floor(Math.max(o.leaseGraceMs, 2 * this.#renewalTimes.recentMax()) / 2);
    if (this.registration.supported) {
      if (this.registration.held && this.registration.expiresAt - this.#ctx.clockOffsetMs + giveUpAfter <= now) {
        o.logger.warn({ expiredAt: new Date(this.registration.expiresAt).toISOString(), jobs: this.#held.size }, 'the instance lease ran out before it could be renewed; handing every job back');
        this.#loseAll('renewal-overdue');
      }
      if (!this.registration.held) {
        if (this.#instanceRetryAt <= now && this.#ctx.state === 'running') void this.#register();
      } else if (!this.#instanceRenewal && this.#instanceDue() <= soon) {
        // Not tracked for `stop()`, like a job's renewal (below).
        void this.#renewInstance();
      }
      if (this.registration.held) {
        // Every held lease hangs on the registration: the give-up above covers them all.
        return this.#instanceRenewal ? this.registration.expiresAt - this.#ctx.clockOffsetMs + giveUpAfter : this.#instanceDue();
      }
    }
    let next = this.registration.supported ? Math.max(now + RENEW_RETRY_MIN_MS, this.#instanceRetryAt) : Number.POSITIVE_INFINITY;
    for (let run = this.#held.first; run !== null; run = run.nextLinked) {
      // A settled attempt's end is being written: that write is fenced by the lease token, not by
      // the expiry, and a renewal racing it would be a second write to the same record (which a
      // server without atomic updates can lose one of).
      if (run.reason || run.settled) continue;
      const expiry = run.leaseExpiresAt - this.#ctx.clockOffsetMs + giveUpAfter;
      if (expiry <= now) {
        o.logger.warn({ jobId: run.job.id, expiredAt: new Date(run.leaseExpiresAt).toISOString() }, 'lease ran out before it could be renewed; handing the job back');
        this.#ctx.emit('lease:lost', { jobId: run.job.id, token: run.token, reason: 'renewal-overdue' });
        run.abort({ kind: 'lease-expiring' });
        continue;
      }
      if (run.renewal) {
        next = Math.min(next, expiry);
        continue;
      }
      const due = this.#renewalDue(run);
      if (due <= soon) {
        // Not tracked for `stop()`: a renewal the store never answers must not hold a stop up; its
        // attempt is aborted when the lease runs out, and the answer, if it comes, finds it gone.
        void this.renew(run);
        next = Math.min(next, expiry);
      } else {
        next = Math.min(next, due);
      }
    }
    return next;
  }
}
