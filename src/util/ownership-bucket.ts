/**
 * Ownership buckets: every trigger id falls in one of `OWNERSHIP_BUCKETS` buckets, and the cluster
 * shares buckets among its members, not single triggers (engine/membership.ts). A bucket is a
 * number a store can keep beside the trigger and filter on, so that each instance's poll reads
 * only its own triggers; rendezvous hashing over a few hundred buckets spreads them as evenly as
 * over the ids themselves. Part of what a store keeps (the MongoDB backend stores it as `bucket`):
 * the function and the count never change.
 */

/** How many buckets the trigger ids fall into. */
export const OWNERSHIP_BUCKETS = 256;

/** The bucket of a trigger id: {@link hash32} of the id, modulo the count. */
export function triggerBucket(triggerId: string): number {
  return hash32(triggerId) % OWNERSHIP_BUCKETS;
}

/**
 * 32-bit FNV-1a of `first` (and, when given, a 0 and `second`), with a murmur3-style finish: FNV's
 * low bits mix poorly for short inputs. Also the rendezvous score of a member and a bucket.
 */
export function hash32(first: string, second?: string): number {
  let hash = fnv(0x811c9dc5, first);
  if (second !== undefined) hash = fnv(Math.imul(hash ^ 0, 0x01000193), second);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

function fnv(seed: number, text: string): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash;
}
