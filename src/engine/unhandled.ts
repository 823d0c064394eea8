/**
 * Work that no live instance can run, for `health().unhandled`: handler names that active triggers
 * or pending jobs carry but no live instance has registered (a process that only adds work named
 * a handler that no worker runs, or a typo accepted through `remoteHandlers`). Such jobs would
 * otherwise wait `pending` for ever without a sign, and such triggers never fire.
 *
 * The live instances' handlers come from their member locks (see membership.ts); the counts from
 * two optional store aggregates. The answer is kept for a few seconds, so a dashboard or a probe
 * asking often costs the store one read of each per period, not one per question.
 */
import type { HandlerCount } from '../ports.js';
import type { EngineContext } from './context.js';
import type { Membership } from './membership.js';
import { toError } from './outcome.js';

/** How long an answer is reused, in ms. */
export const UNHANDLED_TTL_MS = 5000;

/** One handler name that no live instance has, and the work waiting for it. */
export interface UnhandledWork {
  /** The handler name. */
  handler: string;
  /** Active triggers naming it: their slots fire nowhere. */
  activeTriggers: number;
  /** Pending jobs naming it (retries and runs waiting for a permit included): nobody claims them. */
  pendingJobs: number;
}

/** Computes and keeps `health().unhandled`. */
export class UnhandledReport {
  readonly #ctx: EngineContext;
  readonly #membership: Membership;
  #answer: Promise<UnhandledWork[] | null> | null = null;
  #answeredAt = Number.NEGATIVE_INFINITY;

  constructor(ctx: EngineContext, membership: Membership) {
    this.#ctx = ctx;
    this.#membership = membership;
  }

  /**
   * The unhandled work as of at most `UNHANDLED_TTL_MS` ago, by handler name; `null` when it
   * cannot be told (a backend without `LockManager.holders` or the count methods, instances
   * racing with `ownership: 'race'`, which hold no member lock, or a store error just now).
   */
  current(): Promise<UnhandledWork[] | null> {
    const now = this.#ctx.now().getTime();
    if (this.#answer === null || now - this.#answeredAt >= UNHANDLED_TTL_MS) {
      this.#answeredAt = now;
      this.#answer = this.#compute();
    }
    return this.#answer;
  }

  async #compute(): Promise<UnhandledWork[] | null> {
    const { triggerStore, jobStore, ownership, logger } = this.#ctx.o;
    if (ownership === 'race' || !triggerStore.countActiveByHandler || !jobStore.countPendingByHandler) return null;
    try {
      const [live, triggers, jobs] = await Promise.all([
        this.#membership.liveHandlers(this.#ctx.storeNow()),
        triggerStore.countActiveByHandler(),
        jobStore.countPendingByHandler(),
      ]);
      if (live === null) return null;
      if (live === 'all') return [];
      return merge(triggers, jobs).filter((work) => !live.has(work.handler));
    } catch (error) {
      // health() must answer while the store does not; `storeReachable` says why this is unknown.
      logger.warn({ error: toError(error).message }, 'counting unhandled work failed');
      this.#answeredAt = Number.NEGATIVE_INFINITY;
      return null;
    }
  }
}

/** Both counts per handler name, in name order. */
function merge(triggers: readonly HandlerCount[], jobs: readonly HandlerCount[]): UnhandledWork[] {
  const byName = new Map<string, UnhandledWork>();
  const entry = (handler: string): UnhandledWork => {
    let work = byName.get(handler);
    if (!work) byName.set(handler, (work = { handler, activeTriggers: 0, pendingJobs: 0 }));
    return work;
  };
  for (const { handler, count } of triggers) entry(handler).activeTriggers += count;
  for (const { handler, count } of jobs) entry(handler).pendingJobs += count;
  return [...byName.values()].sort((a, b) => (a.handler < b.handler ? -1 : a.handler > b.handler ? 1 : 0));
}
