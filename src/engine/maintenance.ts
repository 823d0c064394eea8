/**
 * Cluster-wide chores, done by whichever instance holds the `maintenance` lock: recovering the
 * jobs of instances that stopped renewing their leases (a stall: run again up to `maxStalls`),
 * firing dependents an instance died before firing, raising `trigger:late` for slots not started
 * `alertAfterMs` after their time, and purging jobs past retention. Also the measure of this
 * instance's clock against the store's.
 */
import type { JobErrorInfo, JobStatus } from '../types.js';
import type { Alerts } from './alerts.js';
import type { EngineContext } from './context.js';
import type { Dependents } from './dependents.js';
import type { Dispatcher } from './dispatcher.js';
import { historyEntry } from './job-state.js';
import type { LeaseKeeper } from './lease-keeper.js';

const PURGE_EVERY_MS = 60 * 60 * 1000;
const CLOCK_CHECK_EVERY_MS = 60 * 1000;
/**
 * Most share of the time between two passes the chores may take: their queries read whole
 * collections on a server without index use (FerretDB), so a slow pass spaces the next one out
 * (up to one `leaseMs` apart) rather than keep the store busy with them.
 */
const CHORES_SHARE = 0.1;

/** Recovery, purge and the clock check. */
export class Maintenance {
  readonly #ctx: EngineContext;
  readonly #leases: LeaseKeeper;
  readonly #dependents: Dependents;
  readonly #dispatcher: Dispatcher;
  readonly #alerts: Alerts;
  #lastRunAt = Number.NEGATIVE_INFINITY;
  #lastPurgeAt = Number.NEGATIVE_INFINITY;
  #lastClockCheckAt = Number.NEGATIVE_INFINITY;
  /** How long the last pass took here (local clock, ms). */
  #lastPassMs = 0;

  constructor(ctx: EngineContext, leases: LeaseKeeper, dependents: Dependents, dispatcher: Dispatcher, alerts: Alerts) {
    this.#ctx = ctx;
    this.#alerts = alerts;
    this.#leases = leases;
    this.#dependents = dependents;
    this.#dispatcher = dispatcher;
  }

