/**
 * Error messages must say what was received without echoing whole payloads (which can be large or
 * sensitive), hence a short, bounded description.
 */

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
