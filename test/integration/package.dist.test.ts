/**
 * The package as npm ships it: `npm pack` of the built package holds only what a user runs and
 * reads (no source maps, no CJS copy of the CLI, no images, no internal notes) and stays under
 * 1 MB; and its declarations type-check with `skipLibCheck: false` in tiny consumer projects —
 * ESM (`nodenext`) and CommonJS (`node16`), with and without the optional `mongodb` peer.
 *
 * Uses `dist/` when `npm run build` ran (CI builds before testing), else builds into a temporary
 * copy first, as test/integration/worker-pool.dist.test.ts does. The package is staged in a
 * temporary directory (package.json and the entries of its `files`), so packing never touches the
 * working tree.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishTypes } from '../../scripts/build.js';
import { bundleClient } from '../../src/dashboard/assets/bundle-client.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { files: string[] };

/** What `npm pack --json` says about one file. */
interface PackedFile {
  path: string;
  size: number;
}
interface PackReport {
  filename: string;
  size: number;
  unpackedSize: number;
  files: PackedFile[];
}

/** The most a packed tarball may weigh. */
const MAX_PACKED_BYTES = 1_000_000;

/** Every path the tarball may hold; anything else fails the test. */
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^dist\/index\.(js|cjs|d\.ts|d\.cts)$/,
  /^dist\/runners\/worker-entry\.js$/,
  /^dist\/cli\/main\.js$/,
  /^docs\/(api|concepts|dashboard|events|management|mongodb|policies|runners|triggers|webhook)\.md$/,
];

/**
 * Internal notes that must not reach a user: issue references ("#10", "issue 10", "issue-10") and
 * commit hashes ("commit 6ab33ff"). An upstream reference such as "nodejs/node#43991" is fine.
 */
const INTERNAL_NOTE = /(^|[\s(])#\d+\b|\bissues? #?\d+|\bissue-\d+|\bcommits? `?[0-9a-f]{7,40}\b/im;

let work = '';
let report: PackReport;
let tarball = '';

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ib-package-'));
  const staged = join(work, 'package');
  mkdirSync(staged);
  cpSync(`${root}package.json`, join(staged, 'package.json'));
  for (const entry of [...pkg.files, 'README.md', 'LICENSE']) {
    if (entry !== 'dist' && existsSync(`${root}${entry}`)) cpSync(`${root}${entry}`, join(staged, entry), { recursive: true });
  }
  if (existsSync(`${root}dist/index.d.cts`) && existsSync(`${root}dist/index.js`)) {
    cpSync(`${root}dist`, join(staged, 'dist'), { recursive: true });
  } else {
    await run(process.execPath, [`${root}node_modules/tsup/dist/cli-default.js`, '--out-dir', join(staged, 'dist'), '--silent'], {
      cwd: root,
      timeout: 170_000,
    });
    finishTypes(join(staged, 'dist'));
  }
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: staged, timeout: 60_000 });
  report = (JSON.parse(stdout) as PackReport[])[0] as PackReport;
  tarball = join(work, report.filename);
}, 180_000);

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds only what a user needs, under 1 MB packed', () => {
    const paths = report.files.map((f) => f.path).sort();
    expect(paths.filter((path) => !ALLOWED.some((pattern) => pattern.test(path)))).toEqual([]);
    // What the manifest points at is there.
    for (const needed of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/cli/main.js', 'dist/runners/worker-entry.js', 'README.md']) {
      expect(paths).toContain(needed);
    }
    expect(report.size).toBeLessThan(MAX_PACKED_BYTES);
  });

  it('ships no internal notes (issue numbers, commit hashes) in its documents', () => {
    const notes = report.files
      .filter((f) => f.path.endsWith('.md'))
      .flatMap((f) => {
        const match = INTERNAL_NOTE.exec(readFileSync(`${root}${f.path}`, 'utf8'));
        return match === null ? [] : [`${f.path}: "${match[0].trim()}"`];
      });
    expect(notes).toEqual([]);
  });
});

