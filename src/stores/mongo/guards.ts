/**
 * Input guards and error classification shared by the MongoDB stores.
 *
 * The engine validates everything before it reaches a store, but a store is also a public class:
 * a non-string id would turn `{ _id: id }` into an operator query (`{ _id: { $ne: null } }`), so
 * every value that ends up in a filter is checked here and refused with a `StoreError`.
 *
 * This backend imports nothing but types from `mongodb` at load time (the one value it needs, the
 * BSON size calculator, is loaded on first use): `mongodb` is an optional peer dependency, and the
 * package entry point must load without it. Errors are recognised by shape rather than with
 * `instanceof`, which would also fail when the host app's driver is another copy than ours.
 */
import type { BSON } from 'mongodb';
import { InvalidTriggerConfigError, StoreError } from '../../errors.js';

/** MongoDB's hard limit on one document. */
export const MAX_BSON_BYTES = 16 * 1024 * 1024;

/**
 * Whether a driver error means "a unique index already holds this key": the caller lost a race.
 * 11000 is the documented code (11001 is its legacy twin). FerretDB v1 reports a unique violation
 * caused by an *update* as code 1 with SQLite's message instead, so that is recognised too.
 */
export function isDuplicateKeyError(error: unknown): boolean {
  const code = serverErrorCode(error);
  if (code === 11000 || code === 11001) return true;
  return code === 1 && error instanceof Error && /UNIQUE constraint failed/i.test(error.message);
}

/**
 * For an unordered bulk insert that failed only because some keys were taken: the positions of
 * those documents. `null` when the error is anything else (some other write failed, or the
 * request never got an answer), so the caller rethrows.
 */
export function duplicateKeyPositions(error: unknown): Set<number> | null {
  if (!(error instanceof Error) || !error.name.startsWith('Mongo')) return null;
  const raw: unknown = (error as { writeErrors?: unknown }).writeErrors;
  const writeErrors = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  if (writeErrors.length === 0) return null;
  const positions = new Set<number>();
  for (const writeError of writeErrors as Array<{ index?: unknown; code?: unknown; errmsg?: unknown }>) {
    const duplicate =
      writeError.code === 11000 || writeError.code === 11001 || (writeError.code === 1 && /UNIQUE constraint failed/i.test(String(writeError.errmsg)));
    if (!duplicate || typeof writeError.index !== 'number') return null;
    positions.add(writeError.index);
  }
  return positions;
}

/**
 * The numeric `code` of an error the driver raised for a server reply (`MongoServerError` and its
 * subclasses, all named `Mongo...`), else `null`.
 */
export function serverErrorCode(error: unknown): number | null {
  if (!(error instanceof Error) || !error.name.startsWith('Mongo')) return null;
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : null;
}

/** The value, if it is a string; else a `StoreError` naming the argument. */
export function str(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new StoreError(`${field} must be a string, got ${describe(value)}`);
  return value;
}

/** The values, if this is an array of strings. */
export function strings(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw new StoreError(`${field} must be an array of strings, got ${describe(value)}`);
  return value.map((item, index) => str(item, `${field}[${index}]`));
}

/** The value, if it is a finite number. */
export function num(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new StoreError(`${field} must be a finite number, got ${describe(value)}`);
  return value;
}

/** The value, if it is a valid `Date`. */
export function date(value: unknown, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new StoreError(`${field} must be a valid Date, got ${describe(value)}`);
  return value;
}

let bson: Promise<typeof BSON> | null = null;

/**
 * Refuse a record that cannot be one BSON document, before anything is written (the server
 * would refuse it too, but after a round trip and with a less helpful error).
 */
export async function assertDocumentSize(document: object, what: string): Promise<void> {
  bson ??= import('mongodb').then((driver) => driver.BSON);
  const { calculateObjectSize } = await bson;
  const bytes = calculateObjectSize(document, { ignoreUndefined: true });
  if (bytes > MAX_BSON_BYTES) {
    throw new InvalidTriggerConfigError('payload', `the ${what} is ${bytes} bytes of BSON, more than MongoDB's limit of ${MAX_BSON_BYTES} bytes per document`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'an invalid Date';
  return `a ${typeof value}`;
}
