/**
 * WorkerPoolJobRunner inside a real Scheduler (system clock, in-memory backend): what the issue
 * asks of worker jobs, seen from job records: mixed inline/worker handlers, timeouts and cancels
 * that really stop a spinning thread, heap limits, error fields and retries, metrics, stop().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, Scheduler, WorkerPoolJobRunner } from '../../src/index.js';
import type { Job, JobStatus, JsonValue } from '../../src/index.js';
import { eventually } from '../helpers/time.js';
import { fixture } from '../fixtures/workers/job-context.js';

const FINAL: JobStatus[] = ['succeeded', 'failed', 'cancelled', 'skipped'];

describe('WorkerPoolJobRunner in a Scheduler', () => {
  let scheduler: Scheduler;
  let runner: WorkerPoolJobRunner;

  /** Fire a manual trigger of `handler` and wait for its job to reach a final status. */
  async function runOnce(handler: string, payload: JsonValue = null, timeoutMs = 8000): Promise<Job> {
    const { id } = await scheduler.runTrigger(handler, { payload });
    const final = async (): Promise<Job | null> => {
      const job = await scheduler.getJob(id);
      return job !== null && FINAL.includes(job.status) ? job : null;
    };
    await eventually(async () => (await final()) !== null, timeoutMs, `job of ${handler} to finish`);
    const job = await final();
    if (job === null) throw new Error(`job ${id} is not final`);
    return job;
  }

  beforeAll(async () => {
    runner = new WorkerPoolJobRunner({
      minThreads: 1,
      maxThreads: 2,
      abortGraceMs: 100,
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
    });
    scheduler = new Scheduler({ jobRunner: runner, pollIntervalMs: 100 });
    const retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 10 } };
    scheduler.register('inline', (ctx) => ({ inline: true, payload: ctx.payload }));
    scheduler.register('echo', fixture('echo'));
    scheduler.register('burn', fixture('burn'));
    scheduler.register('spin', fixture('spin'), { timeoutMs: 300 });
    scheduler.register('spin-long', fixture('spin'));
    scheduler.register('hog', fixture('heap-hog'));
    scheduler.register('throw-code', fixture('throw-code'), { retry });
    scheduler.register('permanent', fixture('throw-permanent'), { retry });
    await scheduler.start();
    for (const handler of ['inline', 'echo', 'burn', 'spin', 'spin-long', 'hog', 'throw-code', 'permanent']) {
      await scheduler.addTrigger({ id: handler, handler, schedule: { manual: true } });
    }
  });

  afterAll(async () => {
    await scheduler.stop({ timeoutMs: 1000 });
  });

  it('runs inline and worker handlers side by side', async () => {
    const [inline, worker] = await Promise.all([runOnce('inline', { a: 1 }), runOnce('echo', { b: 2 })]);
    expect(inline).toMatchObject({ status: 'succeeded', result: { inline: true, payload: { a: 1 } } });
    expect(worker).toMatchObject({ status: 'succeeded', result: { payload: { b: 2 }, attempt: 1, scheduledForIsDate: true } });
    expect((worker.result as { threadId: number }).threadId).toBeGreaterThan(0);
  });

  it('stores the metrics measured in the worker on the job', async () => {
    const job = await runOnce('burn', { ms: 200 });
    expect(job.status).toBe('succeeded');
    expect(job.metrics.durationMs).toBeGreaterThanOrEqual(190);
    expect(job.metrics.cpuUserMs).toBeGreaterThan(20);
    expect(job.metrics.cpuSystemMs).toBeGreaterThanOrEqual(0);
    expect(job.metrics.heapUsedBytes).toBeGreaterThan(1_500_000);
    expect(job.metrics.queuedMs).toBeGreaterThanOrEqual(0);
    expect(job.metrics.threadWaitMs).toBeGreaterThanOrEqual(0);
    expect(typeof job.metrics.threadWaitMs).toBe('number');
  });

  it('fails a spinning job with JobTimeoutError and keeps serving', async () => {
    const job = await runOnce('spin');
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ name: 'JobTimeoutError', code: 'ERR_JOB_TIMEOUT' });
    expect((await runOnce('echo')).status).toBe('succeeded');
  });

  it('cancels a spinning job', async () => {
    const job = await scheduler.runTrigger('spin-long');
    await eventually(async () => (await scheduler.getJob(job.id))?.status === 'running', 5000, 'spinner to start');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cancelled = await scheduler.cancelJob(job.id);
    expect(cancelled.status).toBe('cancelled');
    expect((await runOnce('echo')).status).toBe('succeeded');
  });

  it('fails only the job that runs out of heap', async () => {
    const [hog, neighbour] = await Promise.all([runOnce('hog'), runOnce('burn', { ms: 300 })]);
    expect(hog.status).toBe('failed');
    expect(hog.error).toMatchObject({ name: 'WorkerOutOfMemoryError', code: 'ERR_WORKER_OUT_OF_MEMORY' });
    expect(hog.error?.message).toMatch(/ran out of memory/);
    expect(neighbour.status).toBe('succeeded');
  });

  it('keeps error name and code, retries ordinary errors and not PermanentJobError', async () => {
    const ordinary = await runOnce('throw-code');
    expect(ordinary).toMatchObject({ status: 'failed', attempts: 3 });
    // The stack is the one thrown in the worker thread.
    expect(ordinary.error).toEqual({ name: 'FixtureError', message: 'fixture failed on purpose', code: 'E_FIXTURE', stack: expect.stringMatching(/fixture failed on purpose\n\s+at .*fixtures/) as string });

    const permanent = await runOnce('permanent');
    expect(permanent).toMatchObject({ status: 'failed', attempts: 1 });
    expect(permanent.error).toMatchObject({ name: 'PermanentJobError', code: 'ERR_PERMANENT_JOB' });
  });

  it('refuses to start with a module that has no such export', async () => {
    const other = new Scheduler({ jobRunner: new WorkerPoolJobRunner({ maxThreads: 1 }) });
    other.register('broken', fixture('no-export'));
    const error: unknown = await other.start().then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(error).toMatchObject({ field: 'handler.exportName' });
    await other.stop();
  });

  it('stop() terminates what is still running after its timeout', async () => {
    const other = new Scheduler({ jobRunner: new WorkerPoolJobRunner({ maxThreads: 1 }), pollIntervalMs: 100 });
    other.register('spin', fixture('spin'));
    await other.start();
    await other.addTrigger({ id: 'spin', handler: 'spin', schedule: { manual: true } });
    const job = await other.runTrigger('spin');
    await eventually(async () => (await other.getJob(job.id))?.status === 'running', 5000, 'spinner to start');
    const t0 = performance.now();
    await other.stop({ graceful: true, timeoutMs: 300 });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(other.state).toBe('stopped');
  });
});
