/**
 * Turns what a caller passes to `addTrigger` / `updateTrigger` into a stored `Trigger`, or throws
 * `InvalidTriggerConfigError` naming the field. Nothing here touches a store: validation is complete
 * before anything is written.
 */
import { newId } from '../util/id.js';
import { HandlerNotFoundError, InvalidTriggerConfigError } from '../errors.js';
import { assertId, normalizeRetry, normalizeWindow, parseDate, firstSlot } from '../schedule/index.js';
import { normalizeScheduleWith } from '../schedule/normalize.js';
import type { MisfirePolicy, NormalizedSchedule, OverlapPolicy, Trigger } from '../types.js';
import { assertJsonPayload } from './json.js';

const INPUT_KEYS = new Set([
  'id', 'name', 'handler', 'payload', 'schedule', 'retry', 'timeoutMs', 'maxStalls', 'misfire', 'overlap', 'maxConcurrent',
  'window', 'jitterMs', 'priority', 'startAt', 'endAt', 'paused', 'tags', 'alertAfterMs',
]);
const MISFIRE: readonly MisfirePolicy[] = ['run-once', 'skip', 'run-all'];
const OVERLAP: readonly OverlapPolicy[] = ['allow', 'skip', 'queue'];

/** What validation needs to know about the scheduler. */
export interface TriggerInputContext {
  /** Current time. */
  now: Date;
  /** Whether a handler of that name is registered. */
  hasHandler(name: string): boolean;
  /** Payload size limit in bytes. */
  maxPayloadBytes: number;
  /**
   * Accept an `at` schedule before `now` (default `false`): `upsertTrigger` checks that itself,
   * as re-declaring a one-shot that already fired is no mistake.
   */
  allowPastAt?: boolean;
}

/**
 * A trigger record with every policy at its default: manual schedule, no payload, active, version
 * 1. The one place that lists a record's defaults (validation fills in the rest).
 */
export function blankTrigger(id: string, handler: string, now: Date): Trigger {
  return {
    id,
    name: id,
    handler,
    schedule: { kind: 'manual' },
    payload: null,
    status: 'active',
    nextRunAt: null,
    lastRunAt: null,
    createdAt: now,
    updatedAt: now,
    retry: null,
    timeoutMs: null,
    maxStalls: null,
    misfire: 'run-once',
    overlap: 'allow',
    maxConcurrent: null,
    window: null,
    jitterMs: 0,
    priority: 0,
    startAt: null,
    endAt: null,
    tags: [],
    alertAfterMs: null,
    version: 1,
  };
}

/** Validate a new trigger and build its record (with its first `nextRunAt`). */
export function buildTrigger(input: unknown, context: TriggerInputContext): Trigger {
  const raw = asRecord(input, 'trigger');
  rejectUnknownKeys(raw, 'trigger');
  const id = raw.id === undefined ? newId() : assertId(raw.id, 'id');
  const draft = blankTrigger(id, '', context.now);
  if (raw.handler === undefined) throw new InvalidTriggerConfigError('handler', 'is required');
  if (raw.schedule === undefined) throw new InvalidTriggerConfigError('schedule', 'is required');
  const trigger = applyFields(draft, raw, context);
  trigger.status = raw.paused === true ? 'paused' : 'active';
  trigger.nextRunAt = initialNextRunAt(trigger, context.now);
  return trigger;
}

/**
 * Validate a patch and build the updated record. The first slot is recomputed when the schedule or
 * its bounds change; otherwise the trigger keeps its place.
 */
export function patchTrigger(current: Trigger, patch: unknown, context: TriggerInputContext): Trigger {
  const raw = asRecord(patch, 'patch');
  rejectUnknownKeys(raw, 'patch');
  if ('id' in raw) throw new InvalidTriggerConfigError('id', 'cannot be changed');
  const next = applyFields({ ...current, updatedAt: context.now, version: current.version + 1 }, raw, context);
  if ('paused' in raw) next.status = raw.paused === true ? 'paused' : current.status === 'paused' ? 'active' : current.status;
  if ('schedule' in raw || 'startAt' in raw || 'endAt' in raw || ('paused' in raw && current.status !== next.status)) {
    next.nextRunAt = initialNextRunAt(next, context.now);
    if (next.status === 'completed' && next.nextRunAt) next.status = 'active';
  }
  return next;
}

/** First slot at or after `now` within the trigger's bounds; `null` for untimed schedules. */
export function initialNextRunAt(trigger: Trigger, now: Date): Date | null {
  return firstSlot(trigger.schedule, { startAt: trigger.startAt, endAt: trigger.endAt }, now);
}

