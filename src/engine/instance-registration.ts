/**
 * This instance's liveness record (`LockManager.instances`): the one lease that the leases of all
 * the jobs running here hang on. Registered at start with a fresh epoch, renewed by the lease
 * keeper once per renewal interval (one store call, however many jobs run), released at stop.
 * Whoever finds it expired past the grace fences it first (the holder's next renewal then fails
 * and it aborts every attempt), then recovers the jobs, whose own fencing tokens refuse every
 * later write of the old holder.
 */
import type { InstanceLease, InstanceLeases, LockManager } from '../ports.js';
import { newId } from '../util/id.js';
import type { EngineContext } from './context.js';

/** The lock manager's instance-lease methods, if it has all six (bound to it). */
export function instanceLeases(locks: LockManager): InstanceLeases | undefined {
  const { registerInstance, renewInstance, liveInstances, fenceInstance, requestCancel, releaseInstance } = locks;
  if (!registerInstance || !renewInstance || !liveInstances || !fenceInstance || !requestCancel || !releaseInstance) return undefined;
  return {
    registerInstance: registerInstance.bind(locks),
    renewInstance: renewInstance.bind(locks),
    liveInstances: liveInstances.bind(locks),
    fenceInstance: fenceInstance.bind(locks),
    requestCancel: requestCancel.bind(locks),
    releaseInstance: releaseInstance.bind(locks),
  };
}

/** What a renewal of the registration came to. */
export type RegistrationRenewal =
  | { kind: 'renewed'; cancels: string[] }
  | { kind: 'lost' }
  | { kind: 'failed'; error: unknown }
  /** The answer concerns a registration dropped meanwhile (given up, or replaced): nothing to do. */
  | { kind: 'stale' };

/** This instance's registration, while it holds one. */
export class InstanceRegistration {
  readonly #ctx: EngineContext;
  /** The backend's instance leases (`undefined`: it keeps none). */
  readonly store: InstanceLeases | undefined;
  #lease: InstanceLease | null = null;
  #registering: Promise<void> | null = null;
  /** Set when a registration replaced an earlier run's record: that run's jobs are orphans to recover. */
  replacedEarlierRun = false;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
    this.store = instanceLeases(ctx.o.lockManager);
  }

  /** Whether the backend keeps instance leases at all (else every job's lease is renewed on its own). */
  get supported(): boolean {
    return this.store !== undefined;
  }

  /** Whether this instance holds a registration now: its running jobs' leases hang on it. */
  get held(): boolean {
    return this.#lease !== null;
  }

  /** When the registration runs out (store clock, ms); 0 while none is held. */
  get expiresAt(): number {
    return this.#lease?.expiresAt.getTime() ?? 0;
  }

  /**
   * Register (again) under a new epoch. A failure leaves the instance unregistered: its jobs'
   * leases are then renewed one by one until a later try succeeds. One try at a time.
   */
  register(): Promise<void> {
    const store = this.store;
    if (!store || this.#lease) return Promise.resolve();
    return (this.#registering ??= (async () => {
      try {
        const lease: InstanceLease = { instanceId: this.#ctx.o.instanceId, epoch: newId(), expiresAt: this.#ctx.leaseExpiry() };
        const replaced = await store.registerInstance(lease);
        // An earlier run of this instance id did not release its record: it died, and its jobs
        // (leased to this same id, so never taken for another's) are this run's to recover.
        if (replaced && replaced.epoch !== lease.epoch) this.replacedEarlierRun = true;
        if (this.#ctx.state === 'running') this.#lease = lease;
        else await store.releaseInstance(lease);
      } finally {
        this.#registering = null;
      }
    })());
  }

  /** Extend the registration to a lease from now. */
  async renew(): Promise<RegistrationRenewal> {
    const lease = this.#lease;
    if (!this.store || !lease) return { kind: 'lost' };
    const expiresAt = this.#ctx.leaseExpiry();
    try {
      const answer = await this.store.renewInstance(lease, expiresAt);
      // Dropped meanwhile (given up, maybe registered anew): this answer speaks of an old registration.
      if (this.#lease !== lease) return { kind: 'stale' };
      if (!answer) {
        this.#lease = null;
        return { kind: 'lost' };
      }
      if (expiresAt.getTime() > lease.expiresAt.getTime()) lease.expiresAt = expiresAt;
      return { kind: 'renewed', cancels: answer.cancels };
    } catch (error) {
      return { kind: 'failed', error };
    }
  }

  /** Forget the registration without a store call (it ran out before a renewal came back). */
  drop(): void {
    this.#lease = null;
  }

  /** Give the registration up (a stopping instance); a failure is logged, the record runs out by itself. */
  async release(): Promise<void> {
    const lease = this.#lease;
    this.#lease = null;
    await this.#registering?.catch(() => undefined);
    if (!lease || !this.store) return;
    try {
      await this.store.releaseInstance(lease);
    } catch (error) {
      this.#ctx.o.logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'releasing the instance lease failed; it runs out by itself');
    }
  }
}
