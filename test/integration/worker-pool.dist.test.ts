/**
 * The built package finds its worker entry (dist/runners/worker-entry.js) from both its ESM and
 * CJS bundles. Runs plain `node` on dist, as a consumer would. Uses `dist/` when `npm run build` ran
 * (CI builds before testing), else builds into `.test-dist/` first.
 * The scripts go through `node --input-type=... -e`, which also covers hosts whose `execArgv`
 * holds `--input-type` (inherited by worker threads, it would stop them from loading their entry).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const hasBuild = (dir: string): boolean => existsSync(`${root}${dir}/index.js`) && existsSync(`${root}${dir}/runners/worker-entry.js`);
let outDir = 'dist';
const fixtures = fileURLToPath(new URL('../fixtures/workers/', import.meta.url));

/** Runs a few jobs; prints one JSON line. Plain JS valid as both ESM and CJS body. */
const body = `
  const context = (signal) => ({ payload: { n: 1 }, signal: signal ?? new AbortController().signal, attempt: 1,
    job: { id: 'j', scheduledFor: new Date() }, trigger: null,
    log: { debug() {}, info() {}, warn() {}, error() {} }, heartbeat: async () => {} });
  const fixtures = ${JSON.stringify(fixtures)};
  const runner = new pkg.WorkerPoolJobRunner({ maxThreads: 1, abortGraceMs: 0 });
  const echo = await runner.run({ handler: { module: fixtures + 'echo.mjs' }, context: context() });
  const permanent = await runner.run({ handler: { module: fixtures + 'throw-permanent.mjs' }, context: context() });
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('stop')), 100);
  const spin = await runner.run({ handler: { module: fixtures + 'spin.mjs' }, context: context(controller.signal) });
  const after = await runner.run({ handler: { module: fixtures + 'noop.mjs' }, context: context() });
  await runner.close({ timeoutMs: 1000 });
  console.log(JSON.stringify({
    echo: echo.ok && echo.result.payload,
    permanent: permanent.error instanceof pkg.PermanentJobError,
    spin: spin.error.message,
    after: after.ok,
  }));
`;

async function runNode(args: string[]): Promise<unknown> {
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: root, timeout: 15_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? 'null');
}

const expected = { echo: { n: 1 }, permanent: true, spin: 'stop', after: true };

describe('WorkerPoolJobRunner from the built package', () => {
  beforeAll(async () => {
    if (hasBuild('dist')) return;
    outDir = '.test-dist';
    await promisify(execFile)(process.execPath, [`${root}node_modules/tsup/dist/cli-default.js`, '--out-dir', outDir], {
      cwd: root,
      timeout: 170_000,
    });
    expect(hasBuild(outDir)).toBe(true);
  }, 180_000);

  it('works from the ESM bundle', async () => {
    const script = `const pkg = await import(${JSON.stringify(`${root}${outDir}/index.js`)});\n${body}`;
    expect(await runNode(['--input-type=module', '-e', script])).toEqual(expected);
  });

  it('works from the CJS bundle', async () => {
    const script = `(async () => { const pkg = require(${JSON.stringify(`${root}${outDir}/index.cjs`)});\n${body}\n})();`;
    expect(await runNode(['--input-type=commonjs', '-e', script])).toEqual(expected);
  });
});