/** A consumer project with the unpacked package and only the given packages beside it. */
async function consumer(name: string, type: 'module' | 'commonjs', withMongo: boolean, source: string): Promise<string> {
  const dir = join(work, name);
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@intellibrowse'), { recursive: true });
  mkdirSync(join(modules, '@types'), { recursive: true });
  await run('tar', ['xzf', tarball, '-C', join(modules, '@intellibrowse')]);
  cpSync(join(modules, '@intellibrowse', 'package'), join(modules, '@intellibrowse', 'scheduler'), { recursive: true });
  rmSync(join(modules, '@intellibrowse', 'package'), { recursive: true });
  // The package's dependencies a consumer's install would bring, as links to this checkout's.
  for (const dep of ['eventemitter3', 'jose', 'luxon', 'cron-parser', 'tinypool', ...(withMongo ? ['mongodb'] : [])]) {
    symlinkSync(`${root}node_modules/${dep}`, join(modules, dep));
  }
  symlinkSync(`${root}node_modules/@types/node`, join(modules, '@types', 'node'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type }));
  const module = type === 'module' ? 'nodenext' : 'node16';
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module, moduleResolution: module, target: 'ES2022', strict: true, skipLibCheck: false, noEmit: true, types: ['node'] },
      files: ['index.ts'],
    }),
  );
  writeFileSync(join(dir, 'index.ts'), source);
  return dir;
}

/** `tsc -p dir`: its output, empty when the project compiles. */
async function typeCheck(dir: string): Promise<string> {
  try {
    await run(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', dir], { timeout: 120_000 });
    return '';
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? error);
  }
}

/** Serves a dashboard from the unpacked package and prints the script its page loads. */
const SERVE_SCRIPT = `
import { createServer } from 'node:http';
import { Scheduler, createDashboard } from '@intellibrowse/scheduler';
const server = createServer(createDashboard(new Scheduler(), { auth: { none: true } }));
server.listen(0, '127.0.0.1', async () => {
  const base = 'http://127.0.0.1:' + server.address().port + '/';
  const page = await (await fetch(base)).text();
  const file = /assets\\/(dashboard\\.[0-9a-f]+\\.js)/.exec(page)[1];
  process.stdout.write(await (await fetch(base + 'assets/' + file)).text());
  server.close();
});
`;

/** Uses the root entry broadly, the JWT options with a JWK object included (jose's types were in them). */
const USE = `
import { Scheduler, createDashboard, createWebhookHandler, nextFireTimes, type Job, type WebhookJwtAuth } from '@intellibrowse/scheduler';
const scheduler = new Scheduler();
scheduler.register('report', async (ctx) => ({ at: ctx.job.scheduledFor.toISOString() }));
scheduler.on('job:failed', (job: Job) => console.log(job.error?.stack ?? job.error?.message));
const jwt: WebhookJwtAuth = { publicKey: { kty: 'OKP', crv: 'Ed25519', x: 'abc' }, algorithms: ['EdDSA'] };
const webhook = createWebhookHandler(scheduler, { auth: { jwt } });
const dashboard = createDashboard(scheduler, { auth: { none: true } });
const next: Date[] = nextFireTimes({ cron: '0 9 * * *', timezone: 'Europe/Berlin' }, { count: 2 });
void webhook; void dashboard; void next;
`;

describe('the packed dashboard', () => {
  it('serves the script inlined at build time: what the source bundles, with no esbuild to load', async () => {
    const dir = await consumer('esm-dashboard', 'module', false, '');
    const bundle = readFileSync(join(dir, 'node_modules/@intellibrowse/scheduler/dist/index.js'), 'utf8');
    expect(bundle).not.toContain('esbuild');
    writeFileSync(join(dir, 'serve.mjs'), SERVE_SCRIPT);
    const { stdout } = await run(process.execPath, [join(dir, 'serve.mjs')], { cwd: dir, timeout: 60_000, maxBuffer: 8 * 1024 * 1024 });
    expect(stdout).toBe(bundleClient());
  }, 120_000);
});

describe('the packed declarations with skipLibCheck: false', () => {
  it('compile for an ESM consumer (nodenext) without mongodb installed', async () => {
    const dir = await consumer('esm-no-mongo', 'module', false, USE);
    expect(await typeCheck(dir)).toBe('');
  }, 150_000);

  it('compile for a CommonJS consumer (node16) without mongodb installed', async () => {
    const dir = await consumer('cjs-no-mongo', 'commonjs', false, USE);
    expect(await typeCheck(dir)).toBe('');
  }, 150_000);

  it('compile for a CommonJS consumer with mongodb, whose types are then the driver\'s own', async () => {
    const dir = await consumer(
      'cjs-mongo',
      'commonjs',
      true,
      `${USE}
import { MongoClient } from 'mongodb';
import { createMongoBackend } from '@intellibrowse/scheduler';
const backend = createMongoBackend({ db: new MongoClient('mongodb://127.0.0.1:1').db('app') });
void backend.ensureIndexes();
// @ts-expect-error a number is not a Db: the driver's types are in force, not 'any'
createMongoBackend({ db: 42 });
`,
    );
    expect(await typeCheck(dir)).toBe('');
  }, 150_000);
});
