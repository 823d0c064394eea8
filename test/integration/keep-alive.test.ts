/**
 * A started scheduler keeps Node alive until `stop()` (`keepAlive`, default on), tried the way a
 * new user meets it: the README quick start in a file of its own, run by plain `node` as an ES
 * module with top-level await and as CommonJS, on a build of the package (esbuild, ESM and CJS,
 * dependencies left external as in the published bundles). Without the scheduler's own handle,
 * the process exits before its job fires.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outDir = `${root}node_modules/.cache/keep-alive-test/`;
const fixture = { esm: `${root}test/fixtures/keep-alive/quickstart.mjs`, cjs: `${root}test/fixtures/keep-alive/quickstart.cjs` };

interface Exit {
  code: number | null;
  lines: string[];
}

async function run(kind: 'esm' | 'cjs', env: Record<string, string>): Promise<Exit> {
  const options = {
    cwd: root,
    // Far more than the job's 1 s: a process kept alive by mistake is killed, and fails below.
    timeout: 30_000,
    env: { ...process.env, SCHEDULER_ESM: `${outDir}index.mjs`, SCHEDULER_CJS: `${outDir}index.cjs`, ...env },
  };
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [fixture[kind]], options);
    return { code: 0, lines: stdout.trim().split('\n') };
  } catch (error) {
    const failed = error as { code?: number | string; signal?: string; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : null, lines: [...(failed.stdout ?? '').trim().split('\n'), `stderr: ${failed.stderr ?? ''}`, `signal: ${failed.signal ?? ''}`] };
  }
}

beforeAll(async () => {
  const common: BuildOptions = { entryPoints: [`${root}src/index.ts`], bundle: true, platform: 'node', target: 'node20', packages: 'external', logLevel: 'error' };
  await Promise.all([build({ ...common, format: 'esm', outfile: `${outDir}index.mjs` }), build({ ...common, format: 'cjs', outfile: `${outDir}index.cjs` })]);
}, 60_000);

describe('a started scheduler keeps the process alive until stop()', () => {
  for (const kind of ['esm', 'cjs'] as const) {
    it(`${kind}: the quick start runs its job, and exits on its own once stopped`, async () => {
      const exit = await run(kind, { STOP_AFTER_JOB: 'true' });
      expect(exit).toEqual({ code: 0, lines: ['started', 'ran daily-report', 'succeeded daily-report', 'stopped'] });
    }, 40_000);

    it(`${kind}: keepAlive: false leaves the lifetime to the host (it exits before the job)`, async () => {
      const exit = await run(kind, { KEEP_ALIVE: 'false' });
      expect(exit).toEqual({ code: 0, lines: ['started'] });
    }, 40_000);
  }
});

/** Ref'd timers of this process: what keeps it alive (unref'd timers are not listed). */
const refTimers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('the one handle that keeps the process alive', () => {
  it('is taken by start(), given back by stop(), and the engine holds no other', async () => {
    const { ManualClock } = await import('../../src/clock.js');
    const { Scheduler } = await import('../../src/scheduler.js');
    const before = refTimers();
    const scheduler = new Scheduler({ clock: new ManualClock(), instanceId: 'a' });
    scheduler.register('h', () => undefined);
    await scheduler.start();
    expect(refTimers()).toBe(before + 1);
    await scheduler.stop();
    expect(refTimers()).toBe(before);
    // A restart takes it again.
    await scheduler.start();
    expect(refTimers()).toBe(before + 1);
    await scheduler.stop();
    expect(refTimers()).toBe(before);
    const optedOut = new Scheduler({ clock: new ManualClock(), instanceId: 'b', keepAlive: false });
    await optedOut.start();
    expect(refTimers()).toBe(before);
    await optedOut.stop();
  });

  it('is given back when start() fails', async () => {
    const { Scheduler } = await import('../../src/scheduler.js');
    const before = refTimers();
    const scheduler = new Scheduler({ instanceId: 'c' });
    scheduler.register('broken', { module: `${root}test/fixtures/workers/no-export.mjs` });
    await expect(scheduler.start()).rejects.toThrow(/no export "default"/);
    expect(scheduler.state).toBe('idle');
    expect(refTimers()).toBe(before);
  });
});
