/**
 * Checking caller input and saying what was wrong with it. Error messages must say what was
 * received without echoing whole payloads (which can be large or sensitive), hence a short,
 * bounded description.
 */

import { InvalidTriggerConfigError } from '../errors.js';

/**
 * Short description of an unexpected value for an error message.
 *
 * @param value anything a caller passed
 * @returns e.g. `"abc"`, `42`, `null`, `an array`, `a value of type object`
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date';
  if (typeof value === 'string') return value.length > 40 ? `"${value.slice(0, 40)}…"` : `"${value}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a value of type ${typeof value}`;
}

/**
 * The input as a plain object with no keys but `keys` (undefined values aside).
 *
 * @throws InvalidTriggerConfigError on `field`: not an object, or naming the unknown keys
 */
export function asObject(input: unknown, field: string, keys: ReadonlySet<string>): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidTriggerConfigError(field, `expected an object, got ${describe(input)}`);
  }
  const record = input as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !keys.has(k) && record[k] !== undefined);
  if (unknown.length > 0) {
    throw new InvalidTriggerConfigError(
      field,
      `unknown ${unknown.length === 1 ? 'key' : 'keys'} ${unknown.map((k) => `"${k}"`).join(', ')} (expected ${[...keys].join(', ')})`,
    );
  }
  return record;
}
