/**
 * A scheduler that was stopped can be started again: its inline runner still runs jobs, and
 * nothing parked before the stop (slots waiting for capacity) stays parked. Manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setup, T0, type TestRig } from '../helpers/setup.js';

let rig: TestRig | null = null;

afterEach(async () => {
  await rig?.scheduler.stop({ graceful: false });
  rig = null;
});

describe('stop, then start again', () => {
  it('runs inline jobs after the restart', async () => {
    rig = setup();
    const { scheduler, clock } = rig;
    scheduler.register('h', () => 'ok');
    await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await scheduler.start();
    await clock.advanceTo(T0 + 1500);
    await scheduler.stop();
    await scheduler.start();
    await clock.advanceTo(T0 + 3500);
    const jobs = await rig.jobsOf('t');
    expect(jobs.map((job) => [job.scheduledFor.getTime() - T0, job.status, job.error?.message ?? null])).toEqual([
      [1000, 'succeeded', null],
      [2000, 'succeeded', null],
      [3000, 'succeeded', null],
    ]);
  });

  it('fires again when it was stopped while full', async () => {
    rig = setup({ concurrency: 1 });
    const { scheduler, clock } = rig;
    scheduler.register('long', (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())));
    const starts: number[] = [];
    scheduler.register('h', () => void starts.push(clock.now() - T0));
    await scheduler.addTrigger({ id: 'long', handler: 'long', schedule: { at: new Date(T0 + 500) } });
    await scheduler.addTrigger({ id: 't', handler: 'h', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await scheduler.start();
    // 't' is due while the only place is taken: parked for capacity when the instance stops.
    await clock.advanceTo(T0 + 1200);
    expect(starts).toEqual([]);
    await scheduler.stop({ graceful: false });
    // The long job was handed back; cancelled, it does not come back to take the place again.
    const [long] = await rig.jobsOf('long');
    expect(long?.status).toBe('pending');
    await scheduler.cancelJob(long!.id);
    await scheduler.start();
    await clock.advanceTo(T0 + 3500);
    expect(starts).toEqual([1200, 2000, 3000]);
  });
});
