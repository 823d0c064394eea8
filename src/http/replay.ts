/**
 * A bounded memory of the HMAC signatures accepted within their freshness window, so that a
 * captured request cannot be sent a second time while its timestamp is still fresh. Per process:
 * instances do not share it (an `Idempotency-Key` is what makes a repeat harmless across them).
 */

/** Default number of remembered signatures. */
export const DEFAULT_REPLAY_CACHE_SIZE = 10_000;

/** Signatures seen, each until its timestamp goes stale. */
export class ReplayCache {
  // Insertion order is arrival order, so the oldest entries are the first of the map.
  readonly #seen = new Map<string, number>();
  readonly #size: number;

  constructor(size = DEFAULT_REPLAY_CACHE_SIZE) {
    this.#size = size;
  }

  /**
   * Record `signature` as used until `staleAtMs`; `false` when it was already used and is still
   * fresh (a replay).
   */
  use(signature: Buffer, staleAtMs: number, nowMs: number): boolean {
    const key = signature.toString('hex');
    const until = this.#seen.get(key);
    if (until !== undefined && until >= nowMs) return false;
    this.#seen.delete(key);
    // Forget the stale first; past the bound, the oldest go even if fresh: memory stays bounded,
    // at the price of letting a very old capture through under a flood of signed requests.
    for (const [old, staleAt] of this.#seen) {
      if (staleAt >= nowMs && this.#seen.size < this.#size) break;
      this.#seen.delete(old);
    }
    this.#seen.set(key, staleAtMs);
    return true;
  }
}
