/**
 * The built `intellibrowse-scheduler` bin, run with child_process against MONGODB_URI (FerretDB in
 * CI). It is built here with the project's tsup config into `.test-cli/` (so a stale `dist/` is
 * never what is tested), and every command's output and its effect on the store are checked.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentJobError } from '../../src/errors.js';
import { Scheduler } from '../../src/scheduler.js';
import { createMongoBackend } from '../../src/stores/mongo/index.js';
import type { Job, Trigger } from '../../src/types.js';
import { startMongo, stopSharedMongo, withTestDb, type MongoHandle, type TestDb } from '../helpers/mongo.js';
import { eventually } from '../helpers/time.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outDir = `.test-cli/build-${process.pid}`;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string; bin: Record<string, string>; dependencies: Record<string, string> };
const binPath = `${root}${outDir}/${pkg.bin['intellibrowse-scheduler']!.replace(/^\.\/dist\//, '')}`;
const PREFIX = 'cli_';

let mongo: MongoHandle;
let t: TestDb;
let worker: Scheduler;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string | undefined> = {}, bin = binPath): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: root, timeout: 30_000, env: { ...process.env, MONGODB_URI: mongo.uri, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Run against the suite's database with its collection prefix. */
function cli(...args: string[]): Promise<Run> {
  return run([...args, '--db', t.dbName, '--prefix', PREFIX]);
}

