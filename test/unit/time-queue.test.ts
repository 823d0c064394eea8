import { describe, expect, it } from 'vitest';
import { TimeQueue } from '../../src/queue/time-queue.js';
import { seededRandom } from '../helpers/random.js';

describe('TimeQueue', () => {
  it('takes items by time, equal times in arrival order, through random pushes and shifts (model check)', () => {
    const random = seededRandom(7);
    const queue = new TimeQueue<{ at: number; n: number }>((item) => item.at);
    const model: Array<{ at: number; n: number }> = [];
    let clock = 0;
    for (let step = 0; step < 20_000; step++) {
      if (random() < 0.55) {
        // Mostly in order, sometimes earlier than the last one.
        clock += Math.floor(random() * 3);
        const at = random() < 0.9 ? clock : clock - Math.floor(random() * 50);
        const item = { at, n: step };
        queue.push(item);
        model.push(item);
        model.sort((a, b) => a.at - b.at || a.n - b.n);
      } else {
        const expected = model.shift();
        expect(queue.peek()).toBe(expected);
        expect(queue.shift()).toBe(expected);
      }
      expect(queue.size).toBe(model.length);
    }
    while (model.length > 0) expect(queue.shift()).toBe(model.shift());
    expect(queue.shift()).toBeUndefined();
    expect(queue.peek()).toBeUndefined();
  });
});
