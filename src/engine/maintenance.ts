/**
 * Cluster-wide chores, done by whichever instance holds the `maintenance` lock: recovering the
 * jobs of instances that stopped renewing their leases (a stall: run again up to `maxStalls`),
 * firing dependents an instance died before firing, raising `trigger:late` for slots not started
 * `alertAfterMs` after their time, and purging jobs past retention. Also the measure of this
 * instance's clock against the store's.
 */
import type { Alerts } from './alerts.js';
import type { EngineContext } from './context.js';
import type { Dependents } from './dependents.js';
import type { Dispatcher } from './dispatcher.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { StallRecovery } from './stall-recovery.js';

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
  readonly #dependents: Dependents;
  readonly #alerts: Alerts;
  readonly #recovery: StallRecovery;
  #lastRunAt = Number.NEGATIVE_INFINITY;
  #lastPurgeAt = Number.NEGATIVE_INFINITY;
  #lastClockCheckAt = Number.NEGATIVE_INFINITY;
  /** How long the last pass took here (local clock, ms). */
  #lastPassMs = 0;

  constructor(ctx: EngineContext, leases: LeaseKeeper, dependents: Dependents, dispatcher: Dispatcher, alerts: Alerts) {
    this.#ctx = ctx;
    this.#alerts = alerts;
    this.#dependents = dependents;
    this.#recovery = new StallRecovery(ctx, leases, dependents, dispatcher);
  }

  /** Measure the store's clock offset where the backend can (once a minute), and report a skew beyond tolerance. */
  async measureClock(now: number): Promise<void> {
    const { o } = this.#ctx;
    const jobStore = o.jobStore;
    if (!jobStore.measureClockOffset || now - this.#lastClockCheckAt < CLOCK_CHECK_EVERY_MS) return;
    this.#lastClockCheckAt = now;
    const offsetMs = Math.round(await jobStore.measureClockOffset());
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
    // This instance's own orphans are its own to find, whoever holds the lock.
    await this.#recovery.auditOwn(now);
    if (now - this.#lastRunAt < this.periodMs()) return;
    this.#lastRunAt = now;
    const lease = await o.lockManager.acquire('maintenance', o.instanceId, o.leaseMs, this.#ctx.storeNow());
    if (!lease) return;
    let done = false;
    try {
      await this.#recovery.recoverOthers();
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
}
