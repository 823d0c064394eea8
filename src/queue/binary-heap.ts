/**
 * Array-backed binary min-heap. `compare(a, b) < 0` puts `a` closer to the top. Push and pop are
 * O(log n); peek is O(1). No removal of arbitrary items: callers drop stale entries lazily when
 * they reach the top, which keeps every operation logarithmic.
 */
export class BinaryHeap<T> {
  readonly #items: T[] = [];
  readonly #compare: (a: T, b: T) => number;

  /** @param compare ordering; negative when `a` must come out before `b` */
  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  /** Number of entries. */
  get size(): number {
    return this.#items.length;
  }

  /** The top entry without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Add an entry. */
  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.#compare(items[index]!, items[parent]!) >= 0) break;
      this.#swap(index, parent);
      index = parent;
    }
  }

  /** Remove and return the top entry. */
  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.#siftDown(0);
    }
    return top;
  }

  /**
   * Visit, without removing them, the entries for which `within` holds, given that `within` is
   * monotone in the heap order (once false for an entry, false for all entries after it). Skips
   * whole subtrees, so it costs O(entries visited), not O(size).
   */
  visitWhile(within: (item: T) => boolean, visit: (item: T) => void): void {
    const items = this.#items;
    const stack: number[] = items.length > 0 ? [0] : [];
    while (stack.length > 0) {
      const index = stack.pop()!;
      const item = items[index]!;
      if (!within(item)) continue;
      visit(item);
      const left = 2 * index + 1;
      if (left < items.length) stack.push(left);
      if (left + 1 < items.length) stack.push(left + 1);
    }
  }

  /** Remove every entry. */
  clear(): void {
    this.#items.length = 0;
  }

  #siftDown(start: number): void {
    const items = this.#items;
    const length = items.length;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) return;
      const right = left + 1;
      const child = right < length && this.#compare(items[right]!, items[left]!) < 0 ? right : left;
      if (this.#compare(items[child]!, items[index]!) >= 0) return;
      this.#swap(index, child);
      index = child;
    }
  }

  #swap(a: number, b: number): void {
    const items = this.#items;
    const tmp = items[a]!;
    items[a] = items[b]!;
    items[b] = tmp;
  }
}
