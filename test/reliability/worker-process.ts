/**
 * One scheduler *process* for the multi-process reliability tests (test/reliability/multi-process.test.ts).
 *
 * Started by the test with `node --import tsx test/reliability/worker-process.ts` and configured by
 * environment variables:
 *
 *   MONGODB_URI       server to use (required)
 *   DB_NAME           database (required)
 *   INSTANCE_ID       scheduler instanceId (required)
 *   HANDLER           handler name to register (default `reliability.work`)
 *   POLL_MS, LOOKAHEAD_MS, LEASE_MS, CONCURRENCY              scheduler options
 *   WORK_MIN_MS, WORK_MAX_MS   how long one job takes (uniformly random in between)
 *   SERVER_SELECTION_MS        driver serverSelectionTimeoutMS (default 2000)
 *   STATUS_EVERY_MS            print a `status` line this often (default 0: never)
 *   TRACE_SLOW_MS              report store calls slower than this (`slow` lines; default 0: off)
 *   CONNECT_TIMEOUT_MS         driver connectTimeoutMS (default: the driver's, 30000)
 *   DRIVER_EVENTS              `1`: print the driver's server state changes, pool clears and
 *                              failed heartbeats (`driver` lines)
 *   LOG_LEVEL                  print the scheduler's log lines at this level and above
 *                              (`debug`, `info`, `warn`, `error`; default: none)
 *
 * The handler only waits (honouring `ctx.signal`) and writes nothing: the jobs collection is the
 * record the test checks. Protocol on stdout, one line per message:
 *
 *   ready <instanceId> <pid>      the scheduler has started (first poll done)
 *   error <code> <message>        the scheduler emitted `error`
 *   lease-lost <jobId> <reason>   the scheduler emitted `lease:lost`
 *   stopped                       graceful stop finished (after SIGTERM)
 *   fatal <message>               start-up failed; the process exits with code 1
 *   status <json>                 `health()` figures (only with STATUS_EVERY_MS)
 *   log <level> <message> <json>  scheduler log line (only with LOG_LEVEL)
 *   slow <store.method> <ms> <outcome>   a store call that took long (only with TRACE_SLOW_MS);
 *                                 `status` lines then also list calls still in flight
 *   driver <event> ...            driver monitoring event (only with DRIVER_EVENTS)
 *
 * The process exits by itself when its parent goes away (stdin closes or the parent pid changes),
 * so a crashed test run leaves no scheduler behind. SIGTERM stops it gracefully.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { Scheduler, type Logger, type LogFields } from '../../src/index.js';
import { createMongoBackend } from '../../src/stores/mongo/index.js';

function env(name: string, fallback?: string): string {
  const value = process.env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback !== undefined) return fallback;
  throw new Error(`worker-process: environment variable ${name} is required`);
}

function envInt(name: string, fallback: number): number {
  const value = Number(env(name, String(fallback)));
  if (!Number.isInteger(value) || value < 0) throw new Error(`worker-process: ${name} must be a non-negative integer`);
  return value;
}

function say(line: string): void {
  // One line per message; newlines inside a message would break the protocol.
  process.stdout.write(`${line.replace(/[\r\n]+/g, ' ').slice(0, 500)}\n`);
}

// ─── Die with the parent ───────────────────────────────────────────────────────────────────────

const parentPid = process.ppid;
const orphaned = (why: string): void => {
  process.stderr.write(`worker-process ${process.pid}: ${why}; exiting\n`);
  process.exit(3);
};
setInterval(() => {
  if (process.ppid !== parentPid) orphaned(`parent ${parentPid} is gone`);
}, 250).unref();
process.stdin.on('end', () => orphaned('stdin closed'));
process.stdin.on('error', () => orphaned('stdin failed'));
process.stdin.resume();

// ─── The scheduler ─────────────────────────────────────────────────────────────────────────────

const instanceId = env('INSTANCE_ID');
const handlerName = env('HANDLER', 'reliability.work');
const workMin = envInt('WORK_MIN_MS', 250);
const workMax = Math.max(workMin, envInt('WORK_MAX_MS', 400));

const levels = ['debug', 'info', 'warn', 'error'] as const;
const minLevel = levels.indexOf(env('LOG_LEVEL', 'none') as (typeof levels)[number]);
const logAt =
  (level: (typeof levels)[number]) =>
  (fields: LogFields, message?: string): void => {
    if (minLevel >= 0 && levels.indexOf(level) >= minLevel) say(`log ${level} ${message ?? ''} ${JSON.stringify(fields)}`);
  };
const logger: Logger = { debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') };

const connectTimeoutMS = envInt('CONNECT_TIMEOUT_MS', 0);
const client = new MongoClient(env('MONGODB_URI'), {
  serverSelectionTimeoutMS: envInt('SERVER_SELECTION_MS', 2000),
  ...(connectTimeoutMS > 0 ? { connectTimeoutMS } : {}),
});

// Optional driver monitoring events (server heartbeats and description changes).
if (env('DRIVER_EVENTS', '0') === '1') {
  let failing = false;
  client.on('serverHeartbeatStarted', (e) => {
    if (failing) return;
    say(`driver heartbeat-started ${e.connectionId}`);
  });
  client.on('serverHeartbeatFailed', (e) => {
    failing = true;
    say(`driver heartbeat-failed ${e.connectionId} ${e.duration}ms ${e.failure.message}`);
  });
  client.on('serverHeartbeatSucceeded', (e) => {
    if (failing || e.duration > 500) say(`driver heartbeat-ok ${e.connectionId} ${e.duration}ms`);
    failing = false;
  });
  client.on('serverDescriptionChanged', (e) =>
    say(`driver server ${e.address} ${e.previousDescription.type} -> ${e.newDescription.type} ${e.newDescription.error?.message ?? ''}`),
  );
  client.on('connectionPoolCleared', (e) => say(`driver pool-cleared ${e.address}`));
  client.on('connectionPoolReady', (e) => say(`driver pool-ready ${e.address}`));
}

/** The driver's server monitor state (driver internals; diagnostics only, best effort). */
function monitorState(): unknown {
  try {
    const topology = (client as unknown as { topology?: { s?: { servers?: Map<string, unknown> } } }).topology;
    return [...(topology?.s?.servers?.values() ?? [])].map((server) => {
      const s = server as {
        description?: { type?: string; error?: { message?: string } | null };
        monitor?: {
          s?: { state?: string };
          connection?: { closed?: boolean; id?: unknown } | null;
          monitorId?: { isExecutionInProgress?: boolean; lastExecutionEnded?: number; timerId?: unknown };
        };
      };
      return {
        type: s.description?.type,
        error: s.description?.error?.message ?? null,
        state: s.monitor?.s?.state,
        conn: s.monitor?.connection ? { id: s.monitor.connection.id, closed: s.monitor.connection.closed } : null,
        inProgress: s.monitor?.monitorId?.isExecutionInProgress,
        sinceLastCheckMs: s.monitor?.monitorId?.lastExecutionEnded === undefined ? null : Math.round(performance.now() - s.monitor.monitorId.lastExecutionEnded),
        timer: s.monitor?.monitorId?.timerId !== undefined,
      };
    });
  } catch (error) {
    return String(error);
  }
}

