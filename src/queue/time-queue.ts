/**
 * A queue ordered by time for items that nearly always arrive in order: appending an item no
 * earlier than the last one is O(1), and so is taking the earliest. An item that arrives out of
 * order is put in its place by binary search (O(n) to shift, and rare). Items with equal times
 * keep their arrival order.
 *
 * The scheduler queues the attempts it prepared ahead of their slots here: they are prepared in
 * the order of their slots, so a herd of ten thousand costs ten thousand appends and takes, not
 * ten thousand heap sifts.
 */
export class TimeQueue<T> {
  #items: T[] = [];
  #head = 0;
  readonly #timeOf: (item: T) => number;

  /** @param timeOf the item's time (must not change while the item is queued) */
  constructor(timeOf: (item: T) => number) {
    this.#timeOf = timeOf;
  }

  /** Number of queued items. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** The earliest item, without taking it. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** Queue an item. */
  push(item: T): void {
    const items = this.#items;
    const time = this.#timeOf(item);
    const last = items[items.length - 1];
    if (items.length === this.#head || last === undefined || this.#timeOf(last) <= time) {
      items.push(item);
      return;
    }
    // Out of order: after every item with a time <= this one.
    let low = this.#head;
    let high = items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#timeOf(items[mid]!) <= time) low = mid + 1;
      else high = mid;
    }
    items.splice(low, 0, item);
  }

  /** Take the earliest item. */
  shift(): T | undefined {
    const items = this.#items;
    if (this.#head >= items.length) return undefined;
    const item = items[this.#head]!;
    items[this.#head] = undefined as unknown as T;
    this.#head += 1;
    if (this.#head === items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= items.length) {
      // Drop the taken front once it is half of the array.
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
