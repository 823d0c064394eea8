/**
 * The memory trigger store's index of due times: entries grouped in one-second buckets, with a
 * min-heap of bucket keys. A poll reads a time range bucket by bucket, in order, so a poll that
 * wants the last second of the look-ahead window visits that second only (a plain heap would
 * visit the whole window), and it can let the event loop turn between buckets.
 *
 * Entries are never removed on write: a trigger that moves on leaves its old entry behind, and
 * readers drop entries that no longer match their trigger (`compact`).
 */
import { BinaryHeap } from '../../queue/binary-heap.js';

/** One trigger's due time as indexed. */
export interface DueEntry {
  at: number;
  id: string;
}

const BUCKET_MS = 1000;

/** Due entries by one-second bucket. */
export class DueIndex {
  readonly #buckets = new Map<number, DueEntry[]>();
  // Lazily pruned: a key whose bucket is gone is dropped when it reaches the top.
  readonly #keys = new BinaryHeap<number>((a, b) => a - b);

  /** Index a trigger's due time. */
  add(at: number, id: string): void {
    const key = Math.floor(at / BUCKET_MS);
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      this.#buckets.set(key, (bucket = []));
      this.#keys.push(key);
    }
    bucket.push({ at, id });
  }

  /** Keys of the buckets that may hold entries in `(lower, upper]`, earliest first. */
  bucketsIn(lower: number, upper: number): number[] {
    for (let top = this.#keys.peek(); top !== undefined && !this.#buckets.has(top); top = this.#keys.peek()) this.#keys.pop();
    const first = lower === Number.NEGATIVE_INFINITY ? Number.NEGATIVE_INFINITY : Math.floor(lower / BUCKET_MS);
    const last = Math.floor(upper / BUCKET_MS);
    const keys = new Set<number>();
    this.#keys.visitWhile(
      (key) => key <= last,
      (key) => {
        if (key >= first && this.#buckets.has(key)) keys.add(key);
      },
    );
    return [...keys].sort((a, b) => a - b);
  }

  /**
   * The live entries of a bucket, earliest first; entries `isLive` rejects are removed for good
   * (their trigger moved on), and an emptied bucket is dropped.
   */
  compact(key: number, isLive: (entry: DueEntry) => boolean): DueEntry[] {
    const bucket = this.#buckets.get(key);
    if (!bucket) return [];
    const live = bucket.filter(isLive);
    if (live.length === 0) {
      this.#buckets.delete(key);
      return live;
    }
    live.sort((a, b) => a.at - b.at);
    this.#buckets.set(key, live);
    return live;
  }
}
