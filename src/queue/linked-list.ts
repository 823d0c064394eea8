/**
 * A doubly linked list whose items carry their own links (`prevLinked`, `nextLinked`, `linked`).
 * Adding and removing an item is a few pointer writes: nothing is hashed and nothing allocated,
 * which matters for lists every job joins and leaves once (the memory job store's running jobs,
 * the scheduler's running attempts). An item is in at most one such list at a time.
 */

/** The links a list item keeps; set them to `null` / `false` when the item is made. */
export interface Linked<T> {
  prevLinked: T | null;
  nextLinked: T | null;
  linked: boolean;
}

/** Items in the order they were added. */
export class LinkedList<T extends Linked<T>> {
  #head: T | null = null;
  #tail: T | null = null;
  #size = 0;

  /** Number of items. */
  get size(): number {
    return this.#size;
  }

  /** The oldest item; walk on with `item.nextLinked`. */
  get first(): T | null {
    return this.#head;
  }

  /** Add an item at the end (nothing happens if it is listed already). */
  add(item: T): void {
    if (item.linked) return;
    item.linked = true;
    item.prevLinked = this.#tail;
    item.nextLinked = null;
    if (this.#tail) this.#tail.nextLinked = item;
    else this.#head = item;
    this.#tail = item;
    this.#size += 1;
  }

  /** Remove an item; returns whether it was listed. */
  delete(item: T): boolean {
    if (!item.linked) return false;
    item.linked = false;
    if (item.prevLinked) item.prevLinked.nextLinked = item.nextLinked;
    else this.#head = item.nextLinked;
    if (item.nextLinked) item.nextLinked.prevLinked = item.prevLinked;
    else this.#tail = item.prevLinked;
    item.prevLinked = null;
    item.nextLinked = null;
    this.#size -= 1;
    return true;
  }

  /** The items as an array (a snapshot: later changes to the list do not affect it). */
  toArray(): T[] {
    const out: T[] = [];
    for (let item = this.#head; item !== null; item = item.nextLinked) out.push(item);
    return out;
  }
}
