/**
 * What user-chosen names (trigger ids, handler names, event names) may not be: names that act as
 * keys of plain objects anywhere (the host's code included) and must not reach a prototype, and
 * characters that corrupt logs and terminals or show a name other than the one stored.
 */

/** Names that are special as keys of a plain object. */
const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

// C0 and C1 controls and DEL: exactly Unicode's Cc category (U+0000-U+001F, U+007F-U+009F).
const CONTROL = /\p{Cc}/u;
// Bidirectional embeddings, overrides and isolates (the "Trojan Source" characters).
const BIDI = /[\u202a-\u202e\u2066-\u2069]/;

/** Why `name` is not acceptable as an id or a name, or `null` when it is. */
export function nameProblem(name: string): string | null {
  if (RESERVED_NAMES.has(name)) return `"${name}" is reserved`;
  if (CONTROL.test(name)) return 'must not contain control characters';
  if (BIDI.test(name)) return 'must not contain bidirectional override characters';
  return null;
}
