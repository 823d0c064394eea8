/**
 * The package as npm ships it: `npm pack` of the built package holds only what a user runs and
 * reads (no source maps, no CJS copy of the CLI, no images, no internal notes) and stays under
 * 1 MB; its declarations type-check with `skipLibCheck: false` in tiny consumer projects —
 * ESM (`nodenext`) and CommonJS (`node16`), with and without the optional `mongodb` peer; and its
 * entries (`.`, `./mongo`, `./http`), loaded by name in both formats, export exactly the runtime
 * names pinned here and share one copy of every class.
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

/** The files of the package's entries (`exports` in package.json). */
const ENTRY_FILES = ['index', 'mongo', 'http', 'testing'].flatMap((entry) => ['js', 'cjs', 'd.ts', 'd.cts'].map((ext) => `dist/${entry}.${ext}`));

/** The most a packed tarball may weigh. */
const MAX_PACKED_BYTES = 1_000_000;

/** Every path the tarball may hold; anything else fails the test. */
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^dist\/(index|mongo|http)\.(js|cjs|d\.ts|d\.cts)$/,
  // Code the entries share (tsup's splitting), and the declarations they share.
  /^dist\/chunk-[A-Z0-9]+\.(js|cjs)$/,
  /^dist\/[a-z]+-[A-Za-z0-9_-]+\.(d\.ts|d\.cts)$/,
  /^dist\/testing\.(js|cjs|d\.ts|d\.cts)$/,
  /^dist\/runners\/worker-entry\.js$/,
  /^dist\/cli\/main\.js$/,
  /^docs\/(api|concepts|dashboard|events|management|mongodb|policies|runners|testing|triggers|webhook)\.md$/,
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
  if (ENTRY_FILES.every((file) => existsSync(`${root}${file}`))) {
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
    for (const needed of [...ENTRY_FILES, 'docs/testing.md', 'dist/cli/main.js', 'dist/runners/worker-entry.js', 'README.md']) {
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

/**
 * A consumer project with the unpacked package and only the given packages beside it; `node10`
 * type-checks a CommonJS project with the resolution that ignores `exports` (`typesVersions` then
 * finds the subpath entries' declarations).
 */
async function consumer(name: string, type: 'module' | 'commonjs' | 'node10', withMongo: boolean, source: string): Promise<string> {
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
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: type === 'module' ? 'module' : 'commonjs' }));
  const module = type === 'module' ? 'nodenext' : type === 'node10' ? 'commonjs' : 'node16';
  const moduleResolution = type === 'node10' ? 'node10' : module;
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module, moduleResolution, target: 'ES2022', strict: true, skipLibCheck: false, noEmit: true, types: ['node'] },
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
import { Scheduler } from '@intellibrowse/scheduler';
import { createDashboard } from '@intellibrowse/scheduler/http';
const server = createServer(createDashboard(new Scheduler(), { auth: { none: true } }));
server.listen(0, '127.0.0.1', async () => {
  const base = 'http://127.0.0.1:' + server.address().port + '/';
  const page = await (await fetch(base)).text();
  const file = /assets\\/(dashboard\\.[0-9a-f]+\\.js)/.exec(page)[1];
  process.stdout.write(await (await fetch(base + 'assets/' + file)).text());
  server.close();
});
`;

/**
 * Uses the root entry broadly and `./http`, the JWT options with a JWK object included (jose's
 * types were in them).
 */
const USE = `
import { Scheduler, nextFireTimes, type Job } from '@intellibrowse/scheduler';
import { createDashboard, createWebhookHandler, type WebhookJwtAuth } from '@intellibrowse/scheduler/http';
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

  it('compile for a CommonJS consumer on the resolution that ignores exports (node10), subpaths included', async () => {
    const dir = await consumer('node10', 'node10', true, `${USE}\nimport { createMongoBackend } from '@intellibrowse/scheduler/mongo';\nvoid createMongoBackend;\n`);
    expect(await typeCheck(dir)).toBe('');
  }, 150_000);

  it.each([
    ['a CommonJS', 'commonjs'],
    ['an ESM', 'module'],
  ] as const)('compile for %s consumer with mongodb, whose types are then the driver\'s own', async (_name, type) => {
    const dir = await consumer(
      `${type}-mongo`,
      type,
      true,
      `${USE}
import { MongoClient } from 'mongodb';
import { createMongoBackend, type JobDocument } from '@intellibrowse/scheduler/mongo';
import { createMongoBackend as fromRoot, type MongoBackend } from '@intellibrowse/scheduler';
const backend: MongoBackend = createMongoBackend({ db: new MongoClient('mongodb://127.0.0.1:1').db('app') });
void backend.ensureIndexes();
new Scheduler({ ...backend }).register('noop', () => undefined);
const sameFunction: typeof createMongoBackend = fromRoot;
const doc: Pick<JobDocument, '_id'> = { _id: 'j' };
void sameFunction; void doc;
// @ts-expect-error a number is not a Db: the driver's types are in force, not 'any'
createMongoBackend({ db: 42 });
`,
    );
    expect(await typeCheck(dir)).toBe('');
  }, 150_000);
});

