/**
 * A few real-time smoke tests: the system clock, real timers and the default backend wired
 * together. They wait for conditions, with generous limits; no timing is asserted.
 */
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/index.js';
import type { Job } from '../../src/index.js';
import { eventually } from '../helpers/time.js';

describe('real-time smoke', () => {
  it('runs interval, cron (seconds field) and one-shot triggers on the default in-memory backend', async () => {
    const scheduler = new Scheduler({ pollIntervalMs: 100, lookaheadMs: 500 });
    const done: Job[] = [];
    scheduler.on('job:succeeded', (job) => done.push(job));
    scheduler.register('noop', async () => ({ at: Date.now() }));
    await scheduler.start();
    const start = Date.now();
    await scheduler.addTrigger({ id: 'every', handler: 'noop', schedule: { every: 1000 } });
    await scheduler.addTrigger({ id: 'cron', handler: 'noop', schedule: { cron: '* * * * * *' } });
    await scheduler.addTrigger({ id: 'once', handler: 'noop', schedule: { at: new Date(start + 300) } });
    await eventually(
      () => done.filter((j) => j.triggerId === 'every').length >= 2 && done.some((j) => j.triggerId === 'cron') && done.some((j) => j.triggerId === 'once'),
      5000,
      'jobs of all three triggers',
    );
    await scheduler.stop();
    for (const job of done) {
      // Never early: the handler's own clock reading is at or after the slot.
      expect((job.result as { at: number }).at).toBeGreaterThanOrEqual(job.scheduledFor.getTime());
    }
    expect((await scheduler.getTrigger('once'))?.status).toBe('completed');
    expect(scheduler.state).toBe('stopped');
  });

  it('a timeout really aborts the handler signal in real time', async () => {
    const scheduler = new Scheduler();
    let abortedWith: unknown = null;
    scheduler.register('slow', (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve((abortedWith = ctx.signal.reason, null)))));
    await scheduler.start();
    await scheduler.addTrigger({ id: 's', handler: 'slow', schedule: { manual: true }, timeoutMs: 50 });
    const job = await scheduler.runTrigger('s');
    await eventually(async () => (await scheduler.getJob(job.id))?.status === 'failed', 3000, 'timeout');
    expect((abortedWith as Error).name).toBe('JobTimeoutError');
    await scheduler.stop();
  });
});
