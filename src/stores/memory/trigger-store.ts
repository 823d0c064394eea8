/**
 * In-memory `TriggerStore`: the embedded default. Several schedulers in one process may share one
 * instance, and then cooperate exactly as instances sharing a database do.
 */
import { InvalidTriggerConfigError } from '../../errors.js';
import type { HandlerCount, SlotClaim, SlotClaimUpdate, TriggerFields, TriggerStore } from '../../ports.js';
import { handlerCounts } from '../stats.js';
import type { Page, Trigger, TriggerQuery } from '../../types.js';
import { decodeIdCursor, pageLimit, triggerPage } from '../cursor.js';
import { triggerBucket } from '../../util/ownership-bucket.js';
import { DueIndex } from './due-index.js';
import { fromTriggerRecord, toTriggerRecord, type TriggerRecord } from './trigger-record.js';

/** Trigger copies made by `findDue` between two turns of the event loop. */
const COPY_CHUNK = 500;

/** Triggers held in a `Map`, with an index of due times (`DueIndex`) so finding due triggers never scans them all. */
export class MemoryTriggerStore implements TriggerStore {
  readonly #triggers = new Map<string, TriggerRecord>();
  // An entry is live only while its trigger is active with that exact nextRunAt.
  readonly #due = new DueIndex();
  readonly #byEvent = new Map<string, Set<string>>();
  readonly #byUpstream = new Map<string, Set<string>>();
  /** Ids of the triggers with an `alertAfterMs`, so `findLate` reads only those. */
  readonly #alerting = new Set<string>();
  /** Inserts, replacements, updates and removals so far (`changeToken`). */
  #changes = 0;

  /** @inheritdoc */
  async insert(trigger: Trigger): Promise<void> {
    if (this.#triggers.has(trigger.id)) {
      throw new InvalidTriggerConfigError('id', `a trigger with id "${trigger.id}" already exists`);
    }
    this.#put(toTriggerRecord(trigger));
    this.#changes += 1;
  }

  /** @inheritdoc */
  async get(id: string): Promise<Trigger | null> {
    const found = this.#triggers.get(id);
    return found ? fromTriggerRecord(found) : null;
  }

  /** @inheritdoc */
  async replace(trigger: Trigger, expectedVersion: number): Promise<boolean> {
    const current = this.#triggers.get(trigger.id);
    if (!current || current.version !== expectedVersion) return false;
    this.#unindex(current);
    this.#put(toTriggerRecord(trigger));
    this.#changes += 1;
    return true;
  }