/**
 * Each entry's runtime export names, in both formats. A change here is a change of the public
 * API: it must be meant (and, for a removal, listed in CHANGELOG.md).
 */
const EXPORTS: Record<'.' | './mongo' | './http', string[]> = {
  '.': [
    'FINAL_JOB_STATUSES', 'HandlerNotFoundError', 'IllegalTransitionError', 'InlineJobRunner', 'InvalidArgumentError',
    'InvalidTriggerConfigError', 'JOB_STATUSES', 'JobNotFoundError', 'JobNotRetryableError', 'JobTimeoutError',
    'LEASE_LOST_REASONS', 'MAX_PAYLOAD_BYTES', 'MAX_TIMER_DELAY_MS', 'MIN_EVERY_MS', 'ManualClock', 'MemoryJobStore',
    'MemoryLockManager', 'MemoryTriggerStore', 'MongoJobStore', 'MongoLockManager', 'MongoTriggerStore',
    'OWNERSHIP_BUCKETS', 'PermanentJobError', 'PreviewBudgetError', 'Scheduler', 'SchedulerError', 'SchedulerStoppedError', 'StoreError',
    'SystemClock', 'TRIGGER_STATUSES', 'TriggerNotFoundError', 'WorkerPoolJobRunner', 'consoleLogger',
    'createMongoBackend', 'isFinalJobStatus', 'nextFireTimes', 'retryOfKey', 'silentLogger', 'triggerBucket',
  ],
  './mongo': [
    'DEFAULT_COLLECTION_PREFIX', 'MongoInstanceLeases', 'MongoJobStore', 'MongoLockManager', 'MongoTriggerStore',
    'createMongoBackend', 'measureClockOffset',
  ],
  './http': [
    'DASHBOARD_CSP', 'DEFAULT_CLOCK_TOLERANCE_SEC', 'DEFAULT_DASHBOARD_TITLE', 'DEFAULT_HMAC_TOLERANCE_SEC',
    'DEFAULT_MANAGEMENT_SCOPES', 'DEFAULT_MAX_BODY_BYTES', 'DEFAULT_SCOPES', 'MAX_TIMELINE_ITEMS', 'OPENAPI_DOCUMENT',
    'SIGNATURE_HEADER', 'createDashboard', 'createManagementApi', 'createWebhookHandler', 'signHmac',
    'signManagementRequest',
  ],
};

/**
 * Loads the three entries by the package's name (through `exports`) as `root`, `mongo`, `http`,
 * then prints one JSON line: each entry's export names, and whether errors made by one entry's
 * code are instances of the root's classes. A duplicate key from a MongoDB store (a fake `Db`
 * answers every insert with one) must reach the root's `Scheduler` as the `InvalidTriggerConfigError`
 * the store threw: the engine passes its own errors through by `instanceof SchedulerError` and
 * wraps anything else as a `StoreError`, so a second copy of the classes would show here.
 */
const IDENTITY = `
  const names = { '.': Object.keys(root).sort(), './mongo': Object.keys(mongo).sort(), './http': Object.keys(http).sort() };
  const duplicate = Object.assign(new Error('E11000 duplicate key error'), { name: 'MongoServerError', code: 11000 });
  const db = { collection: () => ({ insertOne: async () => { throw duplicate; } }), command: async () => ({}) };
  const scheduler = new root.Scheduler({
    triggerStore: new mongo.MongoTriggerStore(db), jobStore: new root.MemoryJobStore(), lockManager: new root.MemoryLockManager(),
    remoteHandlers: 'any',
  });
  const caught = async (work) => { try { await work(); return 'no error'; } catch (error) { return error; } };
  const added = await caught(() => scheduler.addTrigger({ id: 't', handler: 'h', schedule: { manual: true } }));
  const clock = await caught(() => mongo.measureClockOffset(db));
  const management = await caught(() => http.createManagementApi(scheduler, { auth: { none: true }, basePath: 'no-slash' }));
  console.log(JSON.stringify({
    names,
    sameBackend: root.createMongoBackend === mongo.createMongoBackend && root.MongoJobStore === mongo.MongoJobStore,
    addTrigger: [added.constructor.name, added instanceof root.InvalidTriggerConfigError, added.message],
    clockOffset: [clock.constructor.name, clock instanceof root.StoreError],
    managementApi: [management.constructor.name, management instanceof root.InvalidArgumentError],
  }));
`;

