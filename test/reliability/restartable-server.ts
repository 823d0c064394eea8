/**
 * A database server the test may stop and start again (same port, same data), for the
 * "server restarted mid-run" reliability test.
 *
 * Restarting the server every other test file is using (the one `MONGODB_URI` names) would break
 * those files, which vitest runs in parallel (`pool: 'forks'`). So the restart test always gets a
 * server of its own, started here, and chosen at runtime:
 *
 * 1. **FerretDB, when `MONGODB_URI` is the FerretDB that `.ci/ferretdb.sh start` launched.** The
 *    script's state (`bash .ci/ferretdb.sh status`: `PID`, `PORT`, `DATA_DIR`; it honours
 *    `FERRETDB_STATE_FILE`) must name a live process listening on the URI's port. Its command line
 *    (`/proc/<pid>/cmdline`, else `ps`) gives the binary and flags; a private copy is started with
 *    the same binary and flags but its own port, SQLite directory and state directory. A restart
 *    stops that process (SIGTERM, SIGKILL after 5 s) and relaunches the same command line: same
 *    port, same data directory. A watchdog (like the script's `FERRETDB_PARENT_PID` one) stops it if
 *    the test process dies.
 * 2. **Otherwise mongodb-memory-server**, started here with a wiredTiger data directory, restarted
 *    with `stop({ doCleanup: false })` + `start(true)` (same port, same dbPath). Needs a mongod
 *    binary (downloaded on first use).
 * 3. If neither works, `openRestartableServer()` throws an error that says why for both.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { delay, REPO_ROOT } from './processes.js';

const execFileAsync = promisify(execFile);

/** A server the test owns and may restart. */
export interface RestartableServer {
  kind: 'ferretdb' | 'mongodb-memory-server';
  uri: string;
  /** Human-readable: what was started and from where. */
  description: string;
  /**
   * Stop the server process (SIGTERM by default, so it shuts down cleanly; SIGKILL to crash it),
   * keep it down `downMs`, start it again on the same port with the same data. Returns when it
   * accepts connections again. (mongodb-memory-server always stops its mongod cleanly.)
   */
  restart(downMs: number, options?: { signal?: 'SIGTERM' | 'SIGKILL' }): Promise<{ stoppedAt: number; upAt: number }>;
  /** Stop it for good and remove its data. Idempotent. */
  stop(): Promise<void>;
}

/** What `.ci/ferretdb.sh status` reports. */
export interface FerretScriptState {
  pid: number;
  port: number;
  dataDir: string;
  alive: boolean;
}

/** Pick and start a restartable server (see the file comment), or throw saying why none is possible. */
export async function openRestartableServer(): Promise<RestartableServer> {
  const reasons: string[] = [];
  const envUri = process.env['MONGODB_URI']?.trim();
  if (envUri) {
    try {
      return await startPrivateFerret(envUri);
    } catch (error) {
      reasons.push(`FerretDB: ${messageOf(error)}`);
    }
  } else {
    reasons.push('FerretDB: MONGODB_URI is not set, so there is no FerretDB from .ci/ferretdb.sh to copy');
  }
  try {
    return await startMemoryServer();
  } catch (error) {
    reasons.push(`mongodb-memory-server: ${messageOf(error)}`);
  }
  throw new Error(
    'cannot run the server-restart test: no restartable server is available.\n' +
      reasons.map((r) => `  - ${r}`).join('\n') +
      '\nFix: run with MONGODB_URI from `eval "$(bash .ci/ferretdb.sh start)"` (same FERRETDB_STATE_FILE ' +
      'in the environment), or on a machine where mongodb-memory-server can download a mongod.',
  );
}

// ─── FerretDB ──────────────────────────────────────────────────────────────────────────────────

