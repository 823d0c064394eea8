/**
 * WorkerPoolJobRunner against real worker threads, real timeouts and real heap limits.
 * Fixtures are plain ESM in test/fixtures/workers so the threads load them without a TS loader.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  JobTimeoutError,
  PermanentJobError,
  SchedulerStoppedError,
} from '../../src/errors.js';
import type { RunOutcome } from '../../src/ports.js';
import { WorkerPoolJobRunner } from '../../src/runners/index.js';
import { fixture, makeContext, recordingLogger } from '../fixtures/workers/job-context.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function errorOf(outcome: RunOutcome): Error & { code?: string } {
  if (outcome.ok) throw new Error(`expected a failure, got result ${JSON.stringify(outcome.result)}`);
  expect(outcome.error).toBeInstanceOf(Error);
  return outcome.error as Error & { code?: string };
}

function resultOf(outcome: RunOutcome): unknown {
  if (!outcome.ok) throw outcome.error;
  return outcome.result;
}

/** Which thread a fresh attempt runs on (the echo fixture reports it). */
async function threadIdOf(runner: WorkerPoolJobRunner): Promise<number> {
  const result = resultOf(await runner.run({ handler: fixture('echo'), context: makeContext() }));
  return (result as { threadId: number }).threadId;
}

/** CPU the whole process burns over `ms` while this thread sleeps: a busy thread left alive shows up here. */
async function processCpuMsOver(ms: number): Promise<number> {
  const before = process.cpuUsage();
  await sleep(ms);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

describe('WorkerPoolJobRunner', () => {
  // One thread, so a replaced thread is visible as a new threadId and queueing is deterministic.
  let single: WorkerPoolJobRunner;
  let pair: WorkerPoolJobRunner;

  beforeAll(() => {
    single = new WorkerPoolJobRunner({ minThreads: 1, maxThreads: 1, abortGraceMs: 200 });
    pair = new WorkerPoolJobRunner({ minThreads: 1, maxThreads: 2, abortGraceMs: 200 });
  });

  afterAll(async () => {
    await Promise.all([single.close({ timeoutMs: 1000 }), pair.close({ timeoutMs: 1000 })]);
  });

  describe('running module handlers', () => {
    it('hands the handler a structured-clone copy of the context and returns its result', async () => {
      const outcome = await pair.run({
        handler: fixture('echo'),
        context: makeContext({ payload: { n: 1, list: ['a'] }, attempt: 3 }),
      });
      expect(resultOf(outcome)).toMatchObject({
        payload: { n: 1, list: ['a'] },
        attempt: 3,
        jobId: 'job-1',
        scheduledFor: '2030-01-01T00:00:00.000Z',
        scheduledForIsDate: true,
        triggerId: null,
        hasSignal: true,
      });
    });

    it('calls the named export and reports undefined as null', async () => {
      const named = await pair.run({ handler: fixture('echo', 'named'), context: makeContext({ payload: 'x' }) });
      expect(resultOf(named)).toEqual({ named: true, payload: 'x' });
      const noop = await pair.run({ handler: fixture('noop'), context: makeContext() });
      expect(resultOf(noop)).toBeNull();
    });

    it('runs the default export of a CommonJS module compiled from `export default`', async () => {
      const handler = { module: new URL('../fixtures/workers/compiled-cjs.cjs', import.meta.url) };
      await pair.validate(handler);
      expect(resultOf(await pair.run({ handler, context: makeContext({ payload: 5 }) }))).toEqual({ cjs: true, payload: 5 });
    });

    it('supports module handlers only', async () => {
      expect(pair.supports(fixture('noop'))).toBe(true);
      expect(pair.supports(() => null)).toBe(false);
      const outcome = await pair.run({ handler: () => null, context: makeContext() });
      expect(errorOf(outcome)).toBeInstanceOf(TypeError);
    });

    it('forwards ctx.log lines and ctx.heartbeat() calls to the main thread', async () => {
      const logger = recordingLogger();
      let heartbeats = 0;
      const outcome = await pair.run({
        handler: fixture('chatty'),
        context: makeContext({ attempt: 2, logger, heartbeat: () => Promise.resolve(void heartbeats++) }),
      });
      expect(resultOf(outcome)).toBe('done');
      expect(heartbeats).toBe(1);
      expect(logger.records).toEqual([
        { level: 'info', fields: { step: 1, attempt: 2 }, message: 'starting' },
        { level: 'warn', fields: { step: 2, nested: { ok: true } }, message: undefined },
      ]);

      const failing = await pair.run({
        handler: fixture('chatty', 'heartbeatFails'),
        context: makeContext({ heartbeat: () => Promise.reject(new Error('lease lost')) }),
      });
      expect(resultOf(failing)).toEqual({ name: 'Error', message: 'lease lost' });
    });
  });

  describe('metrics measured in the worker', () => {
    it('reports CPU, wall time and peak heap of a CPU-bound handler', async () => {
      const outcome = await pair.run({ handler: fixture('burn'), context: makeContext({ payload: { ms: 250 } }) });
      expect(outcome.ok).toBe(true);
      const { metrics } = outcome;
      expect(metrics.durationMs).toBeGreaterThanOrEqual(240);
      // Most of the 250 ms on an idle machine; less when other processes compete for the cores,
      // but never more than one thread can use in that wall time.
      expect(metrics.cpuUserMs).toBeGreaterThan(20);
      expect(metrics.cpuSystemMs).toBeGreaterThanOrEqual(0);
      expect((metrics.cpuUserMs ?? Infinity) + (metrics.cpuSystemMs ?? 0)).toBeLessThan(metrics.durationMs * 1.1 + 15);
      // The fixture keeps ~1.6 MB of arrays alive on top of the thread's baseline heap.
      expect(metrics.heapUsedBytes).toBeGreaterThan(1_500_000);
      expect(metrics.waitMs).toBeGreaterThanOrEqual(0);
    });

    it.skipIf(process.platform !== 'linux')(
      "counts the worker thread's own CPU only, not the main thread's",
      async () => {
        const running = pair.run({ handler: fixture('sleep'), context: makeContext({ payload: { ms: 300 } }) });
        const end = Date.now() + 250;
        let x = 0;
        while (Date.now() < end) x += Math.sqrt(x + 1); // the main thread burns meanwhile
        const outcome = await running;
        expect(outcome.ok).toBe(true);
        // process.cpuUsage() would report ~250 ms here; the sleeping thread used a few ms.
        expect((outcome.metrics.cpuUserMs ?? 0) + (outcome.metrics.cpuSystemMs ?? 0)).toBeLessThan(80);
      },
    );

    it('reports the time spent waiting for a free thread', async () => {
      await threadIdOf(single); // thread warm, so only queueing counts below
      const busy = single.run({ handler: fixture('sleep'), context: makeContext({ payload: { ms: 300 } }) });
      const queued = single.run({ handler: fixture('noop'), context: makeContext() });
      const [first, second] = await Promise.all([busy, queued]);
      expect(first.metrics.waitMs).toBeLessThan(100);
      expect(second.metrics.waitMs).toBeGreaterThanOrEqual(250);
      expect(second.metrics.durationMs).toBeLessThan(100);
    });
  });

  describe('stopping attempts', () => {
    it('terminates a handler stuck in while (true) {} and keeps serving with a new thread', async () => {
      const before = await threadIdOf(single);
      const controller = new AbortController();
      const running = single.run({ handler: fixture('spin'), context: makeContext({ signal: controller.signal }) });
      await sleep(300);
      const abortedAt = performance.now();
      controller.abort(new JobTimeoutError(300));
      const outcome = await running;
      expect(performance.now() - abortedAt).toBeLessThan(100); // run() does not wait for the kill
      expect(errorOf(outcome)).toBeInstanceOf(JobTimeoutError);
      expect(outcome.metrics.durationMs).toBeGreaterThanOrEqual(250);

      await sleep(200 + 150); // abortGraceMs, then termination
      const after = await threadIdOf(single); // also waits until the replacement thread is up
      expect(after).not.toBe(before);
      expect(single.stats().threads).toBe(1);
      // A spinner left alive would burn 250-500 ms here even sharing a core; an idle process ~0.
      expect(await processCpuMsOver(500)).toBeLessThan(150);
    });

    it('lets a handler that honours its signal finish on its thread within the grace period', async () => {
      const before = await threadIdOf(single);
      const logger = recordingLogger();
      const controller = new AbortController();
      const running = single.run({
        handler: fixture('cooperative'),
        context: makeContext({ signal: controller.signal, logger }),
      });
      await sleep(100);
      controller.abort(new JobTimeoutError(100));
      expect(errorOf(await running)).toBeInstanceOf(JobTimeoutError);
      await sleep(300); // past the grace period: a kill would have happened by now
      expect(logger.records).toEqual([
        { level: 'info', fields: { sawAbort: true, reasonName: 'JobTimeoutError', reasonCode: 'ERR_JOB_TIMEOUT' }, message: 'aborted' },
      ]);
      expect(await threadIdOf(single)).toBe(before);
    });

    it('passes any abort reason through (e.g. a cancel) and drops an attempt still waiting for a thread', async () => {
      await threadIdOf(single);
      const busy = single.run({ handler: fixture('sleep'), context: makeContext({ payload: { ms: 300 } }) });
      const controller = new AbortController();
      const queued = single.run({ handler: fixture('echo'), context: makeContext({ signal: controller.signal }) });
      await sleep(50);
      expect(single.stats().queued).toBe(1);
      const cancelled = new Error('cancelled by user');
      controller.abort(cancelled);
      const outcome = await queued;
      expect(outcome.ok ? null : outcome.error).toBe(cancelled);
      expect(outcome.metrics.durationMs).toBe(0);
      expect(single.stats().queued).toBe(0);
      expect(resultOf(await busy)).toMatchObject({ slept: 300 });
    });

    it('settles at once when the signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort(new JobTimeoutError(1));
      const outcome = await pair.run({ handler: fixture('noop'), context: makeContext({ signal: controller.signal }) });
      expect(errorOf(outcome)).toBeInstanceOf(JobTimeoutError);
    });
  });

  describe('failures stay with their job', () => {
    it('fails only the job that exceeds the heap limit, with an error that says so', async () => {
      const small = new WorkerPoolJobRunner({
        minThreads: 1,
        maxThreads: 2,
        resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
      });
      try {
        const neighbour = small.run({ handler: fixture('sleep'), context: makeContext({ payload: { ms: 600 } }) });
        const hog = await small.run({ handler: fixture('heap-hog'), context: makeContext() });
        const error = errorOf(hog);
        expect(error.name).toBe('WorkerOutOfMemoryError');
        expect(error.code).toBe('ERR_WORKER_OUT_OF_MEMORY');
        expect(error.message).toMatch(/ran out of memory.*maxOldGenerationSizeMb = 32/);
        expect(resultOf(await neighbour)).toMatchObject({ slept: 600 });
        expect(resultOf(await small.run({ handler: fixture('noop'), context: makeContext() }))).toBeNull();
      } finally {
        await small.close({ timeoutMs: 1000 });
      }
    });

    it('keeps name, message, code and stack of an error thrown in the worker', async () => {
      const error = errorOf(await pair.run({ handler: fixture('throw-code'), context: makeContext() }));
      expect(error.name).toBe('FixtureError');
      expect(error.message).toBe('fixture failed on purpose');
      expect(error.code).toBe('E_FIXTURE');
      expect(error.stack).toContain('throw-code.mjs');
      expect(error).not.toBeInstanceOf(PermanentJobError);
    });

    it('turns a PermanentJobError thrown in the worker (by name or by code) into a PermanentJobError', async () => {
      const byName = errorOf(await pair.run({ handler: fixture('throw-permanent'), context: makeContext() }));
      expect(byName).toBeInstanceOf(PermanentJobError);
      expect(byName).toMatchObject({ name: 'PermanentJobError', code: 'ERR_PERMANENT_JOB', message: 'input can never succeed' });
      expect(byName.stack).toContain('throw-permanent.mjs');

      const byCode = errorOf(await pair.run({ handler: fixture('throw-permanent', 'byCode'), context: makeContext() }));
      expect(byCode).toBeInstanceOf(PermanentJobError);
      expect(byCode).toMatchObject({ name: 'BadInputError', code: 'ERR_PERMANENT_JOB' });
    });

    it('reports an uncaught asynchronous exception and replaces the thread', async () => {
      const error = errorOf(await pair.run({ handler: fixture('async-throw'), context: makeContext() }));
      expect(error.message).toBe('thrown outside the handler promise');
      expect(error.code).toBe('E_ASYNC');
      expect(resultOf(await pair.run({ handler: fixture('noop'), context: makeContext() }))).toBeNull();
    });

    it('fails the job when the handler ends its thread with process.exit()', async () => {
      const error = errorOf(await pair.run({ handler: fixture('exit'), context: makeContext() }));
      expect(error.name).toBe('WorkerExitedError');
      expect(error.message).toMatch(/exited while running the job/);
      expect(resultOf(await pair.run({ handler: fixture('noop'), context: makeContext() }))).toBeNull();
    });

    it('sends back a result structured clone cannot copy as JSON.stringify writes it', async () => {
      const outcome = await pair.run({ handler: fixture('bad-result'), context: makeContext() });
      expect(outcome).toMatchObject({ ok: true, result: { at: '1970-01-01T00:00:00.000Z' } });
      expect(outcome.ok && outcome.droppedResult).toBeUndefined();
    });

    it('drops a result neither structured clone nor JSON can copy, and still succeeds', async () => {
      const outcome = await pair.run({ handler: fixture('bad-result', 'cyclic'), context: makeContext() });
      expect(outcome).toMatchObject({ ok: true, result: null, droppedResult: expect.stringMatching(/cannot be sent back from the worker thread/) });
    });
  });

  describe('module checks', () => {
    it('accepts a loadable module with a function export', async () => {
      await expect(pair.validate(fixture('echo'))).resolves.toBeUndefined();
      await expect(pair.validate(fixture('echo', 'named'))).resolves.toBeUndefined();
    });

    it.each([
      ['a missing file', fixture('does-not-exist'), 'handler.module', /module not found: .*does-not-exist\.mjs/],
      ['a relative path', { module: './echo.mjs' }, 'handler.module', /absolute path or a file: URL/],
      ['a module that throws on import', fixture('top-level-throw'), 'handler.module', /failed to load: Error: module initialisation failed/],
      ['no default export', fixture('no-export'), 'handler.exportName', /no export "default" \(exports: "notAHandler", "run"\)/],
      ['an export that is not a function', fixture('no-export', 'run'), 'handler.exportName', /not a function \(it is string\)/],
    ] as const)('rejects %s naming the field', async (_case, handler, field, message) => {
      const error: unknown = await pair.validate(handler).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      expect(error).toMatchObject({ field });
      expect((error as Error).message).toMatch(message);
    });

    it('fails a run whose module cannot be used with a PermanentJobError that names the field', async () => {
      const missingExport = errorOf(await pair.run({ handler: fixture('echo', 'nope'), context: makeContext() }));
      expect(missingExport).toBeInstanceOf(PermanentJobError);
      expect(missingExport.message).toMatch(/handler\.exportName: .*no export "nope"/);
      const missingModule = errorOf(await pair.run({ handler: fixture('gone'), context: makeContext() }));
      expect(missingModule).toBeInstanceOf(PermanentJobError);
      expect(missingModule.message).toMatch(/handler\.module: module not found/);
    });
  });

  describe('broken worker threads', () => {
    it('fails jobs fast, not forever queued, when threads cannot start', async () => {
      // A worker entry that throws on import stands for any start-up failure of the threads.
      const broken = new WorkerPoolJobRunner({ maxThreads: 1, workerFile: fixture('top-level-throw').module });
      try {
        for (let attempt = 0; attempt < 2; attempt++) {
          const t0 = performance.now();
          const error = errorOf(await broken.run({ handler: fixture('noop'), context: makeContext() }));
          expect(error).toMatchObject({ name: 'WorkerStartError', code: 'ERR_WORKER_START' });
          expect(error.message).toMatch(/could not start: module initialisation failed/);
          expect(performance.now() - t0).toBeLessThan(3000);
        }
      } finally {
        await broken.close({ timeoutMs: 500 });
      }
    });
  });

  describe('options and closing', () => {
    it('rejects bad options naming the field', () => {
      expect(() => new WorkerPoolJobRunner({ maxThreads: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
      expect(() => new WorkerPoolJobRunner({ resourceLimits: { maxOldGenerationSizeMb: -1 } })).toThrow(
        /resourceLimits\.maxOldGenerationSizeMb/,
      );
    });

    it('drains running attempts before closing, refuses work while closing, and starts a fresh pool after', async () => {
      const runner = new WorkerPoolJobRunner({ maxThreads: 1 });
      const running = runner.run({ handler: fixture('sleep'), context: makeContext({ payload: { ms: 200 } }) });
      await sleep(50);
      const closing = runner.close({ timeoutMs: 5000 });
      expect(errorOf(await runner.run({ handler: fixture('noop'), context: makeContext() }))).toBeInstanceOf(
        SchedulerStoppedError,
      );
      await closing;
      expect(resultOf(await running)).toMatchObject({ slept: 200 });
      expect(runner.stats().threads).toBe(0);
      // Closed is not dead: a scheduler started again with this runner gets a new pool.
      expect(resultOf(await runner.run({ handler: fixture('echo'), context: makeContext({ payload: { n: 1 } }) }))).toMatchObject({ payload: { n: 1 } });
      await runner.close();
    });

    it('terminates what is left when the timeout passes', async () => {
      const runner = new WorkerPoolJobRunner({ maxThreads: 1 });
      const spinning = runner.run({ handler: fixture('spin'), context: makeContext() });
      const queued = runner.run({ handler: fixture('noop'), context: makeContext() });
      await sleep(300);
      const t0 = performance.now();
      await runner.close({ timeoutMs: 300 });
      expect(performance.now() - t0).toBeLessThan(1500);
      expect(errorOf(await spinning)).toBeInstanceOf(SchedulerStoppedError);
      expect(errorOf(await queued)).toBeInstanceOf(SchedulerStoppedError);
      expect(runner.stats().threads).toBe(0);
      expect(await processCpuMsOver(500)).toBeLessThan(150);
    });
  });
});
