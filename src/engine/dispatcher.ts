/**
 * Pending jobs (retries, queued runs, recovered stalls, jobs of other instances' making): claimed
 * from the store and started while this instance has room, and those waiting for a concurrency
 * permit of their trigger once one is free. It looks only when pending work may be waiting, so
 * the steady state costs no store round trip beyond claim, insert and completion.
 */
import { StoreError } from '../errors.js';
import type { Lease } from '../ports.js';
import type { Job } from '../types.js';
import type { AttemptRunner } from './attempt-runner.js';
import type { EngineContext } from './context.js';
import type { Handlers, Place } from './handlers.js';
import { historyEntry } from './job-state.js';
import { jobMetrics, permitLimit, toError } from './outcome.js';
import type { Permits } from './permits.js';

/** Claims and starts pending jobs. */
export class Dispatcher {
  readonly #ctx: EngineContext;
  readonly #handlers: Handlers;
  readonly #runner: AttemptRunner;
  readonly #permits: Permits;
  #dispatching = false;
  #again = false;
  // Dispatch looks for pending jobs only when some were noted after its last empty look.
  #pendingEpoch = 1;
  #emptyAtEpoch = 0;

  constructor(ctx: EngineContext, handlers: Handlers, runner: AttemptRunner, permits: Permits) {
    this.#ctx = ctx;
    this.#handlers = handlers;
    this.#runner = runner;
    this.#permits = permits;
  }

  /** Note that pending jobs may be waiting, so the next dispatch looks for them. */
  notePending(): void {
    this.#pendingEpoch += 1;
  }

  /** Pending jobs may be waiting: look for them now. */
  pendingNow(): void {
    this.notePending();
    this.kick();
  }

  /**
   * Start pending jobs if there may be any. Finishing a job only looks when pending work was noted
   * since the last empty look; the poll looks every period regardless (other instances add
   * pending jobs too).
   */
  kick(): void {
    if (this.#ctx.state !== 'running' || this.#pendingEpoch === this.#emptyAtEpoch) return;
    if (this.#dispatching) {
      this.#again = true;
      return;
    }
    this.#ctx.track(this.#dispatchPending());
  }

  /** Start due pending jobs while there is room. */
  async #dispatchPending(): Promise<void> {
    const { o } = this.#ctx;
    this.#dispatching = true;
    try {
      do {
        this.#again = false;
        while (this.#ctx.state === 'running' && this.#handlers.hasRoom()) {
          const candidates = this.#handlers.withRoom();
          if (candidates.length === 0) break;
          const hold = this.#handlers.hold(candidates);
          let job: Job | null = null;
          let place: Place | null = null;
          const epoch = this.#pendingEpoch;
          try {
            const now = this.#ctx.now();
            job = await o.jobStore.claimPending(now, {
              handlers: candidates.map((c) => c.name),
              owner: o.instanceId,
              leaseExpiresAt: this.#ctx.leaseExpiry(),
              history: historyEntry('running', now, o.instanceId, 'claimed'),
              gate: null,
            });
          } finally {
            // The one place the claimed job needs is kept; the others (all, on an error) go back.
            place = hold.settle(job?.handler ?? null);
          }
          if (!job || !place) {
            this.#emptyAtEpoch = epoch;
            break;
          }
          try {
            await this.#startClaimed(job, place, null);
          } finally {
            place.releaseUnlessHandedOver();
          }
        }
      } while (this.#again && this.#ctx.state === 'running');
    } catch (error) {
      this.#ctx.fail(new StoreError(`dispatching pending jobs failed: ${toError(error).message}`, { cause: error }));
    } finally {
      this.#dispatching = false;
    }
  }

  /** Start pending jobs that wait for a concurrency permit of their trigger. */
  async dispatchGated(now: number, handlers: string[]): Promise<void> {
    const triggerIds = await this.#ctx.o.jobStore.gatedTriggerIds(new Date(now), handlers, 100);
    for (const triggerId of triggerIds) await this.tryStartGated(triggerId);
  }

  /** Start one pending job of a capped trigger, if one of its permits is free. */
  async tryStartGated(triggerId: string): Promise<void> {
    const { o } = this.#ctx;
    if (this.#ctx.state !== 'running') return;
    const trigger = await o.triggerStore.get(triggerId);
    const registration = trigger ? this.#handlers.usable(trigger) : undefined;
    if (!trigger || !registration) return;
    const permit = await this.#permits.acquire(triggerId, permitLimit(trigger) ?? 1);
    if (!permit) return;
    let place: Place | null = null;
    try {
      place = this.#handlers.take(registration);
      if (!place) return;
      const now = this.#ctx.now();
      const job = await o.jobStore.claimPending(now, {
        handlers: [registration.name],
        owner: o.instanceId,
        leaseExpiresAt: this.#ctx.leaseExpiry(),
        history: historyEntry('running', now, o.instanceId, 'claimed with a concurrency permit'),
        gate: triggerId,
      });
      if (job) await this.#startClaimed(job, place, permit);
    } finally {
      // Unless a started attempt owns them now, the place and the permit go back, on every path.
      if (!place?.handedOver) {
        place?.release();
        await this.#permits.release(permit);
      }
    }
  }

  /**
   * A job was claimed from `pending` (lease set, status running): count the attempt and run it.
   * The caller owns `place` and `permit` and gives them back unless the attempt started (then it
   * owns them). A store error here leaves the job running under this instance's lease with no
   * attempt: it is recovered as a stall once the lease runs out.
   */
  async #startClaimed(claimed: Job, place: Place, permit: Lease | null): Promise<void> {
    const { o } = this.#ctx;
    const now = this.#ctx.now();
    const token = claimed.lease?.token ?? claimed.fence;
    try {
      const started = await o.jobStore.update(
        claimed.id,
        { status: ['running'], leaseToken: token },
        {
          attempts: claimed.attempts + 1,
          startedAt: now,
          nextAttemptAt: null,
          instanceId: o.instanceId,
          metrics: jobMetrics(Math.max(0, now.getTime() - claimed.runAt.getTime())),
        },
      );
      if (!started) return;
      const trigger = await o.triggerStore.get(started.triggerId);
      this.#runner.start(this.#runner.newRun(started, place, trigger, permit, null));
    } catch (error) {
      await this.#handBack(claimed, token, error);
      throw error;
    }
  }

  /**
   * A claimed job that could not be started goes back to `pending` (fenced by the claim's token),
   * as its attempt never ran: while this instance lives, nothing else would take it from it. If
   * even that fails, the error is reported and the job waits for stall recovery.
   */
  async #handBack(claimed: Job, token: number, cause: unknown): Promise<void> {
    const { o } = this.#ctx;
    const now = this.#ctx.now();
    try {
      await this.#ctx.retryStore(() =>
        o.jobStore.update(
          claimed.id,
          { status: ['running'], leaseToken: token },
          { status: 'pending', lease: null, attempts: claimed.attempts, runAt: now, nextAttemptAt: now, startedAt: null, gate: claimed.gate },
          [historyEntry('pending', now, o.instanceId, `handed back: starting it failed (${toError(cause).message})`)],
        ),
      );
      this.notePending();
    } catch (error) {
      this.#ctx.fail(new StoreError(`handing back job ${claimed.id} failed: ${toError(error).message}`, { cause: error }));
    }
  }
}