/** The state `.ci/ferretdb.sh` recorded, read through its `status` command; `null` when it has none. */
export async function readFerretScriptState(): Promise<FerretScriptState | null> {
  const script = resolve(REPO_ROOT, '.ci/ferretdb.sh');
  let stderr: string;
  let alive: boolean;
  try {
    ({ stderr } = await execFileAsync('bash', [script, 'status'], { cwd: REPO_ROOT, timeout: 10_000 }));
    alive = true;
  } catch (error) {
    // `status` exits 1 when the server is dead or there is no state file.
    const output = (error as { stderr?: unknown }).stderr;
    stderr = typeof output === 'string' ? output : '';
    alive = false;
  }
  const values = new Map<string, string>();
  for (const line of stderr.split('\n')) {
    const match = /^(PID|PORT|DATA_DIR|WATCHDOG_PID)=(.*)$/.exec(line.trim());
    if (match) values.set(match[1]!, match[2]!);
  }
  const pid = Number(values.get('PID'));
  const port = Number(values.get('PORT'));
  const dataDir = values.get('DATA_DIR') ?? '';
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  return { pid, port, dataDir, alive };
}

/** A process's argv: `/proc/<pid>/cmdline` where there is one, else `ps` (split on spaces). */
export async function processArgv(pid: number): Promise<string[]> {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const argv = raw.split('\0').filter((arg, i, all) => arg !== '' || i < all.length - 1);
    if (argv.length > 0) return argv;
  } catch {
    // not Linux, or gone
  }
  const { stdout } = await execFileAsync('ps', ['-ww', '-o', 'args=', '-p', String(pid)], { timeout: 5000 });
  const argv = stdout.trim().split(/\s+/).filter(Boolean);
  if (argv.length === 0) throw new Error(`cannot read the command line of pid ${pid}`);
  return argv;
}

function uriPort(uri: string): number | null {
  const match = /^mongodb:\/\/(?:[^@/]*@)?(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)(?:[/?]|$)/.exec(uri);
  return match ? Number(match[1]) : null;
}

