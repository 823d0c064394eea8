/**
 * The attempts held on this instance (running, or prepared to start at their slot) and their
 * leases: one timer renews every lease a margin before it runs out, wider while the store is
 * slow, and an attempt whose lease ran out before a renewal came back is aborted by its own
 * holder before anyone else may recover it.
 */
import type { TimerHandle } from '../clock.js';
import { StoreError } from '../errors.js';
import { LinkedList } from '../queue/linked-list.js';
import type { EngineContext } from './context.js';
import type { Run } from './handlers.js';
import { toError } from './outcome.js';
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

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
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
    this.#arm(this.#renewalDue(run));
  }

  /** No more renewals: the instance stopped. */
  stop(): void {
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
    return (run.renewal ??= this.#renewOnce(run));
  };

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
    if (this.#held.size === 0 || this.#ctx.state === 'stopped') {
      this.stop();
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
    let next = Number.POSITIVE_INFINITY;
    // The holder gives up half the grace past the expiry: a renewal answered late still counts (the
    // store refuses it only once the job was recovered), and recovery waits the whole grace.
    const giveUpAfter = Math.floor(o.leaseGraceMs / 2);
    for (let run = this.#held.first; run !== null; run = run.nextLinked) {
      // A settled attempt's end is being written: that write is fenced by the lease token, not by
      // the expiry, and a renewal racing it would be a second write to the same record (which a
      // server without atomic updates can lose one of).
      if (run.reason || run.settled) continue;
      const expiry = run.leaseExpiresAt - this.#ctx.clockOffsetMs + giveUpAfter;
      if (expiry <= now) {
        o.logger.warn({ jobId: run.job.id, expiredAt: new Date(run.leaseExpiresAt).toISOString() }, 'lease ran out before it could be renewed; handing the job back');
        this.#ctx.emit('lease:lost', { jobId: run.job.id, token: run.token, reason: 'the lease ran out before a renewal came back' });
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
