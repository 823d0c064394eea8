/**
 * Recovering the jobs of instances that died while running them (a stall: run again up to
 * `maxStalls`, then failed with `ERR_STALLED`).
 *
 * Where the backend keeps instance leases, a running job's lease hangs on its holder's
 * registration, so a job whose own lease term has passed is dead only when its holder's
 * registration is too: the recovering instance reads the live registrations, asks only for the
 * expired jobs of other holders, fences each such holder's registration first (so that a holder
 * still alive fails its next renewal and aborts everything), and only then recovers the jobs,
 * each fenced by its token. This instance's own jobs that it does not hold (the record of an
 * earlier run under the same id, or a job whose end could not be written) are found by an audit
 * of its own, after a registration that replaced an earlier run's record or after a store error.
 */
import type { Job, JobErrorInfo, JobStatus } from '../types.js';
import type { EngineContext } from './context.js';
import type { Dependents } from './dependents.js';
import type { Dispatcher } from './dispatcher.js';
import { historyEntry } from './job-state.js';
import type { LeaseKeeper } from './lease-keeper.js';

/** Most jobs one pass recovers. */
const BATCH = 100;

/** Finds and recovers stalled jobs. */
export class StallRecovery {
  readonly #ctx: EngineContext;
  readonly #leases: LeaseKeeper;
  readonly #dependents: Dependents;
  readonly #dispatcher: Dispatcher;
  /** When the next audit of this instance's own jobs is due (local clock); `null`: none. */
  #auditAt: number | null = null;

  constructor(ctx: EngineContext, leases: LeaseKeeper, dependents: Dependents, dispatcher: Dispatcher) {
    this.#ctx = ctx;
    this.#leases = leases;
    this.#dependents = dependents;
    this.#dispatcher = dispatcher;
  }

  /** How long past its expiry a lease counts as dead: the grace, longer while renewals are slow. */
  #graceMs(): number {
    // A store slow enough to hold up this instance's renewals holds up the holder's as well (and
    // its hand-back): while it is, the grace stretches to two of the latest slowest round trips.
    return Math.max(this.#ctx.o.leaseGraceMs, 2 * this.#leases.recentMaxMs());
  }

  /** Recover the jobs of dead holders (other instances, or without instance leases any holder but a live run here). */
  async recoverOthers(): Promise<void> {
    const { o } = this.#ctx;
    const bound = new Date(this.#ctx.storeNow().getTime() - this.#graceMs());
    const instances = this.#leases.registration.store;
    if (!instances) {
      const expired = await o.jobStore.findExpiredLeases(bound, BATCH);
      await this.#recover(expired, null);
      return;
    }
    const live = await instances.liveInstances(bound);
    const exceptOwners = [o.instanceId, ...live.map((lease) => lease.instanceId)];
    const expired = await o.jobStore.findExpiredLeases(bound, BATCH, { exceptOwners });
    const dead = new Set<string>();
    for (const job of expired) {
      const owner = job.lease?.owner;
      if (owner === undefined || owner === o.instanceId || exceptOwners.includes(owner) || dead.has(owner)) continue;
      // Fenced first: a holder still alive (its renewal late) fails its next renewal and aborts.
      if (await instances.fenceInstance(owner, bound)) dead.add(owner);
    }
    await this.#recover(
      expired.filter((job) => job.lease !== null && dead.has(job.lease.owner)),
      null,
    );
  }

  /**
   * Audit this instance's own jobs once an audit is due: after a registration that replaced an
   * earlier run's record, and a lease plus the grace after a store error (a job whose end or
   * hand-back could not be written, or whose insert answer was lost, is running in the store
   * under this instance's lease while no attempt here holds it).
   */
  async auditOwn(now: number): Promise<void> {
    const { o } = this.#ctx;
    const registration = this.#leases.registration;
    // A job orphaned by an error is found once its first lease term is over: a lease and the grace
    // after the error. An earlier run's jobs alike, counted from this run's registration.
    // (1 ms past it: a lease counts as expired only strictly before the bound.)
    const after = o.leaseMs + this.#graceMs() + 1;
    if (registration.replacedEarlierRun) {
      registration.replacedEarlierRun = false;
      this.#auditAt = Math.min(this.#auditAt ?? Number.POSITIVE_INFINITY, now + after);
    }
    const failedSince = this.#ctx.failedSince;
    if (failedSince !== null && this.#auditAt === null) {
      this.#ctx.failedSince = null;
      this.#auditAt = failedSince + after;
    }
    // Run once registered again (a store outage ends both).
    if (this.#auditAt === null || this.#auditAt > now || !registration.held) return;
    this.#auditAt = null;
    const bound = new Date(this.#ctx.storeNow().getTime() - this.#graceMs());
    // Held attempts' jobs are expired too (their own term passed; the registration keeps them):
    // ask for enough to see past them.
    const expired = await o.jobStore.findExpiredLeases(bound, this.#leases.size + BATCH, { owner: o.instanceId });
    await this.#recover(expired, new Set(this.#leases.toArray().map((run) => run.job.id)));
  }

  /** Recover each job (fenced by its lease token), leaving out those held here. */
  async #recover(expired: Job[], held: Set<string> | null): Promise<void> {
    const { o } = this.#ctx;
    const local = held ?? (expired.length > 0 ? new Set(this.#leases.toArray().map((run) => run.job.id)) : null);
    let recovered = 0;
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
      recovered += 1;
      o.logger.warn({ jobId: job.id, owner, stalls, maxStalls: job.maxStalls }, rerun ? 'a job stalled (its instance died): running it again' : 'a job stalled too often: failed');
      this.#ctx.emit('job:stalled', written);
      if (!rerun) this.#ctx.emit('job:failed', written);
      if (hasDependents) await this.#dependents.fire(written);
    }
    if (recovered > 0 || expired.length > 0) this.#dispatcher.pendingNow();
  }
}
