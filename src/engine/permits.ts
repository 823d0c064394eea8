/**
 * Cluster-wide concurrency caps per trigger (`maxConcurrent`, and `overlap` other than `allow`):
 * a job of a capped trigger runs only while it holds one of the trigger's permits, an expiring
 * lock `permit:<triggerId>:<k>` renewed with the job's lease.
 */
import type { Lease } from '../ports.js';
import type { EngineContext } from './context.js';
import { toError } from './outcome.js';

/** Takes and gives back permits. */
export class Permits {
  readonly #ctx: EngineContext;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /** One of the trigger's `limit` permits, or `null` when all are held. */
  async acquire(triggerId: string, limit: number): Promise<Lease | null> {
    const { o } = this.#ctx;
    for (let k = 0; k < limit; k++) {
      const lease = await o.lockManager.acquire(`permit:${triggerId}:${k}`, o.instanceId, o.leaseMs, this.#ctx.storeNow());
      if (lease) return lease;
    }
    return null;
  }

  /** Give a permit back; a failure is logged only, as the permit expires on its own after `leaseMs`. */
  async release(permit: Lease): Promise<void> {
    try {
      await this.#ctx.o.lockManager.release(permit);
    } catch (error) {
      this.#ctx.o.logger.warn({ key: permit.key, error: toError(error).message }, 'releasing a permit failed');
    }
  }
}
