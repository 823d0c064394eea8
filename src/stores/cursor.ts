/**
 * Opaque paging cursors shared by the backends: base64url JSON of the last item's sort key.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Job, Page, Trigger } from '../types.js';

/** Encode a sort key as a cursor. */
export function encodeCursor(key: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

function decode(cursor: string, shape: ReadonlyArray<'string' | 'number'>): Array<string | number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length || parsed.some((v, i) => typeof v !== shape[i])) {
    throw new InvalidArgumentError('cursor', 'is not a cursor returned by a previous page');
  }
  return parsed as Array<string | number>;
}

/** Decode a cursor made by `encodeCursor([id])`; throws `InvalidArgumentError` on tampering. */
export function decodeIdCursor(cursor: string): string {
  return decode(cursor, ['string'])[0] as string;
}

/** Decode a cursor made by `encodeCursor([ms, id])`; throws `InvalidArgumentError` on tampering. */
export function decodeTimeIdCursor(cursor: string): [number, string] {
  const [ms, id] = decode(cursor, ['number', 'string']);
  return [ms as number, id as string];
}

/** Clamp a page size: default 100, between 1 and 1000; anything else is an error naming `limit`. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new InvalidArgumentError('limit', 'must be an integer from 1 to 1000');
  }
  return limit;
}

/** A page of triggers (ordered by id); `hasMore` when matches went past the page. */
export function triggerPage(items: Trigger[], hasMore: boolean): Page<Trigger> {
  const last = items[items.length - 1];
  return { items, nextCursor: hasMore && last ? encodeCursor([last.id]) : null };
}

/** A page of jobs (newest slot first, then id); `hasMore` when matches went past the page. */
export function jobPage(items: Job[], hasMore: boolean): Page<Job> {
  const last = items[items.length - 1];
  return { items, nextCursor: hasMore && last ? encodeCursor([last.scheduledFor.getTime(), last.id]) : null };
}
