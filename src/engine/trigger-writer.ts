/**
 * A user's changes to triggers: add, update, pause, resume, remove. Only the fields a change
 * touches are written, conditional on the version read (a slot claim racing it keeps its own
 * fields), and the trigger is read back to confirm the change stuck before the call returns; a
 * lost race is tried again on the new version. A change takes effect here at once (the timeline
 * and the dependency index), and elsewhere at the other instances' next full poll.
 */
import { InvalidTriggerConfigError, StoreError, TriggerNotFoundError } from '../errors.js';
import type { TriggerFields } from '../ports.js';
import type { Trigger, TriggerInput, TriggerPatch } from '../types.js';
import type { EngineContext } from './context.js';
import type { Dependents } from './dependents.js';
import type { Handlers } from './handlers.js';
import type { Timeline } from './timeline.js';
import { redeclare, sameData } from './trigger-declaration.js';
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

  /**
   * Declare a trigger from code: add it, or bring the stored one to the declaration (see
   * `redeclare` for what a declaration owns). Instances declaring the same trigger at once meet on
   * the store's unique id (one insert wins; the others find it and compare) and on the versioned
   * write (one write wins; the others re-read, find it as declared, and write nothing).
   */
  async upsert(input: TriggerInput): Promise<Trigger> {
    const raw = input as unknown as Record<string, unknown> | null;
    if (typeof raw !== 'object' || raw === null || raw.id === undefined) {
      throw new InvalidTriggerConfigError('id', 'is required: a declared trigger is found again by its id');
    }
    // Validated in full before anything is read or written; a past `at` is checked below, as
    // re-declaring a one-shot that already fired is no mistake.
    const declared = buildTrigger(input, { ...this.#inputContext(), allowPastAt: true });
    const schedule = raw.schedule as Record<string, unknown>;
    const options = { pausedGiven: raw.paused !== undefined, everyAnchorGiven: schedule.startAt !== undefined && schedule.startAt !== null };
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.#ctx.store(() => this.#ctx.o.triggerStore.get(declared.id), 'get trigger');
      if (!current) {
        if (declared.schedule.kind === 'at' && declared.schedule.at.getTime() < this.#ctx.now().getTime()) {
          buildTrigger(input, this.#inputContext()); // throws the same error as addTrigger
        }
        if (declared.schedule.kind === 'after') await this.#dependents.assertValid(declared);
        try {
          await this.#ctx.store(() => this.#ctx.o.triggerStore.insert(declared), 'insert trigger');
        } catch (error) {
          // Another instance inserted it first: compare with what it stored.
          if (error instanceof InvalidTriggerConfigError && error.field === 'id') continue;
          throw error;
        }
        this.#note(declared);
        this.#ctx.emit('trigger:added', declared);
        return declared;
      }
      const next = redeclare(current, declared, { ...options, now: this.#ctx.now() });
      if (next === null) return current;
      const stored = await this.#commit(current, next, 'trigger:updated');
      if (stored) return stored;
    }
    throw new StoreError(`trigger "${declared.id}" kept changing while being declared; the declaration may not have been written`);
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
    const remote = this.#ctx.o.remoteHandlers;
    // A handler that runs elsewhere (`remoteHandlers`) is as good as a registered one here.
    const hasHandler = (name: string): boolean => this.#handlers.has(name) || remote === 'any' || remote.has(name);
    return { now: this.#ctx.now(), hasHandler, maxPayloadBytes: this.#ctx.o.maxPayloadBytes };
  }

  #note(trigger: Trigger): void {
    this.#dependents.note(trigger);
    this.#timeline.requeue(trigger);
  }

  async #rewrite(id: string, event: ChangeEvent, change: (current: Trigger) => Trigger): Promise<Trigger> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.require(id);
      const next = change(current);
      if (next.version === current.version) return next;
      const stored = await this.#commit(current, next, event);
      if (stored) return stored;
    }
    throw new StoreError(`trigger "${id}" kept changing while being updated; the change may not have been written`);
  }

  /**
   * Write `next` over `current`, conditional on `current`'s version, read it back, and act on it
   * here (timeline, dependency index, event). `null`: a racing write won; the caller reads again.
   */
  async #commit(current: Trigger, next: Trigger, event: ChangeEvent): Promise<Trigger | null> {
    const store = this.#ctx.o.triggerStore;
    const id = current.id;
    if (next.schedule.kind === 'after') await this.#dependents.assertValid(next);
    const fields = changedFields(current, next);
    const written = store.update
      ? await this.#ctx.store(() => store.update!(id, current.version, fields), 'update trigger')
      : (await this.#ctx.store(() => store.replace(next, current.version), 'replace trigger'))
        ? next
        : null;
    if (!written) return null;
    // Read back: on a server whose updates are not atomic (FerretDB) a racing write can undo it.
    const stored = await this.require(id);
    if (!holdsFields(stored, fields, written.version)) {
      this.#ctx.o.logger.warn({ triggerId: id, fields: Object.keys(fields) }, 'a trigger change was overwritten by a racing write; writing it again');
      return null;
    }
    this.#dependents.forget(current);
    this.#note(stored);
    this.#ctx.emit(event, stored);
    return stored;
  }
}

/** The fields of `next` that differ from `current` (its id and version aside). */
function changedFields(current: Trigger, next: Trigger): TriggerFields {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(next) as Array<keyof Trigger>) {
    if (key === 'id' || key === 'version') continue;
    if (!sameData(current[key], next[key])) fields[key] = next[key];
  }
  return fields;
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
    if (!sameData(stored[key as keyof Trigger], value)) return false;
  }
  return true;
}