async function json<T>(...args: string[]): Promise<T> {
  const result = await cli(...args, '--json');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

beforeAll(async () => {
  await promisify(execFile)(process.execPath, [`${root}node_modules/tsup/dist/cli-default.js`, '--out-dir', outDir, '--silent'], { cwd: root, timeout: 170_000 });
  expect(existsSync(binPath)).toBe(true);
  mongo = await startMongo();
  t = await withTestDb('cli');
  const backend = createMongoBackend({ db: t.db, collectionPrefix: PREFIX });
  await backend.ensureIndexes();
  worker = new Scheduler({ ...backend, instanceId: 'worker', pollIntervalMs: 200 });
  worker.register('ok', (ctx) => ({ got: ctx.payload }));
  worker.register('boom', () => {
    throw new PermanentJobError('boom');
  });
  await worker.addTrigger({ id: 'daily', handler: 'ok', schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' }, tags: ['reports'] });
  await worker.addTrigger({ id: 'adhoc', handler: 'ok', schedule: { manual: true }, payload: { default: true } });
  await worker.addTrigger({ id: 'fails', handler: 'boom', schedule: { manual: true } });
}, 200_000);

afterAll(async () => {
  await worker?.stop({ graceful: false });
  await t?.close();
  await mongo?.stop();
  await stopSharedMongo();
  rmSync(`${root}${outDir}`, { recursive: true, force: true });
});

describe('usage and errors', () => {
  it('--help prints the usage and exits 0; the bin is the one package.json names', async () => {
    expect(pkg.bin['intellibrowse-scheduler']).toBe('./dist/cli/main.js');
    expect(readFileSync(binPath, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: intellibrowse-scheduler');
    expect(help.stdout).toContain('jobs retry <id>');
  });

  it('--version prints the version of the package.json it ships with', async () => {
    const version = await run(['--version'], { MONGODB_URI: '' });
    expect(version).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    expect((await run(['-v'])).stdout).toBe(`${pkg.version}\n`);
  });

  it('exits 2 with the usage for a wrong command shape', async () => {
    for (const args of [[], ['bogus'], ['triggers', 'frob'], ['triggers', 'ls', '--frob'], ['jobs', 'show'], ['triggers', 'ls', '--payload', '{}'], ['jobs', 'ls', 'extra']]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('Usage:');
    }
  });

  it('exits 1 with a message naming the bad flag', async () => {
    const cases: Array<[string[], string]> = [
      [['jobs', 'ls', '--limit', 'many'], '--limit'],
      [['jobs', 'ls', '--status', 'weird'], '--status'],
      [['triggers', 'ls', '--status', 'sleeping'], '--status'],
      [['triggers', 'run', 'adhoc', '--payload', '{oops'], '--payload'],
      [['next', '0 9 * * *', '--tz', 'Mars/Olympus'], '--tz'],
      [['next', '0 9 * * *', '--count', '1001'], '--count'],
      [['next', 'daily', '--tz', 'UTC'], '--tz'],
      [['next', '0 9 * * *', '--from', 'yesterday'], '--from'],
    ];
    for (const [args, flag] of cases) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^error: ${flag}: `));
    }
    const noUri = await run(['triggers', 'ls'], { MONGODB_URI: '' });
    expect(noUri.code).toBe(1);
    expect(noUri.stderr).toContain('--mongodb-uri');
    const badUri = await run(['triggers', 'ls', '--mongodb-uri', 'http://example']);
    expect(badUri.stderr).toContain('--mongodb-uri');
  });

  it('exits 1 for an unknown trigger or job', async () => {
    const trigger = await cli('triggers', 'show', 'nope');
    expect(trigger.code).toBe(1);
    expect(trigger.stderr).toContain('trigger "nope" not found');
    const job = await cli('jobs', 'retry', 'nope');
    expect(job.code).toBe(1);
    expect(job.stderr).toContain('job "nope" not found');
    const cancel = await cli('jobs', 'cancel', 'nope');
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain('job "nope" not found');
  });

  it('an empty list names the database and collection prefix it read', async () => {
    const jobs = await cli('jobs', 'ls', '--trigger', 'no-such-trigger');
    expect(jobs).toEqual({ code: 0, stdout: `(no jobs in database "${t.dbName}", collection prefix "${PREFIX}")\n`, stderr: '' });
    // A wrong prefix (or --db) is the usual reason for an empty list: the answer says where it looked.
    const triggers = await run(['triggers', 'ls', '--db', t.dbName]);
    expect(triggers.stdout).toBe(`(no triggers in database "${t.dbName}", collection prefix "scheduler_")\n`);
  });
});

describe('without the mongodb driver installed', () => {
  /**
   * The published layout (`package.json` and `dist/cli/main.js`) in a fresh directory whose
   * `node_modules` has the package's dependencies but not its optional peer `mongodb`, as in an
   * app that uses only the memory backend.
   */
  let app: string;
  let bin: string;

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'scheduler-cli-nodriver-'));
    mkdirSync(join(app, 'dist', 'cli'), { recursive: true });
    bin = join(app, pkg.bin['intellibrowse-scheduler']!);
    copyFileSync(binPath, bin);
    copyFileSync(`${root}package.json`, join(app, 'package.json'));
    mkdirSync(join(app, 'node_modules'));
    for (const name of Object.keys(pkg.dependencies)) {
      mkdirSync(join(app, 'node_modules', name, '..'), { recursive: true });
      symlinkSync(`${root}node_modules/${name}`, join(app, 'node_modules', name), 'dir');
    }
    // Nothing above the directory may lend the driver either.
    expect(() => createRequire(join(app, 'dist', 'cli', 'x.js')).resolve('mongodb')).toThrow(/Cannot find module/);
  });

  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('--help, --version and next "<cron>" work', async () => {
    const help = await run(['--help'], {}, bin);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: intellibrowse-scheduler');
    expect(await run(['--version'], {}, bin)).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    const next = await run(['next', '0 12 * * *', '--count', '2', '--from', '2026-01-01'], { MONGODB_URI: '' }, bin);
    expect(next.stderr).toBe('');
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('2026-01-01T12:00:00.000Z');
  });

  it('a store command says in one line what to install, with no stack trace', async () => {
    for (const args of [['triggers', 'ls'], ['jobs', 'cancel', 'some-id']]) {
      const result = await run(args, {}, bin);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        'error: this command reads a MongoDB store and needs the MongoDB driver: run "npm install mongodb" (version 7 or later) in your app\n',
      );
    }
  });
});

describe('triggers', () => {
  it('ls prints an aligned table, filters, and --json the page', async () => {
    const table = await cli('triggers', 'ls');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+HANDLER\s+SCHEDULE\s+NEXT RUN\s+LAST RUN$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['adhoc', 'daily', 'fails']);
    // Aligned: every row's STATUS starts in the header's STATUS column.
    const col = lines[0]!.indexOf('STATUS');
    for (const line of lines.slice(1)) expect(line.slice(col, col + 6)).toMatch(/^(active|paused)/);

    expect((await json<{ items: Trigger[] }>('triggers', 'ls', '--tag', 'reports')).items.map((x) => x.id)).toEqual(['daily']);
    expect((await json<{ items: Trigger[] }>('triggers', 'ls', '--handler', 'boom')).items.map((x) => x.id)).toEqual(['fails']);
    const page = await json<{ items: Trigger[]; nextCursor: string | null }>('triggers', 'ls', '--limit', '2');
    expect(page.items).toHaveLength(2);
    expect(page.nextCursor).not.toBeNull();
  });

  it('show prints the trigger, its stats and next fire times', async () => {
    const text = await cli('triggers', 'show', 'daily');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^id:\s+daily$/m);
    expect(text.stdout).toContain('cron "30 2 * * *" Europe/Berlin');
    expect(text.stdout).toContain('Next fire times:');
    const body = await json<{ trigger: Trigger; next: Array<{ local: string }> }>('triggers', 'show', 'daily');
    expect(body.trigger.id).toBe('daily');
    expect(body.next).toHaveLength(5);
    expect(body.next[0]?.local).toMatch(/ 0[23]:30$|03:00$/);
  });

  it('pause and resume change the store', async () => {
    const paused = await cli('triggers', 'pause', 'daily');
    expect(paused.code).toBe(0);
    expect(paused.stdout).toBe('trigger daily is paused\n');
    expect((await worker.getTrigger('daily'))?.status).toBe('paused');
    expect((await json<{ items: Trigger[] }>('triggers', 'ls', '--status', 'paused')).items.map((x) => x.id)).toEqual(['daily']);
    const resumed = await json<{ trigger: Trigger }>('triggers', 'resume', 'daily');
    expect(resumed.trigger.status).toBe('active');
    expect((await worker.getTrigger('daily'))?.status).toBe('active');
  });

  it('run leaves a pending job with the payload, which a running instance then executes', async () => {
    const { job } = await json<{ job: Job }>('triggers', 'run', 'adhoc', '--payload', '{"n":42}');
    expect(job).toMatchObject({ triggerId: 'adhoc', status: 'pending', source: 'manual', payload: { n: 42 } });
    expect((await worker.getJob(job.id))?.status).toBe('pending');
    const text = await cli('triggers', 'run', 'adhoc');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^job \S+ queued for trigger adhoc \(pending: a running instance with handler "ok" runs it\)\n$/);

    await worker.start();
    await eventually(async () => (await worker.getJob(job.id))?.status === 'succeeded', 15_000, 'the worker to run the queued job');
    expect((await worker.getJob(job.id))?.result).toEqual({ got: { n: 42 } });
    await worker.stop({ graceful: true });
  });
});

describe('jobs', () => {
  // About 20 CLI runs, each a node start and a connection: give a loaded machine room.
  it('ls, show, retry and cancel', { timeout: 90_000 }, async () => {
    await worker.start();
    const failed = await worker.runTrigger('fails');
    await eventually(async () => (await worker.getJob(failed.id))?.status === 'failed', 15_000, 'the job to fail');
    await worker.stop({ graceful: true });

    const table = await cli('jobs', 'ls', '--trigger', 'fails');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+TRIGGER\s+STATUS\s+SOURCE\s+SCHEDULED\s+ATTEMPTS\s+ERROR$/);
    expect(table.stdout).toContain(failed.id);
    expect(table.stdout).toMatch(/failed\s+manual\s+\S+\s+1\/1\s+boom/);
    const onlyFailed = await json<{ items: Job[] }>('jobs', 'ls', '--status', 'failed,cancelled');
    expect(onlyFailed.items.map((j) => j.id)).toEqual([failed.id]);

    const shown = await cli('jobs', 'show', failed.id);
    expect(shown.stdout).toMatch(/^status:\s+failed$/m);
    expect(shown.stdout).toContain('PermanentJobError: boom');
    expect(shown.stdout).toMatch(/History:\nAT\s+STATUS\s+INSTANCE\s+REASON/);
    expect((await json<{ job: Job }>('jobs', 'show', failed.id)).job.history).toHaveLength(3);

    const retried = await json<{ job: Job }>('jobs', 'retry', failed.id);
    expect(retried.job.id).not.toBe(failed.id);
    expect(retried.job.key.startsWith(`retry:${failed.id}:`)).toBe(true);
    expect(retried.job.status).toBe('pending');
    expect((await worker.getJob(failed.id))?.status).toBe('failed');
    const notRetryable = await cli('jobs', 'retry', retried.job.id);
    expect(notRetryable.code).toBe(1);
    expect(notRetryable.stderr).toContain('only a failed or cancelled job can be retried');

    const cancelled = await cli('jobs', 'cancel', retried.job.id);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toBe(`job ${retried.job.id} is cancelled\n`);
    expect((await worker.getJob(retried.job.id))?.status).toBe('cancelled');

    // A job that is over cannot be cancelled: exit 1, not a success that changed nothing.
    for (const [id, status] of [[retried.job.id, 'cancelled'], [failed.id, 'failed']] as const) {
      const again = await cli('jobs', 'cancel', id);
      expect(again.code).toBe(1);
      expect(again.stdout).toBe('');
      expect(again.stderr).toBe(`error: job "${id}" is already ${status}: only a pending or running job can be cancelled\n`);
    }
    expect((await worker.getJob(failed.id))?.status).toBe('failed');
  });
});

describe('next', () => {
  it('previews a cron expression with DST marks, and a stored trigger', async () => {
    const body = await json<{ items: Array<{ at: string; local: string; dst: string | null }> }>('next', '30 2 * * *', '--tz', 'Europe/Berlin', '--count', '400');
    expect(body.items).toHaveLength(400);
    const marks = body.items.filter((i) => i.dst !== null).map((i) => i.dst);
    expect(marks).toContain('skipped-hour');
    expect(marks).toContain('repeated-hour');
    const text = await run(['next', '0 12 * * *', '--count', '2'], { MONGODB_URI: '' });
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^AT \(UTC\)\s+LOCAL\s+ZONE\s+DST$/);
    expect(text.stdout.trimEnd().split('\n')).toHaveLength(3);

    const jump = await run(['next', '30 2 * * *', '--tz', 'Europe/Berlin', '--count', '3', '--from', '2026-03-28']);
    // The output docs/management.md shows.
    expect(jump.stdout).toBe(
      [
        'AT (UTC)                  LOCAL             ZONE           DST',
        '2026-03-28T01:30:00.000Z  2026-03-28 02:30  Europe/Berlin',
        '2026-03-29T01:00:00.000Z  2026-03-29 03:00  Europe/Berlin  skipped-hour',
        '2026-03-30T00:30:00.000Z  2026-03-30 02:30  Europe/Berlin',
        '',
      ].join('\n'),
    );
    expect(readFileSync(`${root}docs/management.md`, 'utf8')).toContain(jump.stdout);

    const stored = await json<{ items: Array<{ timezone: string }> }>('next', 'daily', '--count', '3');
    expect(stored.items).toHaveLength(3);
    expect(stored.items.every((i) => i.timezone === 'Europe/Berlin')).toBe(true);
  });
});
