/**
 * What-if for recommended fix (lateness): a `TriggerStore` whose `findDue` hands each slot to the
 * poll once, instead of every poll while it sits in the look-ahead window.
 *
 * `MemoryTriggerStore.findDue` returns (deep copies of) every trigger due before `until` on each
 * poll, so with the default 5 s look-ahead and 1 s poll each slot is copied ~5 times, and a poll
 * blocks the event loop for as long as copying the whole window takes (5–30 ms at 1,000 slots/s),
 * delaying timers that fall due meanwhile. This wrapper keeps its own min-heap of slots not yet
 * handed out (fed by insert / replace / claimSlot) and returns only those: the work per poll is
 * proportional to the slots that entered the window since the previous poll.
 *
 * For measurement only: it assumes one scheduler, in-process, that never restarts (a real fix
 * must also catch triggers changed by other instances, e.g. by `updatedAt` since the last poll).
 */
import { MemoryTriggerStore, type SlotClaimUpdate, type Trigger, type TriggerStore } from '../src/index.js';
import { BinaryHeap } from '../src/queue/binary-heap.js';

export class DeltaTriggerStore implements TriggerStore {
  readonly inner = new MemoryTriggerStore();
  readonly #unsent = new BinaryHeap<{ at: number; id: string }>((a, b) => a.at - b.at);

  #note(trigger: Trigger | null): void {
    if (trigger && trigger.status === 'active' && trigger.nextRunAt) this.#unsent.push({ at: trigger.nextRunAt.getTime(), id: trigger.id });
  }

  async insert(trigger: Trigger): Promise<void> {
    await this.inner.insert(trigger);
    this.#note(trigger);
  }

  get(id: string): Promise<Trigger | null> {
    return this.inner.get(id);
  }

  async replace(trigger: Trigger, expectedVersion: number): Promise<boolean> {
    const ok = await this.inner.replace(trigger, expectedVersion);
    if (ok) this.#note(trigger);
    return ok;
  }

  remove(id: string): Promise<boolean> {
    return this.inner.remove(id);
  }

  list(query: Parameters<TriggerStore['list']>[0]): ReturnType<TriggerStore['list']> {
    return this.inner.list(query);
  }

  async findDue(until: Date, limit: number, handlers: string[]): Promise<Trigger[]> {
    const bound = until.getTime();
    const wanted = new Set(handlers);
    const out: Trigger[] = [];
    const later: Array<{ at: number; id: string }> = [];
    while (out.length < limit) {
      const top = this.#unsent.peek();
      if (!top || top.at > bound) break;
      this.#unsent.pop();
      const trigger = await this.inner.get(top.id);
      if (!trigger || trigger.status !== 'active' || trigger.nextRunAt?.getTime() !== top.at) continue;
      if (wanted.has(trigger.handler)) out.push(trigger);
      else later.push(top);
    }
    for (const entry of later) this.#unsent.push(entry);
    return out;
  }

  async claimSlot(id: string, slot: Date, expectedVersion: number, update: SlotClaimUpdate): Promise<Trigger | null> {
    const claimed = await this.inner.claimSlot(id, slot, expectedVersion, update);
    this.#note(claimed);
    return claimed;
  }

  findByEvent(event: string): Promise<Trigger[]> {
    return this.inner.findByEvent(event);
  }

  findDependents(triggerId: string): Promise<Trigger[]> {
    return this.inner.findDependents(triggerId);
  }

  dependencyEdges(): Promise<Array<{ id: string; after: string }>> {
    return this.inner.dependencyEdges();
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }
}
