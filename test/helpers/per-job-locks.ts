/**
 * A memory `LockManager` without instance leases: the engine then renews every job's lease on its
 * own (the path of a backend that keeps no instance leases), which some tests pin down.
 */
import type { Lease, LockManager } from '../../src/ports.js';
import { MemoryLockManager } from '../../src/stores/memory/index.js';

/** Named locks only: no `registerInstance` and the rest. */
export class PerJobLeaseLocks implements LockManager {
  readonly #locks = new MemoryLockManager();

  acquire(key: string, owner: string, ttlMs: number, now: Date): Promise<Lease | null> {
    return this.#locks.acquire(key, owner, ttlMs, now);
  }

  renew(lease: Lease, ttlMs: number, now: Date): Promise<Lease | null> {
    return this.#locks.renew(lease, ttlMs, now);
  }

  release(lease: Lease): Promise<boolean> {
    return this.#locks.release(lease);
  }

  holders(prefix: string, now: Date): Promise<string[]> {
    return this.#locks.holders(prefix, now);
  }
}
