/**
 * A memory trigger store that counts slot claims, single or batched: how many compare-and-sets
 * the engine attempted; and records the `until` of every due-slot query.
 */
import type { Clock } from '../../src/clock.js';
import type { SlotClaim, SlotClaimUpdate } from '../../src/ports.js';
import { MemoryTriggerStore } from '../../src/stores/memory/index.js';
import type { Trigger } from '../../src/types.js';

/** `MemoryTriggerStore` with a `claims` counter. */
export class CountingTriggerStore extends MemoryTriggerStore {
  claims = 0;
  /** Read at each `findDue` call, for `dueAhead`. */
  clock: Clock | null = null;
  /** `until` minus the clock's time, of every `findDue` call in ms (negative: it asked for overdue slots only). */
  readonly dueAhead: number[] = [];

  override async findDue(until: Date, limit: number, handlers: string[], after?: Date, held?: (id: string, version: number) => boolean, buckets?: readonly number[]): Promise<Trigger[]> {
    if (this.clock) this.dueAhead.push(until.getTime() - this.clock.now());
    return super.findDue(until, limit, handlers, after, held, buckets);
  }

  override async claimSlot(id: string, slot: Date, expectedVersion: number, update: SlotClaimUpdate): Promise<Trigger | null> {
    this.claims += 1;
    return super.claimSlot(id, slot, expectedVersion, update);
  }

  override async claimSlots(claims: SlotClaim[]): Promise<boolean[]> {
    this.claims += claims.length;
    return super.claimSlots(claims);
  }
}
