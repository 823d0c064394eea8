/**
 * Validation of user JSON: payloads and results must survive a round trip through any store, so
 * only plain JSON is accepted (no `undefined`, functions, class instances, `NaN`, cycles), and the
 * encoded size must fit one BSON document.
 */
import { InvalidTriggerConfigError } from '../errors.js';
import type { JsonValue } from '../types.js';

/** Largest accepted payload, in bytes of its JSON encoding: 16 MiB (BSON's limit) less room for the record. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024 - 64 * 1024;

/**
 * Check that `value` is plain JSON no larger than `maxBytes`, and return it typed. Keys starting
 * with `$` are refused too: the MongoDB backend would read them as operators.
 */
export function assertJsonPayload(value: unknown, field: string, maxBytes = MAX_PAYLOAD_BYTES): JsonValue {
  checkJson(value, field, new Set());
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > maxBytes) {
    throw new InvalidTriggerConfigError(field, `is ${bytes} bytes of JSON, more than the limit of ${maxBytes}`);
  }
  return value as JsonValue;
}

function checkJson(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidTriggerConfigError(path, `${value} is not a JSON number`);
      return;
    case 'object':
      break;
    default:
      throw new InvalidTriggerConfigError(path, `a ${typeof value} is not JSON`);
  }
  if (value === null) return;
  if (ancestors.has(value)) throw new InvalidTriggerConfigError(path, 'contains a cycle');
  ancestors.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkJson(item, `${path}[${index}]`, ancestors));
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidTriggerConfigError(path, 'must be a plain object (class instances such as Date or Map are not JSON)');
    }
    for (const key of Object.keys(value)) {
      if (key.startsWith('$')) throw new InvalidTriggerConfigError(`${path}.${key}`, 'keys must not start with "$"');
      checkJson((value as Record<string, unknown>)[key], `${path}.${key}`, ancestors);
    }
  }
  ancestors.delete(value);
}