async function startPrivateFerret(envUri: string): Promise<RestartableServer> {
  const port = uriPort(envUri);
  if (port === null) throw new Error(`MONGODB_URI (${envUri}) is not a single local 127.0.0.1:<port> server`);
  const state = await readFerretScriptState();
  if (!state) throw new Error('`.ci/ferretdb.sh status` has no state (FerretDB was not started by the script, or FERRETDB_STATE_FILE differs)');
  if (state.port !== port) throw new Error(`.ci/ferretdb.sh state is for port ${state.port}, MONGODB_URI uses port ${port}`);
  if (!state.alive) throw new Error(`the FerretDB process recorded by .ci/ferretdb.sh (pid ${state.pid}) is not running`);
  const sharedArgv = await processArgv(state.pid);
  if (!sharedArgv.some((arg) => arg.startsWith('--listen-addr=') && arg.endsWith(`:${port}`))) {
    throw new Error(`pid ${state.pid} does not look like FerretDB listening on ${port}: ${sharedArgv.join(' ')}`);
  }

  const ownPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'ferretdb-data.'));
  mkdirSync(join(dataDir, 'sqlite'));
  const overrides: Record<string, string> = {
    '--listen-addr': `127.0.0.1:${ownPort}`,
    '--sqlite-url': `file:${dataDir}/sqlite/`,
    '--state-dir': dataDir,
    '--debug-addr': '-',
  };
  const argv = sharedArgv.map((arg) => {
    const flag = arg.split('=', 1)[0]!;
    return flag in overrides ? `${flag}=${overrides[flag]}` : arg;
  });
  for (const [flag, value] of Object.entries(overrides)) {
    if (!argv.some((arg) => arg.startsWith(`${flag}=`))) argv.push(`${flag}=${value}`);
  }
  const server = new FerretProcess(argv, ownPort, dataDir);
  try {
    await server.launch();
  } catch (error) {
    await server.halt().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  return {
    kind: 'ferretdb',
    uri: `mongodb://127.0.0.1:${ownPort}/`,
    description: `private FerretDB (${argv[0]}) on 127.0.0.1:${ownPort}, data ${dataDir}; copied from pid ${state.pid} of .ci/ferretdb.sh`,
    restart: async (downMs, options) => {
      await server.halt(options?.signal ?? 'SIGTERM');
      const stoppedAt = Date.now();
      await delay(downMs);
      await server.launch();
      return { stoppedAt, upAt: Date.now() };
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.halt();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One FerretDB command line that can be launched, halted and launched again. */
class FerretProcess {
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #watchdog: ChildProcess | null = null;

  constructor(
    readonly argv: string[],
    readonly port: number,
    readonly dataDir: string,
  ) {}

  async launch(): Promise<void> {
    const log = openSync(join(this.dataDir, 'ferretdb.log'), 'a');
    let child: ChildProcess;
    try {
      // detached: its own session, like the script's setsid; signals to the test's group miss it.
      child = spawn(this.argv[0]!, this.argv.slice(1), {
        detached: true,
        stdio: ['ignore', log, log],
        env: { ...process.env, DO_NOT_TRACK: '1' },
      });
    } finally {
      closeSync(log);
    }
    child.unref();
    this.#child = child;
    let gone = false;
    this.#exited = new Promise<void>((r) => child.once('exit', () => ((gone = true), r())));
    child.once('error', () => (gone = true));
    this.#watchdog = startWatchdog(child.pid!, this.dataDir);
    const deadline = Date.now() + 20_000;
    while (!(await portOpen(this.port))) {
      if (gone) throw new Error(`FerretDB exited at start; log:\n${readLog(this.dataDir)}`);
      if (Date.now() > deadline) throw new Error(`FerretDB not listening on ${this.port} after 20 s; log:\n${readLog(this.dataDir)}`);
      await delay(50);
    }
  }

  async halt(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const watchdog = this.#watchdog;
    this.#watchdog = null;
    if (watchdog?.pid !== undefined) killGroup(watchdog.pid);
    const child = this.#child;
    this.#child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const forced = setTimeout(() => child.kill('SIGKILL'), 5000);
    await this.#exited;
    clearTimeout(forced);
  }
}

/** Stops the server (and removes its data) if this test process dies first. */
function startWatchdog(serverPid: number, dataDir: string): ChildProcess {
  const script = `
    parent=$1 pid=$2 dir=$3
    while kill -0 "$parent" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null; sleep 3; kill -KILL "$pid" 2>/dev/null
      case "$dir" in */ferretdb-data.*) rm -rf -- "$dir" ;; esac
    fi`;
  const watchdog = spawn('bash', ['-c', script, 'reliability-ferretdb-watchdog', String(process.pid), String(serverPid), dataDir], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
  return watchdog;
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

function readLog(dataDir: string): string {
  try {
    return readFileSync(join(dataDir, 'ferretdb.log'), 'utf8').slice(-4000);
  } catch {
    return '(no log)';
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((r) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      r(true);
    });
    socket.once('error', () => r(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((r, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? r(address.port) : reject(new Error('no port'))));
    });
  });
}

// ─── mongodb-memory-server ─────────────────────────────────────────────────────────────────────

async function startMemoryServer(): Promise<RestartableServer> {
  const { MongoMemoryServer } = await import('mongodb-memory-server');
  // wiredTiger keeps the data on disk across stop/start (ephemeralForTest would lose it).
  const server = new MongoMemoryServer({ instance: { ip: '127.0.0.1', storageEngine: 'wiredTiger' } });
  try {
    await server.start();
  } catch (error) {
    await server.stop({ doCleanup: true, force: true }).catch(() => undefined);
    throw error;
  }
  let stopped = false;
  return {
    kind: 'mongodb-memory-server',
    uri: server.getUri(),
    description: `mongodb-memory-server on ${server.getUri()}, dbPath ${server.instanceInfo?.dbPath ?? '?'}`,
    restart: async (downMs) => {
      await server.stop({ doCleanup: false, force: false });
      const stoppedAt = Date.now();
      await delay(downMs);
      await server.start(true);
      return { stoppedAt, upAt: Date.now() };
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.stop({ doCleanup: true, force: true });
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}
