/**
 * Command-line parsing of `intellibrowse-scheduler` with `node:util` `parseArgs`: the command, its
 * operand and every flag, checked into a typed `Invocation` before anything connects anywhere.
 */
import { parseArgs } from 'node:util';
import { parseDate } from '../schedule/index.js';
import { JOB_STATUSES, TRIGGER_STATUSES, type JobStatus, type JsonValue, type TriggerStatus } from '../types.js';
import { definedFields } from '../util/defined.js';

/** A usage mistake (unknown command or flag, missing operand): exit code 2, with the usage text. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A flag with a bad value: exit code 1, the message names the flag. */
export class FlagError extends Error {
  /** The flag, e.g. `--limit`. */
  readonly flag: string;

  constructor(flag: string, reason: string) {
    super(`${flag}: ${reason}`);
    this.name = 'FlagError';
    this.flag = flag;
  }
}

/** Where the store is. */
export interface Connection {
  /** MongoDB connection string. */
  uri: string;
  /** Database name; `undefined`: the one named in the URI. */
  db: string | undefined;
  /** Collection prefix; `undefined`: the backend's default. */
  prefix: string | undefined;
}

/** A parsed command. */
export type Command =
  | { name: 'triggers ls'; status?: TriggerStatus; tag?: string; handler?: string; limit?: number }
  | { name: 'triggers show' | 'triggers pause' | 'triggers resume'; id: string }
  | { name: 'triggers run'; id: string; payload?: JsonValue }
  | { name: 'jobs ls'; triggerId?: string; status?: JobStatus[]; limit?: number }
  | { name: 'jobs show' | 'jobs retry' | 'jobs cancel'; id: string }
  | { name: 'next'; target: { triggerId: string } | { cron: string }; tz?: string; count: number; from?: Date };

/** What to do: print the usage, print the version, or run a command. */
export type Invocation =
  | { help: true; version: false }
  | { help: false; version: true }
  | { help: false; version: false; json: boolean; command: Command; connection: Connection | null };

/** The `--help` text. */
export const USAGE = `Usage: intellibrowse-scheduler <command> [options]

Commands:
  triggers ls [--status ${TRIGGER_STATUSES.join('|')}] [--tag T] [--handler H] [--limit N]
  triggers show <id>                  trigger, its stats and next fire times
  triggers pause <id>
  triggers resume <id>
  triggers run <id> [--payload JSON]  queue a manual run (a running instance executes it)
  jobs ls [--trigger ID] [--status S[,S...]] [--limit N]
  jobs show <id>                      job with its history and metrics
  jobs retry <id>                     run a failed or cancelled job again as a new job
  jobs cancel <id>
  next <triggerId | "cron expr"> [--tz Zone] [--count N] [--from ISO]
                                      preview fire times (DST shifts marked)

Options:
  --mongodb-uri URI   MongoDB connection string (default: $MONGODB_URI)
  --db NAME           database (default: the one in the URI, else "test")
  --prefix P          collection prefix (default: scheduler_)
  --json              print JSON instead of tables
  -h, --help          show this help
  -v, --version       print the package version

Needs the MongoDB driver (npm install mongodb) for every command but "next <cron>".

Exit codes: 0 ok, 1 error (the message names the bad flag), 2 usage.`;

/** Flags each command takes besides the global ones. */
const COMMAND_FLAGS: Readonly<Record<string, readonly string[]>> = {
  'triggers ls': ['status', 'tag', 'handler', 'limit'],
  'triggers show': [],
  'triggers pause': [],
  'triggers resume': [],
  'triggers run': ['payload'],
  'jobs ls': ['trigger', 'status', 'limit'],
  'jobs show': [],
  'jobs retry': [],
  'jobs cancel': [],
  next: ['tz', 'count', 'from'],
};

function limitOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= 1000)) throw new FlagError('--limit', `must be an integer from 1 to 1000, got "${value}"`);
  return n;
}

function nonEmpty(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (value === '') throw new FlagError(flag, 'must not be empty');
  return value;
}

/** Whether a `next` operand is a cron expression rather than a trigger id. */
function looksLikeCron(operand: string): boolean {
  // Trigger ids cannot be told from one-word macros, so macros start with "@" and expressions have fields.
  return /\s/.test(operand.trim()) || operand.startsWith('@');
}

/**
 * Parse `argv` (without `node` and the script) and the environment.
 *
 * @throws UsageError for a wrong command shape, FlagError for a bad flag value
 */