  /** Measure the store's clock offset where the backend can (once a minute), and report a skew beyond tolerance. */
  async measureClock(now: number): Promise<void> {
    const { o } = this.#ctx;
    const measure = o.jobStore.measureClockOffset;
    if (!measure || now - this.#lastClockCheckAt < CLOCK_CHECK_EVERY_MS) return;
    this.#lastClockCheckAt = now;
    const offsetMs = Math.round(await measure.call(o.jobStore));
    this.#ctx.clockOffsetMs = offsetMs;
    if (Math.abs(offsetMs) > o.clockSkewToleranceMs) {
      o.logger.warn({ offsetMs, toleranceMs: o.clockSkewToleranceMs }, 'clock skew to the store beyond tolerance');
      this.#ctx.emit('clock:skew', { offsetMs, toleranceMs: o.clockSkewToleranceMs });
    }
  }

  /**
   * Time between two passes: a third of a lease, longer (up to a whole lease) when the last pass
   * here took more than a tenth of that.
   */
  periodMs(): number {
    const { leaseMs } = this.#ctx.o;
    const base = Math.ceil(leaseMs / 3);
    return Math.max(base, Math.min(leaseMs, Math.ceil(this.#lastPassMs / CHORES_SHARE)));
  }

  /**
   * Do the chores if a period has passed since the last time and this instance gets the lock. The
   * lock is then kept until the period is over (renewed to the rest of it rather than released),
   * so the chores run once per period in the whole cluster, not once per instance: each run is
   * collection-wide queries, which on a server without index use (FerretDB) cost more than all the
   * jobs' own writes. Released at once after a failure, so that another instance tries again soon.
   */
  async maybeRun(now: number): Promise<void> {
    const { o } = this.#ctx;
    if (now - this.#lastRunAt < this.periodMs()) return;
    this.#lastRunAt = now;
    const lease = await o.lockManager.acquire('maintenance', o.instanceId, o.leaseMs, this.#ctx.storeNow());
    if (!lease) return;
    let done = false;
    try {
      await this.#recoverExpiredLeases();
      await this.#dependents.fireUnfired(now);
      await this.#alerts.check(now);
      if (now - this.#lastPurgeAt >= PURGE_EVERY_MS) {
        this.#lastPurgeAt = now;
        const removed = await o.jobStore.purge(new Date(now - o.jobRetentionMs));
        if (removed > 0) o.logger.info({ removed }, 'purged jobs past retention');
      }
      done = true;
    } finally {
      this.#lastPassMs = o.clock.now() - now;
      const rest = this.periodMs() - this.#lastPassMs;
      if (done && rest > 0) await o.lockManager.renew(lease, rest, this.#ctx.storeNow());
      else await o.lockManager.release(lease);
    }
  }

  /**
   * Jobs whose holder stopped renewing (its instance died) stalled: each is run again, spending no
   * attempt, up to its `maxStalls`, then failed with `ERR_STALLED`. A lease counts as expired only
   * `leaseGraceMs` past its expiry (longer while renewals are slow): a live holder aborts its own
   * attempt at the expiry itself.
   */
  async #recoverExpiredLeases(): Promise<void> {
    const { o } = this.#ctx;
    // A store slow enough to hold up this instance's renewals holds up the holder's as well (and
    // its hand-back): while it is, the grace stretches to two of the latest slowest round trips.
    const grace = Math.max(o.leaseGraceMs, 2 * this.#leases.recentMaxMs());
    const expired = await o.jobStore.findExpiredLeases(new Date(this.#ctx.storeNow().getTime() - grace), 100);
    const local = expired.length > 0 ? new Set(this.#leases.toArray().map((run) => run.job.id)) : null;
    for (const job of expired) {
      if (!job.lease || local?.has(job.id)) continue;
      // Stamped at the write, not at the poll: earlier writes of a slow store may have taken a while.
      const at = this.#ctx.now();
      const { owner, expiresAt } = job.lease;
      const stalls = job.stalls + 1;
      const rerun = stalls <= job.maxStalls;
      const died = `instance ${owner} stopped renewing its lease (expired ${expiresAt.toISOString()}) while running attempt ${job.attempts}`;
      const status: JobStatus = rerun ? 'pending' : 'failed';
      const hasDependents = !rerun && this.#dependents.has(job.triggerId);
      const info: JobErrorInfo = { name: 'JobStalledError', message: `job stalled ${stalls} times: ${died}`, code: 'ERR_STALLED' };
      const written = await o.jobStore.update(
        job.id,
        { status: ['running'], leaseToken: job.lease.token },
        rerun
          ? {
              status,
              lease: null,
              stalls,
              // A stall is not a failed attempt: the re-run is the same attempt again.
              attempts: Math.max(0, job.attempts - 1),
              runAt: at,
              nextAttemptAt: at,
              gate: job.permitLimit !== null ? job.triggerId : null,
            }
          : { status, lease: null, stalls, error: info, finishedAt: at, dependentsFired: !hasDependents },
        [historyEntry(status, at, o.instanceId, rerun ? `stalled: ${died}; run again (stall ${stalls} of ${job.maxStalls})` : `failed: ${info.message} (maxStalls ${job.maxStalls})`)],
      );
      if (!written) continue;
      o.logger.warn({ jobId: job.id, owner, stalls, maxStalls: job.maxStalls }, rerun ? 'a job stalled (its instance died): running it again' : 'a job stalled too often: failed');
      this.#ctx.emit('job:stalled', written);
      if (!rerun) this.#ctx.emit('job:failed', written);
      if (hasDependents) await this.#dependents.fire(written);
    }
    if (expired.length > 0) this.#dispatcher.pendingNow();
  }
}
