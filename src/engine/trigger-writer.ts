/**
 * A user's changes to triggers: add, update, pause, resume, remove. Only the fields a change
 * touches are written, conditional on the version read (a slot claim racing it keeps its own
 * fields), and the trigger is read back to confirm the change stuck before the call returns; a
 * lost race is tried again on the new version. A change takes effect here at once (the timeline
 * and the dependency index), and elsewhere at the other instances' next full poll.
 */
import { StoreError, TriggerNotFoundError } from '../errors.js';
import type { TriggerFields } from '../ports.js';
import type { Trigger, TriggerInput, TriggerPatch } from '../types.js';
import type { EngineContext } from './context.js';
import type { Dependents } from './dependents.js';
import type { Handlers } from './handlers.js';
import type { Timeline } from './timeline.js';
import { buildTrigger, initialNextRunAt, patchTrigger, type TriggerInputContext } from './trigger-input.js';

type ChangeEvent = 'trigger:updated' | 'trigger:paused' | 'trigger:resumed';

/** Writes users' trigger changes. */
export class TriggerWriter {
  readonly #ctx: EngineContext;
  readonly #handlers: Handlers;
  readonly #timeline: Timeline;
  readonly #dependents: Dependents;

  constructor(ctx: EngineContext, handlers: Handlers, timeline: Timeline, dependents: Dependents) {
    this.#ctx = ctx;
    this.#handlers = handlers;
    this.#timeline = timeline;
    this.#dependents = dependents;
  }

  /** Validate and store a new trigger. */
  async add(input: TriggerInput): Promise<Trigger> {
    const trigger = buildTrigger(input, this.#inputContext());
    // Only a dependent trigger has something to check in the store: others skip the await.
    if (trigger.schedule.kind === 'after') await this.#dependents.assertValid(trigger);
    await this.#ctx.store(() => this.#ctx.o.triggerStore.insert(trigger), 'insert trigger');
    this.#note(trigger);
    this.#ctx.emit('trigger:added', trigger);
    return trigger;
  }

  update(id: string, patch: TriggerPatch): Promise<Trigger> {
    return this.#rewrite(id, 'trigger:updated', (current) => patchTrigger(current, patch, this.#inputContext()));
  }

  pause(id: string): Promise<Trigger> {
    return this.#rewrite(id, 'trigger:paused', (current) => ({
      ...current,
      status: current.status === 'completed' ? 'completed' : 'paused',
      updatedAt: this.#ctx.now(),
      version: current.version + 1,
    }));
  }

  /** Resumed from its next slot after now: slots missed while paused are not replayed. */
  resume(id: string): Promise<Trigger> {
    return this.#rewrite(id, 'trigger:resumed', (current) => {
      if (current.status !== 'paused') return { ...current };
      const now = this.#ctx.now();
      const resumed: Trigger = { ...current, status: 'active', updatedAt: now, version: current.version + 1 };
      if (current.schedule.kind !== 'at') resumed.nextRunAt = initialNextRunAt(resumed, now);
      if (resumed.nextRunAt === null && (current.schedule.kind === 'cron' || current.schedule.kind === 'every')) {
        resumed.status = 'completed';
      }
      return resumed;
    });
  }

  async remove(id: string): Promise<void> {
    const current = await this.require(id);
    await this.#ctx.store(() => this.#ctx.o.triggerStore.remove(id), 'remove trigger');
    this.#timeline.forget(id);
    this.#dependents.forget(current);
    this.#ctx.emit('trigger:removed', current);
  }

  /** The trigger, or `TriggerNotFoundError`. */
  async require(id: string): Promise<Trigger> {
    const trigger = await this.#ctx.store(() => this.#ctx.o.triggerStore.get(id), 'get trigger');
    if (!trigger) throw new TriggerNotFoundError(id);
    return trigger;
  }

  #inputContext(): TriggerInputContext {
    return { now: this.#ctx.now(), hasHandler: (name) => this.#handlers.has(name), maxPayloadBytes: this.#ctx.o.maxPayloadBytes };
  }

  #note(trigger: Trigger): void {
    this.#dependents.note(trigger);
    this.#timeline.requeue(trigger);
  }

  async #rewrite(id: string, event: ChangeEvent, change: (current: Trigger) => Trigger): Promise<Trigger> {
    const store = this.#ctx.o.triggerStore;
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.require(id);
      const next = change(current);
      if (next.version === current.version) return next;
      if (next.schedule.kind === 'after') await this.#dependents.assertValid(next);
      const fields = changedFields(current, next);
      const written = store.update
        ? await this.#ctx.store(() => store.update!(id, current.version, fields), 'update trigger')
        : (await this.#ctx.store(() => store.replace(next, current.version), 'replace trigger'))
          ? next
          : null;
      if (!written) continue;
      // Read back: on a server whose updates are not atomic (FerretDB) a racing write can undo it.
      const stored = await this.require(id);
      if (!holdsFields(stored, fields, written.version)) {
        this.#ctx.o.logger.warn({ triggerId: id, fields: Object.keys(fields) }, 'a trigger change was overwritten by a racing write; writing it again');
        continue;
      }
      this.#dependents.forget(current);
      this.#note(stored);
      this.#ctx.emit(event, stored);
      return stored;
    }
    throw new StoreError(`trigger "${id}" kept changing while being updated; the change may not have been written`);
  }
}

/** The fields of `next` that differ from `current` (its id and version aside). */
function changedFields(current: Trigger, next: Trigger): TriggerFields {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(next) as Array<keyof Trigger>) {
    if (key === 'id' || key === 'version') continue;
    if (!sameValue(current[key], next[key])) fields[key] = next[key];
  }
  return fields as TriggerFields;
}

/** What a slot claim writes: fields a claim after the change may legitimately have moved on. */
const CLAIMED_FIELDS = new Set(['nextRunAt', 'lastRunAt', 'updatedAt']);

/**
 * Whether a stored trigger still carries a change written as `writtenVersion`: every field, or,
 * once a slot claim has moved the version on since, every field a claim does not write.
 */
function holdsFields(stored: Trigger, fields: TriggerFields, writtenVersion: number): boolean {
  const claimedSince = stored.version > writtenVersion;
  for (const [key, value] of Object.entries(fields)) {
    if (claimedSince && CLAIMED_FIELDS.has(key)) continue;
    if (!sameValue(stored[key as keyof Trigger], value)) return false;
  }
  return true;
}

/** Equality of record values: instants by time, JSON data by content. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}