export function parseInvocation(argv: readonly string[], env: NodeJS.ProcessEnv): Invocation {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (err) {
    // parseArgs says which option it did not know or which one lacks its value.
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { help: true, version: false };
  if (values.version === true) return { help: false, version: true };
  const [group, verb, operand, ...extra] = positionals;
  if (group === undefined) throw new UsageError('missing command');
  const name = group === 'next' ? 'next' : `${group} ${verb ?? ''}`.trim();
  const allowed = COMMAND_FLAGS[name];
  if (allowed === undefined) throw new UsageError(`unknown command "${name}"`);
  for (const flag of ['status', 'tag', 'handler', 'limit', 'payload', 'trigger', 'tz', 'count', 'from'] as const) {
    if (values[flag] !== undefined && !allowed.includes(flag)) throw new UsageError(`--${flag} does not apply to "${name}"`);
  }
  const operands = group === 'next' ? [verb, operand, ...extra] : [operand, ...extra];
  const needsOperand = name !== 'triggers ls' && name !== 'jobs ls';
  const given = operands.filter((o): o is string => o !== undefined);
  if (needsOperand && given.length !== 1) throw new UsageError(`"${name}" takes exactly one ${name === 'next' ? 'trigger id or cron expression' : 'id'}`);
  if (!needsOperand && given.length > 0) throw new UsageError(`"${name}" takes no operand, got "${given[0] ?? ''}"`);
  const id = given[0] ?? '';

  let command: Command;
  switch (name) {
    case 'triggers ls': {
      const status = values.status;
      if (status !== undefined && !(TRIGGER_STATUSES as readonly string[]).includes(status)) {
        throw new FlagError('--status', `must be one of ${TRIGGER_STATUSES.join(', ')}`);
      }
      const tag = nonEmpty(values.tag, '--tag');
      const handler = nonEmpty(values.handler, '--handler');
      const limit = limitOf(values.limit);
      command = definedFields<Extract<Command, { name: 'triggers ls' }>>({
        name: 'triggers ls',
        status: status as TriggerStatus | undefined,
        tag,
        handler,
        limit,
      });
      break;
    }
    case 'jobs ls': {
      let status: JobStatus[] | undefined;
      if (values.status !== undefined) {
        status = values.status.split(',') as JobStatus[];
        for (const s of status) {
          if (!JOB_STATUSES.includes(s)) throw new FlagError('--status', `must be one or more of ${JOB_STATUSES.join(', ')}, comma-separated`);
        }
      }
      const triggerId = nonEmpty(values.trigger, '--trigger');
      const limit = limitOf(values.limit);
      command = definedFields<Extract<Command, { name: 'jobs ls' }>>({ name: 'jobs ls', triggerId, status, limit });
      break;
    }
    case 'triggers run': {
      let payload: JsonValue | undefined;
      if (values.payload !== undefined) {
        try {
          payload = JSON.parse(values.payload) as JsonValue;
        } catch {
          throw new FlagError('--payload', 'must be valid JSON, e.g. --payload \'{"n":1}\'');
        }
      }
      command = { name, id, ...(payload === undefined ? {} : { payload }) };
      break;
    }
    case 'next': {
      let count = 5;
      if (values.count !== undefined) {
        count = /^\d+$/.test(values.count) ? Number(values.count) : Number.NaN;
        if (!(count >= 0 && count <= 1000)) throw new FlagError('--count', `must be an integer from 0 to 1000, got "${values.count}"`);
      }
      const cron = looksLikeCron(id);
      const tz = nonEmpty(values.tz, '--tz');
      if (!cron && tz !== undefined) throw new FlagError('--tz', "applies to a cron expression; a trigger's times are in its own zone");
      let from: Date | undefined;
      if (values.from !== undefined) {
        // Same reading as the library's: ISO-8601, UTC when no offset is given.
        try {
          from = parseDate(values.from, 'from');
        } catch {
          throw new FlagError('--from', `must be an ISO-8601 date, got "${values.from}"`);
        }
      }
      command = definedFields<Extract<Command, { name: 'next' }>>({ name: 'next', target: cron ? { cron: id } : { triggerId: id }, count, tz, from });
      break;
    }
    default:
      command = { name: name as 'triggers show', id };
  }

  // `next` on a cron expression is pure computation: no store needed.
  const needsStore = !(command.name === 'next' && 'cron' in command.target);
  let connection: Connection | null = null;
  if (needsStore) {
    const uri = values['mongodb-uri'] ?? env['MONGODB_URI'];
    if (uri === undefined || uri.trim() === '') throw new FlagError('--mongodb-uri', 'is required (or set MONGODB_URI)');
    if (!/^mongodb(\+srv)?:\/\//.test(uri)) throw new FlagError('--mongodb-uri', 'must start with mongodb:// or mongodb+srv://');
    connection = { uri, db: nonEmpty(values.db, '--db'), prefix: nonEmpty(values.prefix, '--prefix') };
  }
  return { help: false, version: false, json: values.json === true, command, connection };
}

function parseFlags(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      json: { type: 'boolean' },
      'mongodb-uri': { type: 'string' },
      db: { type: 'string' },
      prefix: { type: 'string' },
      status: { type: 'string' },
      tag: { type: 'string' },
      handler: { type: 'string' },
      limit: { type: 'string' },
      payload: { type: 'string' },
      trigger: { type: 'string' },
      tz: { type: 'string' },
      count: { type: 'string' },
      from: { type: 'string' },
    },
  });
}
