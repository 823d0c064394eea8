/**
 * Optional fields from values that may be `undefined`. Under `exactOptionalPropertyTypes` an
 * absent field and one set to `undefined` differ, and option objects built from parsed input
 * (query strings, CLI flags) would otherwise need one conditional spread per field.
 */

/** Every field of `T`, required, each possibly `undefined`. */
export type MaybeFields<T> = { [K in keyof T]-?: T[K] | undefined };

/** `value` without its `undefined` fields. */
export function definedFields<T extends object>(value: MaybeFields<T>): T {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined) out[key] = field;
  // Only fields whose value is not `undefined` were copied, which is what `T`'s optional fields allow.
  return out as T;
}
