/**
 * Small checks for option validation. Every failure is an `InvalidTriggerConfigError` naming the
 * option by its dotted path, so a misconfigured webhook fails at creation, not on the first request.
 */
import { InvalidTriggerConfigError } from '../errors.js';

/** A plain object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Refuse keys that are not in `allowed`. A misspelled security option (say `audiance`) would
 * otherwise be ignored silently and switch a check off.
 */
export function rejectUnknownKeys(value: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new InvalidTriggerConfigError(field === '' ? key : `${field}.${key}`, 'unknown option');
    }
  }
}

/** A non-empty string. */
export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidTriggerConfigError(field, 'must be a non-empty string');
  }
  return value;
}

/** A non-empty string, or a non-empty array of them. */
export function requireStringOrList(value: unknown, field: string): string | string[] {
  if (typeof value === 'string') return requireString(value, field);
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidTriggerConfigError(field, 'must be a non-empty string or a non-empty array of strings');
  }
  return value.map((item, i) => requireString(item, `${field}.${i}`));
}

/** A finite number `>= min` (or `> min` when `exclusive`). */
export function requireNumber(value: unknown, field: string, min: number, exclusive = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (exclusive ? value <= min : value < min)) {
    throw new InvalidTriggerConfigError(field, `must be a finite number ${exclusive ? '>' : '>='} ${min}`);
  }
  return value;
}
