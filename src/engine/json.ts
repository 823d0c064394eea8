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
 * Deepest accepted nesting of objects and arrays. MongoDB stores at most 100 levels in a document
 * (the job record wraps the payload), and recursive copies and `JSON.stringify` overflow the stack
 * a few thousand levels down: 64 keeps every later step safe.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Check that `value` is plain JSON no larger than `maxBytes` and no deeper than `MAX_JSON_DEPTH`,
 * and return it typed. Keys starting with `$` are refused too: the MongoDB backend would read them
 * as operators. The walk is iterative, so a hostile nesting gets this error, never a stack overflow.
 */
export function assertJsonPayload(value: unknown, field: string, maxBytes = MAX_PAYLOAD_BYTES): JsonValue {
  checkJson(value, field);
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > maxBytes) {
    throw new InvalidTriggerConfigError(field, `is ${bytes} bytes of JSON, more than the limit of ${maxBytes}`);
  }
  return value as JsonValue;
}

function checkLeaf(value: unknown, path: string): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidTriggerConfigError(path, `${value} is not a JSON number`);
      return true;
    case 'object':
      return value === null;
    default:
      throw new InvalidTriggerConfigError(path, `a ${typeof value} is not JSON`);
  }
}

/** One container being walked: its path, its depth and the children still to visit. */
interface Frame {
  value: object;
  path: string;
  depth: number;
  entries: Array<[string, unknown]>;
  next: number;
}

function checkJson(root: unknown, field: string): void {
  if (checkLeaf(root, field)) return;
  // Containers on the current path, for cycle detection: a value met again below itself is a cycle;
  // one met again elsewhere (shared, not circular) is fine.
  const onPath = new Set<object>();
  const stack: Frame[] = [];
  const enter = (value: object, path: string, depth: number): void => {
    if (depth > MAX_JSON_DEPTH) throw new InvalidTriggerConfigError(path, `is nested deeper than ${MAX_JSON_DEPTH} levels`);
    if (onPath.has(value)) throw new InvalidTriggerConfigError(path, 'contains a cycle');
    let entries: Array<[string, unknown]>;
    if (Array.isArray(value)) {
      entries = value.map((item, index): [string, unknown] => [`${path}[${index}]`, item]);
    } else {
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new InvalidTriggerConfigError(path, 'must be a plain object (class instances such as Date or Map are not JSON)');
      }
      entries = Object.keys(value).map((key): [string, unknown] => {
        if (key.startsWith('$')) throw new InvalidTriggerConfigError(`${path}.${key}`, 'keys must not start with "$"');
        return [`${path}.${key}`, (value as Record<string, unknown>)[key]];
      });
    }
    onPath.add(value);
    stack.push({ value, path, depth, entries, next: 0 });
  };
  enter(root as object, field, 1);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next === frame.entries.length) {
      stack.pop();
      onPath.delete(frame.value);
      continue;
    }
    const [path, child] = frame.entries[frame.next++]!;
    if (!checkLeaf(child, path)) enter(child as object, path, frame.depth + 1);
  }
}
