/**
 * The dependency index (which triggers run after which) is read from the store on a full poll
 * only: at once when the trigger store's change token moved (another instance added a dependent),
 * else once per window length. Two instances on shared memory stores, manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import { T0 } from '../helpers/setup.js';

/** A memory trigger store that counts reads of the dependency edges. */
class CountingEdgesTriggerStore extends MemoryTriggerStore {
  edgeReads = 0;

  override async dependencyEdges(): Promise<Array<{ id: string; after: string }>> {
    this.edgeReads += 1;
    return super.dependencyEdges();
  }
}

let running: Scheduler[] = [];
afterEach(async () => {
  for (const scheduler of running) await scheduler.stop({ graceful: false });
  running = [];
});

/** Two instances; `up` runs only on the first, `down` on both. */
async function pair(withToken = true) {
  const clock = new ManualClock(T0);
  const triggerStore = new CountingEdgesTriggerStore();
  if (!withToken) Object.defineProperty(triggerStore, 'changeToken', { value: undefined });
  const jobStore = new MemoryJobStore();
  const lockManager = new MemoryLockManager();
  const ran: string[] = [];
  const make = async (instanceId: string, handlers: string[]): Promise<Scheduler> => {
    const scheduler = new Scheduler({ clock, triggerStore, jobStore, lockManager, instanceId, pollIntervalMs: 1000, lookaheadMs: 5000, remoteHandlers: ['up'] });
    for (const name of handlers) scheduler.register(name, (ctx) => void ran.push(`${instanceId}:${ctx.job.triggerId}`));
    running.push(scheduler);
    await scheduler.start();
    return scheduler;
  };
  const first = await make('i0', ['up', 'down']);
  const second = await make('i1', ['down']);
  return { clock, triggerStore, first, second, ran };
}

describe('dependency index', () => {
  it('is read once per window length while no trigger changes, not on every poll', async () => {
    const { clock, triggerStore } = await pair();
    await clock.advance(1000);
    triggerStore.edgeReads = 0;
    await clock.advance(20_000);
    // 2 instances × 20 polls: one in five is a full read (lookaheadMs / pollIntervalMs).
    expect(triggerStore.edgeReads).toBeGreaterThanOrEqual(2 * 3);
    expect(triggerStore.edgeReads).toBeLessThanOrEqual(2 * 5 + 2);
  });

  it('is read on every poll by a store without a change token', async () => {
    const { clock, triggerStore } = await pair(false);
    await clock.advance(1000);
    triggerStore.edgeReads = 0;
    await clock.advance(20_000);
    expect(triggerStore.edgeReads).toBeGreaterThanOrEqual(2 * 19);
  });

  it('sees a dependent another instance added at its next poll', async () => {
    const { clock, first, second, ran } = await pair();
    await first.addTrigger({ id: 'up', handler: 'up', schedule: { manual: true } });
    // Past a full poll of both, so that the next poll of the first is a delta one unless the
    // token moved.
    await clock.advance(2000);
    await second.addTrigger({ id: 'down', handler: 'down', schedule: { after: 'up' } });
    await clock.advance(1000);
    await first.runTrigger('up');
    await clock.advance(1000);
    await clock.advance(1000);
    expect(ran).toContain('i0:up');
    expect(ran.filter((r) => r.endsWith(':down'))).toHaveLength(1);
  });
});
