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

/** The bucket of a trigger id: 32-bit FNV-1a of the id with a murmur3-style finish, modulo the count. */
export function triggerBucket(triggerId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < triggerId.length; i++) hash = Math.imul(hash ^ triggerId.charCodeAt(i), 0x01000193);
  // FNV's low bits mix poorly for short inputs: finish with an avalanche before the modulo.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % OWNERSHIP_BUCKETS;
}