describe('the entries, loaded by name as a consumer does', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await consumer('runtime', 'module', true, 'export {};\n');
    writeFileSync(
      join(dir, 'check.mjs'),
      `const [root, mongo, http] = await Promise.all(['', '/mongo', '/http'].map((entry) => import('@intellibrowse/scheduler' + entry)));\n${IDENTITY}`,
    );
    writeFileSync(
      join(dir, 'check.cjs'),
      `(async () => {\nconst [root, mongo, http] = ['', '/mongo', '/http'].map((entry) => require('@intellibrowse/scheduler' + entry));\n${IDENTITY}\n})();`,
    );
  }, 60_000);

  it.each(['check.mjs', 'check.cjs'])('%s: pinned export names, one copy of every class across entries', async (script) => {
    const { stdout } = await run(process.execPath, [join(dir, script)], { cwd: dir, timeout: 30_000 });
    const report = JSON.parse(stdout.trim().split('\n').pop() ?? 'null') as Record<string, unknown>;
    expect(report).toEqual({
      names: EXPORTS,
      sameBackend: true,
      addTrigger: ['InvalidTriggerConfigError', true, 'id: a trigger with id "t" already exists'],
      clockOffset: ['StoreError', true],
      managementApi: ['InvalidArgumentError', true],
    });
  }, 60_000);
});

/**
 * The test kit as a user runs it, with neither Vitest nor mongodb installed: a DST night on the
 * time-travel harness, in ESM and in CommonJS. The kit's bundle imports the root by the package's
 * name, so what it makes and throws is the root's own classes (`instanceof` across the entries).
 */
const KIT_RUN = (load: string): string => `
${load}
async function main() {
  const travel = new TimeTravel({ start: '2026-03-28T12:00:00Z' });
  travel.scheduler.register('backup', () => 'done');
  await travel.scheduler.addTrigger({ id: 'nightly', handler: 'backup', schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' } });
  await travel.start();
  await travel.advanceTo('2026-03-30T12:00:00Z');
  const error = await travel.advanceTo('2026-01-01T00:00:00Z').catch((e) => e);
  await travel.stop();
  console.log(JSON.stringify({
    runs: travel.runs.map((r) => r.startedAt.toISOString() + ' ' + r.outcome),
    schedulerError: error instanceof SchedulerError,
    invalidArgument: error instanceof InvalidArgumentError,
    field: error.field,
    clock: travel.clock instanceof ManualClock,
    scheduler: travel.scheduler instanceof Scheduler,
  }));
}
main().catch((error) => { console.error(error); process.exit(1); });
`;

const KIT_EXPECTED = {
  // 02:30 does not exist on 29 March in Berlin: the slot runs once, right after the jump (03:00 CEST).
  runs: ['2026-03-29T01:00:00.000Z succeeded', '2026-03-30T00:30:00.000Z succeeded'],
  schedulerError: true,
  invalidArgument: true,
  field: 'target',
  clock: true,
  scheduler: true,
};

describe('the test kit from the packed package (./testing)', () => {
  it('runs in ESM, its classes and errors the root entry\'s own', async () => {
    const dir = await consumer('kit-esm', 'module', false, '');
    writeFileSync(
      join(dir, 'run.mjs'),
      KIT_RUN(`import { InvalidArgumentError, ManualClock, Scheduler, SchedulerError } from '@intellibrowse/scheduler';
import { TimeTravel } from '@intellibrowse/scheduler/testing';`),
    );
    const { stdout } = await run(process.execPath, ['run.mjs'], { cwd: dir, timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual(KIT_EXPECTED);
  }, 150_000);

  it('runs in CommonJS, its classes and errors the root entry\'s own', async () => {
    const dir = await consumer('kit-cjs', 'commonjs', false, '');
    writeFileSync(
      join(dir, 'run.cjs'),
      KIT_RUN(`const { InvalidArgumentError, ManualClock, Scheduler, SchedulerError } = require('@intellibrowse/scheduler');
const { TimeTravel } = require('@intellibrowse/scheduler/testing');`),
    );
    const { stdout } = await run(process.execPath, ['run.cjs'], { cwd: dir, timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual(KIT_EXPECTED);
  }, 150_000);

  it('its declarations compile without Vitest installed (ESM and CommonJS, skipLibCheck: false)', async () => {
    const use = `
import { ManualClock, type Job } from '@intellibrowse/scheduler';
import { TimeTravel, makeJob, runBackendContract, type BackendFactory, type RunRecord } from '@intellibrowse/scheduler/testing';
const travel = new TimeTravel({ start: new Date(0), scheduler: { concurrency: 1 } });
const clock: ManualClock = travel.clock;
const job: Job = makeJob({ id: 'x' });
const runs: readonly RunRecord[] = travel.runs;
const factory: BackendFactory = async () => { throw new Error('not here'); };
void clock; void job; void runs; void factory; void runBackendContract;
// @ts-expect-error the harness's clock is its own
new TimeTravel({ scheduler: { clock } });
`;
    for (const [name, type] of [['kit-types-esm', 'module'], ['kit-types-cjs', 'commonjs']] as const) {
      const dir = await consumer(name, type, false, use);
      expect(await typeCheck(dir)).toBe('');
    }
  }, 150_000);
});
