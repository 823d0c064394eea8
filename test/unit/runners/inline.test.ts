import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, JobTimeoutError, PermanentJobError, SchedulerStoppedError } from '../../../src/errors.js';
import type { HandlerFunction, RunOutcome } from '../../../src/ports.js';
import { InlineJobRunner } from '../../../src/runners/index.js';
import { fixture, makeContext } from '../../fixtures/workers/job-context.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function failure(outcome: RunOutcome): unknown {
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome.result)}`);
  return outcome.error;
}

describe('InlineJobRunner', () => {
  it('calls a function handler with the context and returns its result', async () => {
    const runner = new InlineJobRunner();
    const context = makeContext({ payload: { n: 2 }, attempt: 2 });
    const handler: HandlerFunction = (ctx) => {
      expect(ctx).toBe(context);
      return { doubled: (ctx.payload as { n: number }).n * 2 };
    };
    const outcome = await runner.run({ handler, context });
    expect(outcome).toMatchObject({ ok: true, result: { doubled: 4 } });
    expect((await runner.run({ handler: () => undefined, context })).ok && true).toBe(true);
    const noop = await runner.run({ handler: async () => {}, context });
    expect(noop.ok ? noop.result : 'failed').toBeNull();
  });

  it('measures wall time, process CPU and heap growth, with no wait', async () => {
    const runner = new InlineJobRunner();
    const outcome = await runner.run({
      handler: async () => {
        const end = Date.now() + 60;
        let x = 0;
        while (Date.now() < end) x += Math.sqrt(x + 1);
        await sleep(40);
        return x > 0;
      },
      context: makeContext(),
    });
    expect(outcome.ok).toBe(true);
    expect(outcome.metrics.durationMs).toBeGreaterThanOrEqual(95);
    expect(outcome.metrics.cpuUserMs).toBeGreaterThan(5); // less than the 60 ms when cores are shared
    expect(typeof outcome.metrics.cpuSystemMs).toBe('number');
    expect(typeof outcome.metrics.heapUsedBytes).toBe('number');
    expect(outcome.metrics.waitMs).toBe(0);
  });

  it('returns what the handler threw, as it is', async () => {
    const runner = new InlineJobRunner();
    const thrown = new PermanentJobError('no');
    expect(failure(await runner.run({ handler: () => Promise.reject(thrown), context: makeContext() }))).toBe(thrown);
    const syncThrown = new Error('sync');
    expect(
      failure(
        await runner.run({
          handler: () => {
            throw syncThrown;
          },
          context: makeContext(),
        }),
      ),
    ).toBe(syncThrown);
  });

  it('settles promptly when the signal aborts, even if the handler never does', async () => {
    const runner = new InlineJobRunner();
    const controller = new AbortController();
    const running = runner.run({ handler: () => new Promise<never>(() => {}), context: makeContext({ signal: controller.signal }) });
    await sleep(50);
    const reason = new JobTimeoutError(50);
    const t0 = performance.now();
    controller.abort(reason);
    expect(failure(await running)).toBe(reason);
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it('does not call the handler when the signal is already aborted', async () => {
    const runner = new InlineJobRunner();
    const controller = new AbortController();
    controller.abort();
    let called = false;
    const outcome = await runner.run({
      handler: () => {
        called = true;
      },
      context: makeContext({ signal: controller.signal }),
    });
    expect(called).toBe(false);
    expect(failure(outcome)).toMatchObject({ name: 'AbortError' });
  });

  describe('module handlers', () => {
    it('supports both kinds and runs a module export in this thread', async () => {
      const runner = new InlineJobRunner();
      expect(runner.supports(() => null)).toBe(true);
      expect(runner.supports(fixture('echo'))).toBe(true);
      await runner.validate(fixture('echo', 'named'));
      const outcome = await runner.run({ handler: fixture('echo', 'named'), context: makeContext({ payload: 7 }) });
      expect(outcome).toMatchObject({ ok: true, result: { named: true, payload: 7 } });
      const echo = await runner.run({ handler: fixture('echo'), context: makeContext() });
      const { threadId } = await import('node:worker_threads');
      expect(echo.ok && echo.result).toMatchObject({ threadId });
    });

    it('runs the default export of a CommonJS module compiled from `export default`', async () => {
      const runner = new InlineJobRunner();
      const handler = { module: new URL('../../fixtures/workers/compiled-cjs.cjs', import.meta.url) };
      await runner.validate(handler);
      expect(await runner.run({ handler, context: makeContext({ payload: 5 }) })).toMatchObject({
        ok: true,
        result: { cjs: true, payload: 5 },
      });
    });

    it.each([
      ['a missing file', fixture('does-not-exist'), 'handler.module', /module not found/],
      ['a relative path', { module: 'fixtures/echo.mjs' }, 'handler.module', /absolute path or a file: URL/],
      ['an empty export name', { module: fixture('echo').module, exportName: '' }, 'handler.exportName', /non-empty string/],
      ['a module that throws on import', fixture('top-level-throw'), 'handler.module', /failed to load/],
      ['no such export', fixture('no-export'), 'handler.exportName', /no export "default"/],
      ['an export that is not a function', fixture('no-export', 'notAHandler'), 'handler.exportName', /not a function \(it is number\)/],
    ] as const)('validate() rejects %s naming the field', async (_case, handler, field, message) => {
      const runner = new InlineJobRunner();
      const error: unknown = await runner.validate(handler).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      expect(error).toMatchObject({ field });
      expect((error as Error).message).toMatch(message);
    });

    it('fails a run whose module cannot be loaded with a PermanentJobError', async () => {
      const runner = new InlineJobRunner();
      const error = failure(await runner.run({ handler: fixture('no-export'), context: makeContext() }));
      expect(error).toBeInstanceOf(PermanentJobError);
      expect((error as Error).message).toMatch(/handler\.exportName/);
    });
  });

  it('leaves the signal alone when the caller watches it (callerWatchesAbort)', async () => {
    const runner = new InlineJobRunner();
    const context = makeContext();
    Object.defineProperty(context, 'signal', {
      get(): never {
        throw new Error('the runner read the signal');
      },
    });
    const sync = await runner.run({ handler: () => 1, context, callerWatchesAbort: true });
    const async_ = await runner.run({ handler: async () => 2, context, callerWatchesAbort: true });
    const thrown = new Error('boom');
    const rejected = await runner.run({ handler: () => Promise.reject(thrown), context, callerWatchesAbort: true });
    expect(sync).toMatchObject({ ok: true, result: 1 });
    expect(async_).toMatchObject({ ok: true, result: 2 });
    expect(failure(rejected)).toBe(thrown);
  });

  it('start() answers once through its callback: at once for a sync handler, when settled for an async one', async () => {
    const runner = new InlineJobRunner();
    const answers: RunOutcome[] = [];
    const record = (outcome: RunOutcome): void => {
      answers.push(outcome);
    };
    runner.start({ handler: () => ({ n: 1 }), context: makeContext(), callerWatchesAbort: true }, record);
    const thrown = new Error('sync boom');
    runner.start({ handler: () => { throw thrown; }, context: makeContext(), callerWatchesAbort: true }, record);
    // Both answered before start() returned.
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatchObject({ ok: true, result: { n: 1 } });
    expect(failure(answers[1]!)).toBe(thrown);
    const rejected = new Error('async boom');
    runner.start({ handler: async () => { await sleep(5); return 7; }, context: makeContext(), callerWatchesAbort: true }, record);
    runner.start({ handler: () => Promise.reject(rejected), context: makeContext(), callerWatchesAbort: true }, record);
    const twice = { then: (ok: (value: number) => void, fail: (error: Error) => void): void => { ok(1); ok(2); fail(new Error('late')); } };
    const answersBefore = answers.length;
    runner.start({ handler: () => twice as unknown as Promise<number>, context: makeContext(), callerWatchesAbort: true }, record);
    // A thenable that calls back more than once: only its first answer counts.
    expect(answers.splice(answersBefore)).toMatchObject([{ ok: true, result: 1 }]);
    const badThen = { then: (): never => { throw new Error('then threw'); } };
    runner.start({ handler: () => badThen as unknown as Promise<number>, context: makeContext(), callerWatchesAbort: true }, record);
    expect(answers).toHaveLength(3);
    expect((failure(answers[2]!) as Error).message).toBe('then threw');
    await sleep(30);
    expect(answers).toHaveLength(5);
    expect(failure(answers[3]!)).toBe(rejected);
    expect(answers[4]).toMatchObject({ ok: true, result: 7 });
    expect(answers[4]!.metrics.durationMs).toBeGreaterThanOrEqual(4);
    // close() waits for a started handler, and a closed runner refuses new ones through the callback.
    let finished = false;
    runner.start({ handler: async () => { await sleep(20); finished = true; }, context: makeContext(), callerWatchesAbort: true }, record);
    await runner.close({ timeoutMs: 2000 });
    expect(finished).toBe(true);
    runner.start({ handler: () => 1, context: makeContext(), callerWatchesAbort: true }, record);
    expect(failure(answers[answers.length - 1]!)).toBeInstanceOf(SchedulerStoppedError);
  });

  it('shares a CPU reading between attempts less than 1 ms apart, and reads afresh after', async () => {
    const runner = new InlineJobRunner();
    const quick: RunOutcome[] = [];
    for (let i = 0; i < 20; i++) quick.push(await runner.run({ handler: () => 1, context: makeContext() }));
    // Back to back: both readings are the same one, so a no-op shows no CPU at all (a few may
    // straddle a re-read when the host preempts this thread).
    expect(quick.filter((outcome) => outcome.metrics.cpuUserMs === 0 && outcome.metrics.cpuSystemMs === 0).length).toBeGreaterThanOrEqual(10);
    const busy = await runner.run({
      handler: () => {
        const end = performance.now() + 30;
        let x = 0;
        while (performance.now() < end) x += Math.sqrt(x + 1);
        return x > 0;
      },
      context: makeContext(),
    });
    expect(busy.metrics.durationMs).toBeGreaterThanOrEqual(30);
    expect(busy.metrics.cpuUserMs).toBeGreaterThan(1);
  });

  describe('close()', () => {
    it('waits for handlers run with callerWatchesAbort too', async () => {
      const runner = new InlineJobRunner();
      let finished = false;
      const running = runner.run({
        handler: async () => {
          await sleep(60);
          finished = true;
        },
        context: makeContext(),
        callerWatchesAbort: true,
      });
      await runner.close({ timeoutMs: 2000 });
      expect(finished).toBe(true);
      expect((await running).ok).toBe(true);
    });


    it('waits for running handlers, then refuses new runs', async () => {
      const runner = new InlineJobRunner();
      let finished = false;
      const running = runner.run({
        handler: async () => {
          await sleep(100);
          finished = true;
          return 1;
        },
        context: makeContext(),
      });
      await runner.close({ timeoutMs: 2000 });
      expect(finished).toBe(true);
      expect((await running).ok).toBe(true);
      expect(failure(await runner.run({ handler: () => 1, context: makeContext() }))).toBeInstanceOf(SchedulerStoppedError);
    });

    it('lets several close() calls wait for the same handlers', async () => {
      const runner = new InlineJobRunner();
      let release: () => void = () => undefined;
      void runner.run({ handler: () => new Promise<void>((resolve) => (release = resolve)), context: makeContext(), callerWatchesAbort: true });
      const t0 = performance.now();
      const closing = [runner.close({ timeoutMs: 5000 }), runner.close({ timeoutMs: 5000 })];
      setTimeout(() => release(), 30);
      await Promise.all(closing);
      expect(performance.now() - t0).toBeLessThan(2000);
    });

    it('gives up waiting after timeoutMs', async () => {
      const runner = new InlineJobRunner();
      void runner.run({ handler: () => new Promise<never>(() => {}), context: makeContext() });
      const t0 = performance.now();
      await runner.close({ timeoutMs: 100 });
      const elapsed = performance.now() - t0;
      expect(elapsed).toBeGreaterThanOrEqual(95);
      expect(elapsed).toBeLessThan(500);
    });
  });
});
