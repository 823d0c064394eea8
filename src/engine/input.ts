/**
 * Validation of the Scheduler's own arguments (handler names, event names, list queries). Trigger
 * input is validated in `trigger-input.ts`, schedules in `src/schedule`.
 */
import { InvalidTriggerConfigError } from '../errors.js';
import { assertId } from '../schedule/index.js';
import { JOB_STATUSES, TRIGGER_STATUSES, type JobDetailField, type JobQuery, type TriggerQuery } from '../types.js';
import { nameProblem } from '../util/names.js';

/** A positive integer option, or `null` when absent. */
export function optionalPositive(value: unknown, field: string): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidTriggerConfigError(field, 'must be a positive integer');
  }
  return value;
}

/** An optional non-negative integer option, or `null` when not given. */
export function optionalNonNegative(value: unknown, field: string): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidTriggerConfigError(field, 'must be a non-negative integer');
  }
  return value;
}

/** A handler name: a non-empty string of at most 200 characters, not starting with `$`. */
export function assertHandlerName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new InvalidTriggerConfigError('name', 'must be a non-empty string of at most 200 characters');
  }
  if (name.startsWith('$')) throw new InvalidTriggerConfigError('name', 'must not start with "$"');
  const problem = nameProblem(name);
  if (problem !== null) throw new InvalidTriggerConfigError('name', problem);
}

/** An event name or id: a non-empty string of at most 200 characters, not starting with `$`. */
export function assertEventName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new InvalidTriggerConfigError(field, 'must be a non-empty string of at most 200 characters');
  }
  if (value.startsWith('$')) throw new InvalidTriggerConfigError(field, 'must not start with "$"');
  const problem = nameProblem(value);
  if (problem !== null) throw new InvalidTriggerConfigError(field, problem);
  return value;
}

/** Check a `listTriggers` query; only known fields of the right types pass. */
export function validateTriggerQuery(query: TriggerQuery): TriggerQuery {
  if (typeof query !== 'object' || query === null) throw new InvalidTriggerConfigError('query', 'must be an object');
  const out: TriggerQuery = {};
  if (query.tag !== undefined) out.tag = plainString(query.tag, 'tag');
  if (query.handler !== undefined) out.handler = plainString(query.handler, 'handler');
  if (query.status !== undefined) {
    if (!TRIGGER_STATUSES.includes(query.status)) throw new InvalidTriggerConfigError('status', `must be one of ${TRIGGER_STATUSES.join(', ')}`);
    out.status = query.status;
  }
  if (query.limit !== undefined) out.limit = query.limit;
  if (query.cursor !== undefined) out.cursor = plainString(query.cursor, 'cursor');
  return out;
}

const DETAIL_FIELDS: readonly JobDetailField[] = ['payload', 'result', 'history'];

/** Check a `listJobs` query; only known fields of the right types pass. */
export function validateJobQuery(query: JobQuery): JobQuery {
  if (typeof query !== 'object' || query === null) throw new InvalidTriggerConfigError('query', 'must be an object');
  const out: JobQuery = {};
  if (query.triggerId !== undefined) out.triggerId = assertId(query.triggerId, 'triggerId');
  if (query.status !== undefined) {
    const list = Array.isArray(query.status) ? query.status : [query.status];
    for (const status of list) {
      if (!JOB_STATUSES.includes(status)) throw new InvalidTriggerConfigError('status', `must be one of ${JOB_STATUSES.join(', ')}`);
    }
    out.status = query.status;
  }
  for (const field of ['from', 'to'] as const) {
    const value = query[field];
    if (value === undefined) continue;
    const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : null;
    if (!date || Number.isNaN(date.getTime())) throw new InvalidTriggerConfigError(field, 'must be a valid date');
    out[field] = date;
  }
  if (query.limit !== undefined) out.limit = query.limit;
  if (query.cursor !== undefined) out.cursor = plainString(query.cursor, 'cursor');
  if (query.omit !== undefined) {
    // Read as `unknown`: callers without types can pass anything here.
    const omit: unknown = query.omit;
    if (!Array.isArray(omit) || omit.some((field) => !DETAIL_FIELDS.includes(field as JobDetailField))) {
      throw new InvalidTriggerConfigError('omit', `must be a list of ${DETAIL_FIELDS.join(', ')}`);
    }
    out.omit = [...(omit as readonly JobDetailField[])];
  }
  return out;
}

function plainString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1000) {
    throw new InvalidTriggerConfigError(field, 'must be a non-empty string');
  }
  return value;
}

/** Re-exported for `HealthReport` consumers. */