function applyFields(base: Trigger, raw: Record<string, unknown>, context: TriggerInputContext): Trigger {
  const out: Trigger = { ...base };
  if ('name' in raw) out.name = requireString(raw.name, 'name', 200);
  if ('handler' in raw) {
    out.handler = requireString(raw.handler, 'handler', 200);
    if (!context.hasHandler(out.handler)) throw new HandlerNotFoundError(out.handler);
  }
  if ('payload' in raw) out.payload = raw.payload === undefined ? null : assertJsonPayload(raw.payload, 'payload', context.maxPayloadBytes);
  if ('schedule' in raw) out.schedule = normalizeScheduleWith(raw.schedule, context.now, 'schedule', { allowPastAt: context.allowPastAt === true });
  if ('retry' in raw) out.retry = raw.retry === undefined || raw.retry === null ? null : normalizeRetry(raw.retry, 'retry');
  if ('timeoutMs' in raw) out.timeoutMs = optionalPositiveInt(raw.timeoutMs, 'timeoutMs');
  if ('maxStalls' in raw) out.maxStalls = optionalNonNegativeInt(raw.maxStalls, 'maxStalls');
  if ('misfire' in raw) out.misfire = oneOf(raw.misfire, MISFIRE, 'misfire');
  if ('overlap' in raw) out.overlap = oneOf(raw.overlap, OVERLAP, 'overlap');
  if ('maxConcurrent' in raw) out.maxConcurrent = optionalPositiveInt(raw.maxConcurrent, 'maxConcurrent');
  if ('jitterMs' in raw) out.jitterMs = optionalNonNegativeInt(raw.jitterMs, 'jitterMs') ?? 0;
  if ('priority' in raw) {
    if (raw.priority !== undefined && (!Number.isInteger(raw.priority) || Math.abs(raw.priority as number) > 1_000_000)) {
      throw new InvalidTriggerConfigError('priority', 'must be an integer from -1000000 to 1000000');
    }
    out.priority = (raw.priority as number | undefined) ?? 0;
  }
  if ('startAt' in raw) out.startAt = raw.startAt === undefined || raw.startAt === null ? null : parseDate(raw.startAt, 'startAt');
  if ('endAt' in raw) out.endAt = raw.endAt === undefined || raw.endAt === null ? null : parseDate(raw.endAt, 'endAt');
  if (out.startAt && out.endAt && out.endAt.getTime() <= out.startAt.getTime()) {
    throw new InvalidTriggerConfigError('endAt', 'must be after startAt');
  }
  if ('paused' in raw && raw.paused !== undefined && typeof raw.paused !== 'boolean') {
    throw new InvalidTriggerConfigError('paused', 'must be a boolean');
  }
  if ('tags' in raw) out.tags = tags(raw.tags);
  if ('alertAfterMs' in raw) out.alertAfterMs = optionalPositiveInt(raw.alertAfterMs, 'alertAfterMs');
  if ('window' in raw || 'schedule' in raw) {
    const windowInput = 'window' in raw ? raw.window : null;
    out.window =
      windowInput === undefined || windowInput === null
        ? 'window' in raw
          ? null
          : out.window
        : normalizeWindow(asRecord(windowInput, 'window'), zoneOf(out.schedule), 'window');
  }
  if (out.schedule.kind === 'at' && out.endAt && out.schedule.at.getTime() > out.endAt.getTime()) {
    throw new InvalidTriggerConfigError('schedule.at', 'is after endAt');
  }
  return out;
}

function zoneOf(schedule: NormalizedSchedule): string {
  return schedule.kind === 'cron' ? schedule.timezone : 'UTC';
}

function asRecord(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidTriggerConfigError(field, 'must be an object');
  }
  return value as Record<string, unknown>;
}

function rejectUnknownKeys(raw: Record<string, unknown>, field: string): void {
  for (const key of Object.keys(raw)) {
    if (!INPUT_KEYS.has(key)) throw new InvalidTriggerConfigError(key, `is not a ${field} option`);
  }
}

function requireString(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidTriggerConfigError(field, 'must be a non-empty string');
  if (value.length > maxLength) throw new InvalidTriggerConfigError(field, `must be at most ${maxLength} characters`);
  return value;
}

function optionalPositiveInt(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidTriggerConfigError(field, 'must be a positive integer');
  }
  return value;
}

function optionalNonNegativeInt(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidTriggerConfigError(field, 'must be a non-negative integer');
  }
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (!allowed.includes(value as T)) throw new InvalidTriggerConfigError(field, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

function tags(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidTriggerConfigError('tags', 'must be an array of strings');
  return [...new Set(value.map((tag, index) => requireString(tag, `tags[${index}]`, 100)))];
}