// Optional tracing of slow store calls, to tell a slow or hung server from an engine problem.
const traceSlowMs = envInt('TRACE_SLOW_MS', 0);
const inFlight = new Map<number, { call: string; since: number }>();
let callSeq = 0;
function traced<S extends object>(store: S, name: string): S {
  if (traceSlowMs === 0) return store;
  return new Proxy(store, {
    get(target, property) {
      // The stores keep their state in #private fields: always call on the real object.
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        const id = callSeq++;
        const call = `${name}.${property}`;
        const since = Date.now();
        inFlight.set(id, { call, since });
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) {
          inFlight.delete(id);
          return result;
        }
        const done = (outcome: string): void => {
          inFlight.delete(id);
          const ms = Date.now() - since;
          if (ms >= traceSlowMs) say(`slow ${call} ${ms} ${outcome}`);
        };
        result.then(
          () => done('ok'),
          (error: unknown) => done(`error: ${error instanceof Error ? error.message : String(error)}`),
        );
        return result;
      };
    },
  });
}

const backend = createMongoBackend({ client, dbName: env('DB_NAME') });
const scheduler = new Scheduler({
  triggerStore: traced(backend.triggerStore, 'triggers'),
  jobStore: traced(backend.jobStore, 'jobs'),
  lockManager: traced(backend.lockManager, 'locks'),
  instanceId,
  pollIntervalMs: envInt('POLL_MS', 150),
  lookaheadMs: envInt('LOOKAHEAD_MS', 1000),
  leaseMs: envInt('LEASE_MS', 1500),
  concurrency: envInt('CONCURRENCY', 4),
  logger,
});

scheduler.on('error', (error) => {
  const code = (error as { code?: unknown }).code;
  say(`error ${typeof code === 'string' ? code : 'UNKNOWN'} ${error.message}`);
});
scheduler.on('lease:lost', (event) => say(`lease-lost ${event.jobId} ${event.reason}`));

scheduler.register(handlerName, async (ctx) => {
  const ms = workMin + Math.floor(Math.random() * (workMax - workMin + 1));
  // Rejects with the abort reason when the lease is lost or the scheduler stops.
  await sleep(ms, undefined, { signal: ctx.signal });
  return { ms };
});

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void (async () => {
    try {
      await scheduler.stop({ graceful: true, timeoutMs: 3000 });
      await client.close();
      say('stopped');
      process.exit(0);
    } catch (error) {
      say(`fatal stop failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
  })();
});

try {
  await client.connect();
  await scheduler.start();
  say(`ready ${instanceId} ${process.pid}`);
  const statusEvery = envInt('STATUS_EVERY_MS', 0);
  if (statusEvery > 0) {
    setInterval(() => {
      void scheduler
        .health()
        .then((h) => {
          const now = Date.now();
          const stuck = [...inFlight.values()].filter((c) => now - c.since >= 1000).map((c) => `${c.call}:${now - c.since}ms`);
          say(
            `status ${JSON.stringify({ at: new Date(now).toISOString(), running: h.running, queued: h.queued, status: h.status, lastPollAt: h.lastPollAt, lastPollError: h.lastPollError, stuck, monitor: monitorState() })}`,
          );
        })
        .catch(() => undefined);
    }, statusEvery).unref();
  }
} catch (error) {
  say(`fatal ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
