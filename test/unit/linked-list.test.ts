import { describe, expect, it } from 'vitest';
import { LinkedList, type Linked } from '../../src/queue/linked-list.js';
import { seededRandom } from '../helpers/random.js';

interface Item extends Linked<Item> {
  n: number;
}

const item = (n: number): Item => ({ n, prevLinked: null, nextLinked: null, linked: false });

describe('LinkedList', () => {
  it('keeps items in the order they were added through random adds and deletes (model check)', () => {
    const random = seededRandom(11);
    const list = new LinkedList<Item>();
    const items = Array.from({ length: 50 }, (_, n) => item(n));
    const model: Item[] = [];
    for (let step = 0; step < 5000; step++) {
      const picked = items[Math.floor(random() * items.length)]!;
      if (random() < 0.5) {
        list.add(picked);
        if (!model.includes(picked)) model.push(picked);
      } else {
        expect(list.delete(picked)).toBe(model.includes(picked));
        model.splice(model.indexOf(picked) >>> 0, model.includes(picked) ? 1 : 0);
      }
      expect(list.size).toBe(model.length);
      expect(list.toArray()).toEqual(model);
      expect(list.first).toBe(model[0] ?? null);
    }
    for (const listed of list.toArray()) list.delete(listed);
    expect(list.size).toBe(0);
    expect(list.first).toBeNull();
    expect(items.every((x) => !x.linked && x.prevLinked === null && x.nextLinked === null)).toBe(true);
  });
});
