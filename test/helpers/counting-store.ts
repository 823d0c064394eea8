/**
 * A memory trigger store that counts slot claims, single or batched: how many compare-and-sets
 * the engine attempted.
 */
import type { SlotClaim, SlotClaimUpdate } from '../../src/ports.js';
import { MemoryTriggerStore } from '../../src/stores/memory/index.js';
import type { Trigger } from '../../src/types.js';

/** `MemoryTriggerStore` with a `claims` counter. */
export class CountingTriggerStore extends MemoryTriggerStore {
  claims = 0;

  override async claimSlot(id: string, slot: Date, expectedVersion: number, update: SlotClaimUpdate): Promise<Trigger | null> {
    this.claims += 1;
    return super.claimSlot(id, slot, expectedVersion, update);
  }

  override async claimSlots(claims: SlotClaim[]): Promise<boolean[]> {
    this.claims += claims.length;
    return super.claimSlots(claims);
  }
}
