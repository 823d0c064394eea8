/**
 * In-memory `InstanceLeases`: one liveness record per instance id in a `Map`, with the cancel
 * requests waiting for its holder's next renewal.
 */
import type { InstanceLease, InstanceLeases } from '../../ports.js';

interface InstanceRecord {
  epoch: string;
  expiresAt: number;
  cancels: Set<string>;
}

/** Liveness records of instances held in a `Map`. */
export class MemoryInstanceLeases implements InstanceLeases {
  readonly #records = new Map<string, InstanceRecord>();

  /** @inheritdoc */
  async registerInstance(lease: InstanceLease): Promise<InstanceLease | null> {
    const before = this.#records.get(lease.instanceId);
    this.#records.set(lease.instanceId, { epoch: lease.epoch, expiresAt: lease.expiresAt.getTime(), cancels: new Set() });
    return before ? toLease(lease.instanceId, before) : null;
  }

  /** @inheritdoc */
  async renewInstance(lease: InstanceLease, expiresAt: Date): Promise<{ cancels: string[] } | null> {
    const record = this.#records.get(lease.instanceId);
    if (!record || record.epoch !== lease.epoch) return null;
    record.expiresAt = expiresAt.getTime();
    const cancels = [...record.cancels];
    record.cancels.clear();
    return { cancels };
  }

  /** @inheritdoc */
  async liveInstances(at: Date): Promise<InstanceLease[]> {
    const out: InstanceLease[] = [];
    for (const [instanceId, record] of this.#records) if (record.expiresAt > at.getTime()) out.push(toLease(instanceId, record));
    return out;
  }

  /** @inheritdoc */
  async fenceInstance(instanceId: string, expiredBefore: Date): Promise<boolean> {
    const record = this.#records.get(instanceId);
    if (!record) return true;
    if (record.expiresAt >= expiredBefore.getTime()) return false;
    this.#records.delete(instanceId);
    return true;
  }

  /** @inheritdoc */
  async requestCancel(instanceId: string, jobId: string): Promise<boolean> {
    const record = this.#records.get(instanceId);
    record?.cancels.add(jobId);
    return record !== undefined;
  }

  /** @inheritdoc */
  async releaseInstance(lease: InstanceLease): Promise<boolean> {
    const record = this.#records.get(lease.instanceId);
    if (!record || record.epoch !== lease.epoch) return false;
    this.#records.delete(lease.instanceId);
    return true;
  }
}

function toLease(instanceId: string, record: InstanceRecord): InstanceLease {
  return { instanceId, epoch: record.epoch, expiresAt: new Date(record.expiresAt) };
}
