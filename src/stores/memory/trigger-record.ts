/**
 * How the memory trigger store keeps a trigger: the `Trigger` shape with its top-level instants
 * held as epoch milliseconds. A `Date` costs V8 about 100 bytes, a trigger has up to six, and a
 * slot claim rewrites three of them: as numbers a claim allocates nothing, and an idle trigger
 * takes a few hundred bytes less. Dates are made again only in the copies callers get.
 */
import type { Trigger } from '../../types.js';
import { cloneJson, cloneSchedule, cloneTriggerParts, dateOf, msOf } from '../../util/clone.js';

/** A trigger as stored. */
export interface TriggerRecord extends Omit<Trigger, 'nextRunAt' | 'lastRunAt' | 'createdAt' | 'updatedAt' | 'startAt' | 'endAt'> {
  nextRunAt: number | null;
  lastRunAt: number | null;
  createdAt: number;
  updatedAt: number;
  startAt: number | null;
  endAt: number | null;
}

/** The stored form of a caller's trigger (a deep copy: nothing of the caller's is kept). */
export function toTriggerRecord(trigger: Trigger): TriggerRecord {
  const parts = cloneTriggerParts(trigger);
  return {
    id: trigger.id,
    name: trigger.name,
    handler: trigger.handler,
    schedule: cloneSchedule(trigger.schedule),
    payload: cloneJson(trigger.payload),
    status: trigger.status,
    nextRunAt: msOf(trigger.nextRunAt),
    lastRunAt: msOf(trigger.lastRunAt),
    createdAt: trigger.createdAt.getTime(),
    updatedAt: trigger.updatedAt.getTime(),
    retry: parts.retry,
    timeoutMs: trigger.timeoutMs,
    maxStalls: trigger.maxStalls,
    misfire: trigger.misfire,
    overlap: trigger.overlap,
    maxConcurrent: trigger.maxConcurrent,
    window: parts.window,
    jitterMs: trigger.jitterMs,
    priority: trigger.priority,
    startAt: msOf(trigger.startAt),
    endAt: msOf(trigger.endAt),
    tags: parts.tags,
    alertAfterMs: trigger.alertAfterMs,
    version: trigger.version,
  };
}

/** A caller's copy of a stored trigger. */
export function fromTriggerRecord(record: TriggerRecord): Trigger {
  const parts = cloneTriggerParts(record);
  return {
    id: record.id,
    name: record.name,
    handler: record.handler,
    schedule: cloneSchedule(record.schedule),
    payload: cloneJson(record.payload),
    status: record.status,
    nextRunAt: dateOf(record.nextRunAt),
    lastRunAt: dateOf(record.lastRunAt),
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
    retry: parts.retry,
    timeoutMs: record.timeoutMs,
    maxStalls: record.maxStalls,
    misfire: record.misfire,
    overlap: record.overlap,
    maxConcurrent: record.maxConcurrent,
    window: parts.window,
    jitterMs: record.jitterMs,
    priority: record.priority,
    startAt: dateOf(record.startAt),
    endAt: dateOf(record.endAt),
    tags: parts.tags,
    alertAfterMs: record.alertAfterMs,
    version: record.version,
  };
}
