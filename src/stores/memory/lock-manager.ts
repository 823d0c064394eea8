/**
 * In-memory `LockManager`. Tokens come from one counter per key that survives release, so a token
 * is always larger than every token issued before for that key.
 */
import type { InstanceLease, InstanceLeases, Lease, LockManager } from '../../ports.js';
import { MemoryInstanceLeases } from './instance-leases.js';

/** Expiring named locks held in a `Map`. */
export class MemoryLockManager implements LockManager, InstanceLeases {
  readonly #locks = new Map<string, Lease>();
  readonly #tokens = new Map<string, number>();
  readonly #instances = new MemoryInstanceLeases();

  /** @inheritdoc */
  async acquire(key: string, owner: string, ttlMs: number, now: Date): Promise<Lease | null> {
    const held = this.#locks.get(key);
    if (held && held.expiresAt.getTime() > now.getTime()) return null;
    const token = (this.#tokens.get(key) ?? 0) + 1;
    this.#tokens.set(key, token);
    const lease: Lease = { key, owner, token, expiresAt: new Date(now.getTime() + ttlMs) };
    this.#locks.set(key, lease);
    return { ...lease, expiresAt: new Date(lease.expiresAt.getTime()) };
  }

  /** @inheritdoc */
  async renew(lease: Lease, ttlMs: number, now: Date): Promise<Lease | null> {
    return this.#renew(lease, ttlMs, now);
  }

  #renew(lease: Lease, ttlMs: number, now: Date): Lease | null {
    const held = this.#locks.get(lease.key);
    if (!held || held.token !== lease.token || held.expiresAt.getTime() <= now.getTime()) return null;
    held.expiresAt = new Date(now.getTime() + ttlMs);
    return { ...held, expiresAt: new Date(held.expiresAt.getTime()) };
  }

  /** @inheritdoc */
  async renewMany(leases: readonly Lease[], ttlMs: number, now: Date): Promise<number> {
    let renewed = 0;
    for (const lease of leases) if (this.#renew(lease, ttlMs, now)) renewed++;
    return renewed;
  }

  /** @inheritdoc */
  async release(lease: Lease): Promise<boolean> {
    const held = this.#locks.get(lease.key);
    if (!held || held.token !== lease.token) return false;
    this.#locks.delete(lease.key);
    return true;
  }

  /** @inheritdoc */
  async holders(prefix: string, now: Date): Promise<string[]> {
    const owners = new Set<string>();
    for (const [key, lease] of this.#locks) {
      if (key.startsWith(prefix) && lease.expiresAt.getTime() > now.getTime()) owners.add(lease.owner);
    }
    return [...owners];
  }

  /** @inheritdoc */
  registerInstance(lease: InstanceLease): Promise<InstanceLease | null> {
    return this.#instances.registerInstance(lease);
  }

  /** @inheritdoc */
  renewInstance(lease: InstanceLease, expiresAt: Date): Promise<{ cancels: string[] } | null> {
    return this.#instances.renewInstance(lease, expiresAt);
  }

  /** @inheritdoc */
  liveInstances(at: Date): Promise<InstanceLease[]> {
    return this.#instances.liveInstances(at);
  }

  /** @inheritdoc */
  fenceInstance(instanceId: string, expiredBefore: Date): Promise<boolean> {
    return this.#instances.fenceInstance(instanceId, expiredBefore);
  }

  /** @inheritdoc */
  requestCancel(instanceId: string, jobId: string): Promise<boolean> {
    return this.#instances.requestCancel(instanceId, jobId);
  }

  /** @inheritdoc */
  releaseInstance(lease: InstanceLease): Promise<boolean> {
    return this.#instances.releaseInstance(lease);
  }
}
