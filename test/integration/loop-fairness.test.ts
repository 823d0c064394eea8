/**
 * Jobs that start back to back (a backlog, or a listener that starts the next run) must let the
 * event loop turn: timers, I/O and lease renewals keep running.
 */
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/index.js';
import { eventually } from '../helpers/time.js';

describe('event-loop fairness', () => {
  it('a listener that starts the next run from job:succeeded does not starve the loop', async () => {
    const scheduler = new Scheduler({ concurrency: 1 });
    const chainLength = 3000;
    let runs = 0;
    scheduler.register('sync', () => {
      runs += 1;
    });
    await scheduler.start();
    await scheduler.addTrigger({ id: 'chain', handler: 'sync', schedule: { manual: true } });
    scheduler.on('job:succeeded', () => {
      if (runs < chainLength) void scheduler.runTrigger('chain');
    });
    let runsWhenTimerFired: number | null = null;
    setTimeout(() => (runsWhenTimerFired = runs), 1);
    await scheduler.runTrigger('chain');
    await eventually(() => runs >= chainLength, 20_000, 'the chain to finish');
    // The timer fired while the chain was still running: the engine let the loop turn.
    expect(runsWhenTimerFired).not.toBeNull();
    expect(runsWhenTimerFired!).toBeLessThan(chainLength);
    await scheduler.stop();
  });

  it('a backlog of synchronous jobs yields between batches', async () => {
    const scheduler = new Scheduler({ concurrency: 1000 });
    const turns = new Set<number>();
    let turn = 0;
    const ticker = setInterval(() => (turn += 1), 0);
    scheduler.register('sync', () => void turns.add(turn));
    await scheduler.start();
    await scheduler.addTrigger({ id: 'many', handler: 'sync', schedule: { manual: true } });
    for (let i = 0; i < 500; i++) await scheduler.runTrigger('many');
    await eventually(async () => (await scheduler.stats({ triggerId: 'many' })).jobs.succeeded === 500, 10_000, '500 jobs');
    clearInterval(ticker);
    // Not all 500 in one turn: the engine handed the loop back at least once per batch.
    expect(turns.size).toBeGreaterThan(1);
    await scheduler.stop();
  });
});
