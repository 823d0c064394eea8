#!/usr/bin/env node
/**
 * `intellibrowse-scheduler`: inspect and steer the triggers and jobs of a MongoDB-backed scheduler
 * from a shell. It builds a `Scheduler` on `createMongoBackend` without starting it (so it never
 * claims slots or runs jobs), runs one command, closes the MongoClient and exits.
 *
 * `mongodb` is an optional peer dependency, so the driver is imported only by the commands that
 * read the store: `--help`, `--version` and `next "<cron>"` work without it.
 */
import { hostname } from 'node:os';
import type { MongoClient } from 'mongodb';
import { silentLogger } from '../logger.js';
import { Scheduler } from '../scheduler.js';
import { createMongoBackend } from '../stores/mongo/backend.js';
import { DEFAULT_COLLECTION_PREFIX } from '../stores/mongo/documents.js';
import { FlagError, USAGE, UsageError, parseInvocation, type Command } from './args.js';
import { runCommand, runWithoutStore, type Output } from './commands.js';
import { loadDriver } from './driver.js';
import { packageVersion } from './version.js';
import { redactUri } from './redact.js';

/** Where the CLI writes; injectable so the exit-code logic is one function. */
interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** The flag or operand a library error's `field` came from, for the message. */
function flagOf(field: string, command: Command): string {
  if (field === 'schedule.timezone') return '--tz';
  if (field === 'schedule.cron' || field === 'schedule') return 'cron expression';
  if (field === 'payload') return '--payload';
  if (field === 'limit') return '--limit';
  if (field === 'status') return '--status';
  if (field === 'tag') return '--tag';
  if (field === 'handler') return '--handler';
  if (field === 'triggerId') return command.name === 'jobs ls' ? '--trigger' : '<id>';
  if (field === 'count') return '--count';
  if (field === 'id') return '<id>';
  return field;
}

/** A URI without its password and query secrets, for messages (see redact.ts). */
function redact(uri: string): string {
  return redactUri(uri);
}

function describeError(err: unknown, command: Command | null): string {
  const field = typeof err === 'object' && err !== null ? (err as { field?: unknown }).field : undefined;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof field === 'string' && command !== null) {
    const reason = message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
    return `${flagOf(field, command)}: ${reason}`;
  }
  return message;
}

async function execute(command: Command, connection: { uri: string; db: string | undefined; prefix: string | undefined }): Promise<Output> {
  const { MongoClient } = await loadDriver();
  let client: MongoClient;
  try {
    client = await MongoClient.connect(connection.uri, { serverSelectionTimeoutMS: 10_000, appName: 'intellibrowse-scheduler-cli' });
  } catch (err) {
    throw new FlagError('--mongodb-uri', `cannot connect to ${redact(connection.uri)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    const db = client.db(connection.db);
    const backend = createMongoBackend({
      db,
      ...(connection.prefix === undefined ? {} : { collectionPrefix: connection.prefix }),
    });
    const scheduler = new Scheduler({ ...backend, logger: silentLogger, instanceId: `cli-${hostname()}-${process.pid}` });
    const where = `database "${db.databaseName}", collection prefix "${connection.prefix ?? DEFAULT_COLLECTION_PREFIX}"`;
    return await runCommand(command, scheduler, new Date(), where);
  } finally {
    await client.close();
  }
}

/**
 * Run the CLI on `argv` (without `node` and the script). Resolves with the exit code: 0 ok,
 * 1 error (bad flag value, not found, store failure), 2 usage.
 */
export async function cli(argv: readonly string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  let invocation: ReturnType<typeof parseInvocation>;
  try {
    invocation = parseInvocation(argv, env);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    io.err(`error: ${describeError(err, null)}\n`);
    return 1;
  }
  if (invocation.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (invocation.version) {
    try {
      io.out(`${packageVersion()}\n`);
      return 0;
    } catch (err) {
      io.err(`error: ${describeError(err, null)}\n`);
      return 1;
    }
  }
  const { command, connection, json } = invocation;
  try {
    const output = connection === null ? runWithoutStore(command, new Date()) : await execute(command, connection);
    io.out(json ? `${JSON.stringify(output.json, null, 2)}\n` : `${output.text}\n`);
    return 0;
  } catch (err) {
    io.err(`error: ${describeError(err, command)}\n`);
    return 1;
  }
}

cli(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