  /** @inheritdoc */
  async update(id: string, expectedVersion: number, fields: TriggerFields): Promise<Trigger | null> {
    const current = this.#triggers.get(id);
    if (!current || current.version !== expectedVersion) return null;
    const next: Trigger = { ...fromTriggerRecord(current), ...fields, id, version: expectedVersion + 1 };
    this.#unindex(current);
    this.#put(toTriggerRecord(next));
    this.#changes += 1;
    return fromTriggerRecord(this.#triggers.get(id)!);
  }

  /** @inheritdoc */
  async remove(id: string): Promise<boolean> {
    const current = this.#triggers.get(id);
    if (!current) return false;
    this.#unindex(current);
    this.#triggers.delete(id);
    this.#changes += 1;
    return true;
  }

  /** @inheritdoc */
  async changeToken(): Promise<string> {
    return String(this.#changes);
  }

  /** @inheritdoc */
  async findLate(now: Date, limit: number): Promise<Trigger[]> {
    const bound = now.getTime();
    const late: TriggerRecord[] = [];
    for (const id of this.#alerting) {
      const trigger = this.#triggers.get(id);
      // Claims move `nextRunAt` on the record itself, so it is read here, not kept in the index.
      if (!trigger || trigger.status !== 'active' || trigger.nextRunAt === null || trigger.alertAfterMs === null) continue;
      if (trigger.nextRunAt + trigger.alertAfterMs <= bound) late.push(trigger);
    }
    late.sort((a, b) => a.nextRunAt! - b.nextRunAt!);
    return late.slice(0, Math.max(0, limit)).map(fromTriggerRecord);
  }

  /** @inheritdoc */
  async list(query: TriggerQuery): Promise<Page<Trigger>> {
    const limit = pageLimit(query.limit);
    const after = query.cursor === undefined ? null : decodeIdCursor(query.cursor);
    const matches: TriggerRecord[] = [];
    for (const trigger of this.#triggers.values()) {
      if (after !== null && trigger.id <= after) continue;
      if (query.status !== undefined && trigger.status !== query.status) continue;
      if (query.handler !== undefined && trigger.handler !== query.handler) continue;
      if (query.tag !== undefined && !trigger.tags.includes(query.tag)) continue;
      matches.push(trigger);
    }
    matches.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return triggerPage(matches.slice(0, limit).map(fromTriggerRecord), matches.length > limit);
  }

  /**
   * @inheritdoc
   *
   * Triggers the caller `held` already are skipped before they are copied. Read one second of
   * due times at a time, and copy at most `COPY_CHUNK` triggers, before the
   * event loop gets a turn: a poll that brings a few thousand triggers would otherwise hold the
   * thread for milliseconds while slots fall due. A trigger claimed in between is copied as it
   * is then (a newer version, which the engine sorts out like any answer that raced a claim).
   */
  async findDue(
    until: Date,
    limit: number,
    handlers: string[],
    after?: Date,
    held?: (id: string, version: number) => boolean,
    buckets?: readonly number[],
  ): Promise<Trigger[]> {
    const bound = until.getTime();
    const lower = after?.getTime() ?? Number.NEGATIVE_INFINITY;
    const wanted = new Set(handlers);
    const own = buckets === undefined ? null : new Set(buckets);
    const seen = new Set<string>();
    const out: Trigger[] = [];
    let sinceYield = 0;
    for (const key of this.#due.bucketsIn(lower, bound)) {
      if (sinceYield > 0) {
        await turn();
        sinceYield = 0;
      }
      const live = this.#due.compact(key, (entry) => {
        const trigger = this.#triggers.get(entry.id);
        return trigger !== undefined && this.#isLive(trigger, entry.at);
      });
      for (const entry of live) {
        if (entry.at > bound) break;
        if (entry.at <= lower || seen.has(entry.id)) continue;
        const trigger = this.#triggers.get(entry.id);
        // Checked again: a claim may have moved it on while the loop turned.
        if (!trigger || !this.#isLive(trigger, entry.at) || !wanted.has(trigger.handler)) continue;
        if (own !== null && !own.has(triggerBucket(trigger.id))) continue;
        seen.add(entry.id);
        // A full poll re-reads the whole window: what the caller holds unchanged is not copied again.
        if (held?.(trigger.id, trigger.version)) continue;
        out.push(fromTriggerRecord(trigger));
        if (out.length >= limit) return out;
        if (++sinceYield >= COPY_CHUNK) {
          await turn();
          sinceYield = 0;
        }
      }
    }
    return out;
  }

  /** @inheritdoc */
  async claimSlot(id: string, slot: Date, expectedVersion: number, update: SlotClaimUpdate): Promise<Trigger | null> {
    return this.#claim(id, slot, expectedVersion, update) ? fromTriggerRecord(this.#triggers.get(id)!) : null;
  }

  /** @inheritdoc */
  async claimSlots(claims: SlotClaim[]): Promise<boolean[]> {
    return claims.map((claim) => this.#claim(claim.id, claim.slot, claim.expectedVersion, claim.update));
  }

  #claim(id: string, slot: Date, expectedVersion: number, update: SlotClaimUpdate): boolean {
    const current = this.#triggers.get(id);
    if (!current || current.status !== 'active' || current.version !== expectedVersion) return false;
    if (current.nextRunAt !== slot.getTime()) return false;
    current.nextRunAt = update.nextRunAt === null ? null : update.nextRunAt.getTime();
    current.lastRunAt = update.lastRunAt.getTime();
    current.status = update.status;
    current.updatedAt = update.updatedAt.getTime();
    current.version += 1;
    if (current.status === 'active' && current.nextRunAt !== null) this.#due.add(current.nextRunAt, id);
    return true;
  }

  /** @inheritdoc */
  async findByEvent(event: string): Promise<Trigger[]> {
    return this.#activeOf(this.#byEvent.get(event));
  }

  /** @inheritdoc */
  async findDependents(triggerId: string): Promise<Trigger[]> {
    return this.#activeOf(this.#byUpstream.get(triggerId));
  }

  /** @inheritdoc */
  async dependencyEdges(): Promise<Array<{ id: string; after: string }>> {
    const edges: Array<{ id: string; after: string }> = [];
    for (const [after, ids] of this.#byUpstream) for (const id of ids) edges.push({ id, after });
    return edges;
  }

  /** @inheritdoc */
  async ping(): Promise<void> {
    // Always reachable.
  }

  /** @inheritdoc */
  async countActiveByHandler(): Promise<HandlerCount[]> {
    const names: string[] = [];
    for (const trigger of this.#triggers.values()) if (trigger.status === 'active') names.push(trigger.handler);
    return handlerCounts(names);
  }

  /** Number of stored triggers. */
  get size(): number {
    return this.#triggers.size;
  }

  #isLive(trigger: TriggerRecord, at: number): boolean {
    return trigger.status === 'active' && trigger.nextRunAt === at;
  }

  #activeOf(ids: Set<string> | undefined): Trigger[] {
    const out: Trigger[] = [];
    for (const id of ids ?? []) {
      const trigger = this.#triggers.get(id);
      if (trigger && trigger.status === 'active') out.push(fromTriggerRecord(trigger));
    }
    return out;
  }

  #put(trigger: TriggerRecord): void {
    this.#triggers.set(trigger.id, trigger);
    if (trigger.status === 'active' && trigger.nextRunAt !== null) this.#due.add(trigger.nextRunAt, trigger.id);
    const schedule = trigger.schedule;
    if (schedule.kind === 'event') addTo(this.#byEvent, schedule.event, trigger.id);
    if (schedule.kind === 'after') addTo(this.#byUpstream, schedule.after, trigger.id);
    if (trigger.alertAfterMs !== null) this.#alerting.add(trigger.id);
  }

  #unindex(trigger: TriggerRecord): void {
    const schedule = trigger.schedule;
    if (schedule.kind === 'event') removeFrom(this.#byEvent, schedule.event, trigger.id);
    if (schedule.kind === 'after') removeFrom(this.#byUpstream, schedule.after, trigger.id);
    this.#alerting.delete(trigger.id);
  }
}

function addTo(index: Map<string, Set<string>>, key: string, id: string): void {
  let ids = index.get(key);
  if (!ids) index.set(key, (ids = new Set()));
  ids.add(id);
}

function removeFrom(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key);
  if (!ids) return;
  ids.delete(id);
  if (ids.size === 0) index.delete(key);
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
