/**
 * `upsertTrigger`: what a trigger declared in code owns, and the record a declaration makes of a
 * stored trigger. A declaration owns the trigger's definition (every field `addTrigger` takes but
 * `paused`); the store owns its run state (`nextRunAt`, `lastRunAt`, `createdAt`) and the operators
 * its status, unless the declaration gives `paused` itself. An unchanged declaration changes nothing.
 */
import { InvalidTriggerConfigError } from '../errors.js';
import type { Trigger } from '../types.js';
import { initialNextRunAt } from './trigger-input.js';

/**
 * The fields a declaration sets, every time: a field the declaration leaves out goes back to its
 * default, as in `addTrigger` (the declaration is the whole definition, not a patch).
 */
export const DECLARED_FIELDS = [
  'name', 'handler', 'payload', 'schedule', 'retry', 'timeoutMs', 'maxStalls', 'misfire', 'overlap',
  'maxConcurrent', 'window', 'jitterMs', 'priority', 'startAt', 'endAt', 'tags',
] as const satisfies ReadonlyArray<keyof Trigger>;

/** Fields whose change moves the trigger's next slot. */
const TIMING_FIELDS: ReadonlySet<string> = new Set(['schedule', 'startAt', 'endAt']);

/**
 * The stored trigger `current` as `declared` (a record built from the declaration) defines it, or
 * `null` when the declaration changes nothing.
 *
 * - An `every` schedule declared without `startAt` keeps the stored one's anchor, so instances
 *   declaring it at different instants agree, and changing the interval keeps the phase.
 * - `paused` given (`pausedGiven`) sets the status: `true` pauses, `false` resumes; left out, the
 *   status stays what operators made it (`pauseTrigger`, the CLI, the dashboard).
 * - A changed schedule or bound recomputes `nextRunAt` from `now` (as `updateTrigger` does); so
 *   does a resume, as `resumeTrigger` (slots missed while paused are not replayed). Otherwise
 *   `nextRunAt` and `lastRunAt` stay as the engine left them.
 *
 * @param everyAnchorGiven whether the declared `every` schedule named its `startAt`
 * @throws InvalidTriggerConfigError when a changed `at` schedule is in the past (an unchanged one
 *   that already fired is accepted: it is the same declaration)
 */
export function redeclare(current: Trigger, declared: Trigger, options: { pausedGiven: boolean; everyAnchorGiven: boolean; now: Date }): Trigger | null {
  const { now } = options;
  const definition: Trigger = { ...declared };
  if (!options.everyAnchorGiven && definition.schedule.kind === 'every' && current.schedule.kind === 'every') {
    definition.schedule = { ...definition.schedule, startAt: current.schedule.startAt };
  }
  const next: Trigger = { ...current };
  let changed = false;
  let timing = false;
  for (const field of DECLARED_FIELDS) {
    if (sameData(current[field], definition[field])) continue;
    (next as unknown as Record<string, unknown>)[field] = definition[field];
    changed = true;
    if (TIMING_FIELDS.has(field)) timing = true;
  }
  if (timing && next.schedule.kind === 'at' && next.schedule.at.getTime() < now.getTime()) {
    throw new InvalidTriggerConfigError('schedule.at', `is in the past (${next.schedule.at.toISOString()} < ${now.toISOString()})`);
  }
  let resumed = false;
  if (options.pausedGiven) {
    const wanted = declared.status === 'paused';
    if (wanted && current.status === 'active') {
      next.status = 'paused';
      changed = true;
    } else if (!wanted && current.status === 'paused') {
      next.status = 'active';
      changed = resumed = true;
    }
  }
  if (!changed) return null;
  // As `resumeTrigger`: an `at` keeps its instant (a late one fires by its misfire policy).
  if (timing || (resumed && next.schedule.kind !== 'at')) {
    next.nextRunAt = initialNextRunAt(next, now);
    // A finished trigger given new times runs again (as `updateTrigger` does).
    if (next.status === 'completed' && next.nextRunAt !== null) next.status = 'active';
  }
  next.updatedAt = now;
  next.version = current.version + 1;
  return next;
}

/** Equality of record values: instants by time, arrays in order, objects whatever their key order. */
export function sameData(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameData(item, b[i]));
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keysA = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const keysB = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    if (keysA.length !== keysB.length) return false;
    return keysA.every((k) => Object.hasOwn(b, k) && sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}
