/**
 * The time-travel harness itself (src/testing/time-travel.ts): bad arguments, what
 * `runUntilIdle` waits for and what it leaves to `advance`, retries with backoff, timeouts on the
 * manual clock, dependents at one instant, the record of runs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidTriggerConfigError, ManualClock, SchedulerError } from '@intellibrowse/scheduler';
import { IdleTimeoutError, TimeTravel, type TimeTravelOptions } from '@intellibrowse/scheduler/testing';

const START = '2026-03-02T09:00:00.000Z';
const at = (iso: string): number => Date.parse(iso);

let travel: TimeTravel | null = null;
function make(options: TimeTravelOptions = {}): TimeTravel {
  travel = new TimeTravel({ start: START, ...options });
  return travel;
}
afterEach(async () => {
  await travel?.scheduler.stop({ graceful: false });
  travel = null;
});

describe('TimeTravel arguments', () => {
  it('advanceTo before the clock throws InvalidArgumentError naming target, and the clock stays', async () => {
    const t = make();
    await t.start();
    await t.advance(1000);
    const error = await t.advanceTo('2026-03-02T08:59:00Z').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).not.toBeInstanceOf(InvalidTriggerConfigError);
    expect(error).toBeInstanceOf(SchedulerError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', field: 'target' });
    expect((error as Error).message).toBe(
      "target: 2026-03-02T08:59:00.000Z is before the clock's time 2026-03-02T09:00:01.000Z; time travels forward only",
    );
    expect(t.now.toISOString()).toBe('2026-03-02T09:00:01.000Z');
    // The same instant is no travel at all, and allowed.
    await t.advanceTo(t.now);
    expect(t.now.toISOString()).toBe('2026-03-02T09:00:01.000Z');
  });

  it('refuses a target that is no time, a negative or infinite ms, a bad start, a clock of its own', async () => {
    const t = make();
    await expect(t.advanceTo('next tuesday')).rejects.toMatchObject({ field: 'target' });
    await expect(t.advanceTo(new Date(Number.NaN))).rejects.toMatchObject({ field: 'target' });
    await expect(t.advance(-1)).rejects.toMatchObject({ field: 'ms' });
    await expect(t.advance(Number.POSITIVE_INFINITY)).rejects.toMatchObject({ field: 'ms' });
    expect(t.now.toISOString()).toBe(START);
    expect(() => new TimeTravel({ start: 'soon' })).toThrow(expect.objectContaining({ field: 'start' }));
    expect(() => new TimeTravel({ idleTimeoutMs: 0 })).toThrow(expect.objectContaining({ field: 'idleTimeoutMs' }));
    expect(() => new TimeTravel({ quietTurns: 1.5 })).toThrow(expect.objectContaining({ field: 'quietTurns' }));
    // Typed out (`Omit<SchedulerOptions, 'clock'>`); a JavaScript caller can still pass one.
    const own = { clock: new ManualClock() } as NonNullable<TimeTravelOptions['scheduler']>;
    expect(() => new TimeTravel({ scheduler: own })).toThrow(expect.objectContaining({ field: 'scheduler.clock' }));
  });

  it('starts at 2026-01-01T00:00:00Z by default, on a ManualClock', () => {
    const t = new TimeTravel();
    expect(t.now.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(t.clock).toBeInstanceOf(ManualClock);
  });
});

describe('runUntilIdle', () => {
  it('runs what is due now without moving time, and leaves a retry backoff to advance', async () => {
    const t = make();
    let calls = 0;
    t.scheduler.register('flaky', () => {
      calls += 1;
      if (calls < 3) throw new Error(`failure ${calls}`);
      return { ok: calls };
    });
    await t.scheduler.addTrigger({
      id: 'flaky',
      handler: 'flaky',
      schedule: { manual: true },
      retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 60_000, jitter: 'none' } },
    });
    await t.start();
    const job = await t.scheduler.runTrigger('flaky');
    await t.runUntilIdle();
    expect(t.now.toISOString()).toBe(START);
    expect(t.runs.map((r) => [r.attempt, r.outcome])).toEqual([[1, 'retrying']]);
    // The first backoff is 60 s: one millisecond short runs nothing.
    await t.advance(59_999);
    expect(t.runs).toHaveLength(1);
    await t.advance(1);
    expect(t.runs.map((r) => [r.attempt, r.outcome, r.startedAt.toISOString()])).toEqual([
      [1, 'retrying', START],
      [2, 'retrying', '2026-03-02T09:01:00.000Z'],
    ]);
    // Exponential: the second backoff is 120 s.
    await t.advance(119_999);
    expect(t.runs).toHaveLength(2);
    await t.advance(1);
    expect(t.runs.map((r) => r.outcome)).toEqual(['retrying', 'retrying', 'succeeded']);
    expect(t.runs[2]?.startedAt.toISOString()).toBe('2026-03-02T09:03:00.000Z');
    expect(t.runs.every((r) => r.jobId === job.id && r.endedAt?.getTime() === r.startedAt.getTime())).toBe(true);
    const [stored] = await t.jobs({ triggerId: 'flaky' });
    expect(stored).toMatchObject({ status: 'succeeded', attempts: 3, result: { ok: 3 } });
  });

  it('waits for a handler on real I/O, which advance alone would leave running', async () => {
    const t = make();
    t.scheduler.register('io', async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return 'read';
    });
    await t.scheduler.addTrigger({ id: 'io', handler: 'io', schedule: { manual: true } });
    await t.start();
    await t.scheduler.runTrigger('io');
    await t.advance(0);
    expect(t.runs.map((r) => r.outcome)).toEqual([null]);
    await t.runUntilIdle();
    expect(t.runs.map((r) => [r.outcome, r.endedAt?.toISOString()])).toEqual([['succeeded', START]]);
  });

  it('throws IdleTimeoutError naming the attempt when a handler never ends without the clock', async () => {
    const t = make({ idleTimeoutMs: 200 });
    t.scheduler.register('stuck', (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))));
    await t.scheduler.addTrigger({ id: 'stuck', handler: 'stuck', schedule: { manual: true }, timeoutMs: 10_000 });
    await t.start();
    const job = await t.scheduler.runTrigger('stuck');
    const error = await t.runUntilIdle().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdleTimeoutError);
    expect(error).toMatchObject({ code: 'ERR_IDLE_TIMEOUT', running: [expect.objectContaining({ jobId: job.id, outcome: null })] });
    expect((error as Error).message).toContain(`job ${job.id} of trigger stuck`);
    // Its timeout is on the manual clock: advance moves past it while the attempt waits.
    await t.advance(10_000);
    expect(t.runs.map((r) => [r.outcome, r.endedAt?.toISOString()])).toEqual([['failed', '2026-03-02T09:00:10.000Z']]);
    expect((await t.scheduler.getJob(job.id))?.error).toMatchObject({ code: 'ERR_JOB_TIMEOUT' });
  });

  it('runs a dependent at the instant its upstream succeeded', async () => {
    const t = make();
    const order: string[] = [];
    t.scheduler.register('extract', () => void order.push('extract'));
    t.scheduler.register('load', () => void order.push('load'));
    await t.scheduler.addTrigger({ id: 'extract', handler: 'extract', schedule: { cron: '0 10 * * *' } });
    await t.scheduler.addTrigger({ id: 'load', handler: 'load', schedule: { after: 'extract', on: 'success' } });
    await t.start();
    await t.advanceTo('2026-03-02T10:00:00Z');
    expect(order).toEqual(['extract', 'load']);
    expect(t.runs.map((r) => [r.triggerId, r.source, r.startedAt.toISOString()])).toEqual([
      ['extract', 'schedule', '2026-03-02T10:00:00.000Z'],
      ['load', 'dependency', '2026-03-02T10:00:00.000Z'],
    ]);
  });

  it('runs a backlog beyond the concurrency at the same instant, one after another', async () => {
    const t = make({ scheduler: { concurrency: 1 } });
    let running = 0;
    let most = 0;
    t.scheduler.register('slow', async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
    });
    await t.scheduler.addTrigger({ id: 'slow', handler: 'slow', schedule: { manual: true } });
    await t.start();
    for (let i = 0; i < 4; i++) await t.scheduler.runTrigger('slow', { payload: { i } });
    await t.runUntilIdle();
    const runs = t.runs;
    expect(runs.map((r) => (r.payload as { i: number }).i).sort()).toEqual([0, 1, 2, 3]);
    expect(runs.map((r) => [r.outcome, r.startedAt.toISOString(), r.endedAt?.toISOString()])).toEqual(runs.map(() => ['succeeded', START, START]));
    expect(most).toBe(1);
  });

  it('returns at once on a scheduler with nothing to do, started or not', async () => {
    const t = make();
    await t.runUntilIdle();
    await t.start();
    await t.runUntilIdle();
    expect(t.runs).toEqual([]);
    expect(t.now.getTime()).toBe(at(START));
  });

  it('hands out copies of the runs', async () => {
    const t = make();
    t.scheduler.register('h', () => 1);
    await t.scheduler.addTrigger({ id: 'm', handler: 'h', schedule: { manual: true } });
    await t.start();
    await t.scheduler.runTrigger('m');
    await t.runUntilIdle();
    const [run] = t.runs;
    run!.outcome = 'failed';
    expect(t.runs[0]?.outcome).toBe('succeeded');
  });
});
