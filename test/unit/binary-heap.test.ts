import { describe, expect, it } from 'vitest';
import { BinaryHeap } from '../../src/queue/binary-heap.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('BinaryHeap', () => {
  it('pops in sorted order after random pushes and pops (model check against a sorted array)', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = seeded(seed);
      const heap = new BinaryHeap<number>((a, b) => a - b);
      const model: number[] = [];
      for (let step = 0; step < 500; step++) {
        if (random() < 0.6 || model.length === 0) {
          const value = Math.floor(random() * 100);
          heap.push(value);
          model.push(value);
          model.sort((a, b) => a - b);
        } else {
          expect(heap.pop()).toBe(model.shift());
        }
        expect(heap.size).toBe(model.length);
        expect(heap.peek()).toBe(model[0]);
      }
      const drained: number[] = [];
      while (heap.size > 0) drained.push(heap.pop()!);
      expect(drained).toEqual(model);
    }
  });

  it('orders by a composite key (time, then priority descending)', () => {
    const heap = new BinaryHeap<{ at: number; priority: number; name: string }>(
      (a, b) => a.at - b.at || b.priority - a.priority,
    );
    heap.push({ at: 10, priority: 0, name: 'late' });
    heap.push({ at: 5, priority: 1, name: 'high' });
    heap.push({ at: 5, priority: 9, name: 'highest' });
    heap.push({ at: 1, priority: -5, name: 'first' });
    expect([heap.pop()?.name, heap.pop()?.name, heap.pop()?.name, heap.pop()?.name]).toEqual([
      'first',
      'highest',
      'high',
      'late',
    ]);
    expect(heap.pop()).toBeUndefined();
  });

  it('clear empties the heap', () => {
    const heap = new BinaryHeap<number>((a, b) => a - b);
    heap.push(3);
    heap.push(1);
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
  });
});
