import { describe, expect, it } from 'vitest';
import { DueIndex, type DueEntry } from '../../src/stores/memory/due-index.js';
import { MemoryTriggerStore } from '../../src/stores/memory/index.js';
import { makeTrigger } from '../../src/testing/fixtures.js';
import { seededRandom } from '../helpers/random.js';

/** Every live entry in (lower, upper], earliest first, read the way the memory store reads. */
function read(index: DueIndex, lower: number, upper: number, live: Map<string, number>): DueEntry[] {
  const out: DueEntry[] = [];
  for (const key of index.bucketsIn(lower, upper)) {
    for (const entry of index.compact(key, (e) => live.get(e.id) === e.at)) {
      if (entry.at > lower && entry.at <= upper) out.push(entry);
    }
  }
  return out;
}

describe('DueIndex', () => {
  it('reads ranges like a sorted scan of the live entries, across random adds and moves', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = seededRandom(seed);
      const index = new DueIndex();
      const live = new Map<string, number>();
      for (let step = 0; step < 400; step++) {
        const id = `t${Math.floor(random() * 60)}`;
        // Moving a trigger leaves its old entry behind, as the store does.
        const at = Math.floor(random() * 20_000) - 5000;
        live.set(id, at);
        index.add(at, id);
        if (step % 20 === 0) {
          const lower = random() < 0.3 ? Number.NEGATIVE_INFINITY : Math.floor(random() * 20_000) - 6000;
          const upper = (lower === Number.NEGATIVE_INFINITY ? -6000 : lower) + Math.floor(random() * 12_000);
          const expected = [...live].filter(([, t]) => t > lower && t <= upper).map(([i, t]) => ({ at: t, id: i }));
          const got = read(index, lower, upper, live);
          expect(got.map((e) => e.at)).toEqual([...got.map((e) => e.at)].sort((a, b) => a - b));
          expect(new Set(got.map((e) => `${e.id}@${e.at}`))).toEqual(new Set(expected.map((e) => `${e.id}@${e.at}`)));
        }
      }
    }
  });

  it('skips buckets outside the range and drops emptied ones', () => {
    const index = new DueIndex();
    index.add(500, 'a');
    index.add(1500, 'b');
    index.add(9_999_999, 'far');
    expect(index.bucketsIn(Number.NEGATIVE_INFINITY, 2000)).toEqual([0, 1]);
    expect(index.bucketsIn(1200, 2000)).toEqual([1]);
    expect(index.compact(0, () => false)).toEqual([]);
    expect(index.bucketsIn(Number.NEGATIVE_INFINITY, 2000)).toEqual([1]);
    index.add(700, 'a');
    expect(index.bucketsIn(Number.NEGATIVE_INFINITY, 2000)).toEqual([0, 1]);
  });
});

describe('MemoryTriggerStore.findDue', () => {
  it('lets the event loop turn while it copies a big answer, and still answers in order', async () => {
    const store = new MemoryTriggerStore();
    const base = Date.UTC(2026, 2, 2, 9, 0, 0);
    for (let i = 0; i < 2000; i++) await store.insert(makeTrigger({ id: `t${i}`, nextRunAt: new Date(base + ((i * 7919) % 4000)) }));
    let turned = false;
    setImmediate(() => (turned = true));
    const due = await store.findDue(new Date(base + 10_000), 5000, ['h']);
    expect(turned).toBe(true);
    expect(due).toHaveLength(2000);
    const times = due.map((t) => t.nextRunAt!.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const late = await store.findDue(new Date(base + 10_000), 5000, ['h'], new Date(base + 2999));
    expect(late.every((t) => t.nextRunAt!.getTime() > base + 2999)).toBe(true);
    expect(late).toHaveLength(due.filter((t) => t.nextRunAt!.getTime() > base + 2999).length);
  });

  it('leaves out the triggers the caller holds at that version', async () => {
    const store = new MemoryTriggerStore();
    const base = Date.UTC(2026, 2, 2, 9, 0, 0);
    for (let i = 0; i < 10; i++) await store.insert(makeTrigger({ id: `t${i}`, nextRunAt: new Date(base + i * 100) }));
    const all = await store.findDue(new Date(base + 10_000), 100, ['h']);
    const heldVersions = new Map(all.filter((_, i) => i % 2 === 0).map((t) => [t.id, t.version]));
    // t0 changed since the caller read it: a new version is not held.
    await store.replace({ ...all[0]!, name: 'renamed', version: all[0]!.version + 1 }, all[0]!.version);
    const answer = await store.findDue(new Date(base + 10_000), 100, ['h'], undefined, (id, version) => heldVersions.get(id) === version);
    expect(answer.map((t) => t.id)).toEqual(['t0', 't1', 't3', 't5', 't7', 't9']);
    expect(answer[0]?.name).toBe('renamed');
  });
});
