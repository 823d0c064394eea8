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
 *   LEAD_MS                    scheduler `leadMs` (default: the scheduler's default)
 *   WORK_MS                    fixed job duration (overrides WORK_MIN_MS/WORK_MAX_MS)
 *   RECORD_RUNS                `1`: the handler first writes a row { jobId, triggerId,
 *                              scheduledFor, attempt, instanceId, at } to the `runs` collection
 *                              of DB_NAME, then waits (issue 10's "writes a row then sleeps")
 *   TRACE_RENEW                `1`: time every lease renewal call (`jobStore.renewLease`,
 *                              `lockManager.renewInstance`) and print `renew <ms> <outcome>
 *                              <jobs>` lines; `status` lines then carry a `renew` summary
 *                              (count, p50, p99, max)
 *   IGNORE_SIGNAL              `1`: the handler sleeps its whole time whatever `ctx.signal`
 *                              says (as much real code does)
 *   TRACE_CALLS                `1`: print `call <n> <store.method>` for every store call
 *                              counted (see KILL_AT_CALL)
 *   KILL_AT_CALL=<n>           SIGKILL this very process at the n-th store call (1-based),
 *                              counted from the first call after `ready`; only the calls of
 *                              KILL_ON_METHOD when that is set
 *   KILL_WHEN                  `before` (default): just before the call is issued (it never
 *                              reaches the server); `after`: just after its answer arrived,
 *                              before the engine sees it (ok or error alike)
 *   KILL_ON_METHOD             e.g. `jobStore.insertMany`, `triggerStore.claimSlot`: count only
 *                              this method's calls
 *
 * Store calls are named `triggerStore.<method>`, `jobStore.<method>`, `lockManager.<method>`
 * (the wrapper is a Proxy over the three Mongo backend objects; calls the handler makes to the
 * `runs` collection are not store calls).
 *
 * The handler waits (honouring `ctx.signal`); with RECORD_RUNS it writes its row first. Protocol on
 * stdout, one line per message:
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
 *   renew <ms> <ok|lost|error> <jobs>   one lease renewal round trip (only with TRACE_RENEW)
 *   call <n> <store.method> <m>   store call n (of all) = call m of that method (only with TRACE_CALLS)
 *   kill-point <n> <store.method> <before|after>   printed right before the self-SIGKILL
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
const workFixed = process.env['WORK_MS'] ? envInt('WORK_MS', 300) : null;
const workMin = workFixed ?? envInt('WORK_MIN_MS', 250);
const workMax = workFixed ?? Math.max(workMin, envInt('WORK_MAX_MS', 400));
const recordRuns = env('RECORD_RUNS', '0') === '1';
const ignoreSignal = env('IGNORE_SIGNAL', '0') === '1';

const levels = ['debug', 'info', 'warn', 'error'] as const;
const minLevel = levels.indexOf(env('LOG_LEVEL', 'none') as (typeof levels)[number]);
const logAt =
  (level: (typeof levels)[number]) =>
  (fields: LogFields, message?: string): void => {
    if (minLevel >= 0 && levels.indexOf(level) >= minLevel) say(`log ${level} ${message ?? ''} ${JSON.stringify(fields)}`);
  };
const logger: Logger = { debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') };

const connectTimeoutMS = envInt('CONNECT_TIMEOUT_MS', 0);
// A capped driver pool: FerretDB on PostgreSQL serves at most `pool_max_conns` connections at once
// and can hang for good when its clients need more (.ci/run); MongoDB does not care.
const client = new MongoClient(env('MONGODB_URI'), {
  serverSelectionTimeoutMS: envInt('SERVER_SELECTION_MS', 2000),
  maxPoolSize: envInt('MAX_POOL_SIZE', 20),
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

// Every store call goes through `instrumented()`: optional tracing of slow calls (to tell a slow
// or hung server from an engine problem), call numbering, renewal timing, and the kill switch.
const traceSlowMs = envInt('TRACE_SLOW_MS', 0);
const traceCalls = env('TRACE_CALLS', '0') === '1';
const traceRenew = env('TRACE_RENEW', '0') === '1';
const killAtCall = envInt('KILL_AT_CALL', 0);
const killWhen = env('KILL_WHEN', 'before');
if (killWhen !== 'before' && killWhen !== 'after') throw new Error('worker-process: KILL_WHEN must be before or after');
const killOnMethod = env('KILL_ON_METHOD', '');
const inFlight = new Map<number, { call: string; since: number }>();
let callSeq = 0;
/** Counting starts once `ready` is printed. */
let counting = false;
let counted = 0;
const perMethod = new Map<string, number>();
const renewSamples: number[] = [];

function dieHere(n: number, call: string, when: string): never {
  // stdout is a pipe: written synchronously on Linux, so the line is out before the signal.
  say(`kill-point ${n} ${call} ${when}`);
  process.kill(process.pid, 'SIGKILL');
  // Not reached; keeps the type checker honest.
  throw new Error('SIGKILL did not stop the process');
}

function renewSummary(): { count: number; p50: number | null; p99: number | null; max: number | null } {
  const sorted = [...renewSamples].sort((a, b) => a - b);
  const q = (p: number): number | null => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!);
  return { count: sorted.length, p50: q(0.5), p99: q(0.99), max: sorted.length === 0 ? null : sorted[sorted.length - 1]! };
}

function instrumented<S extends object>(store: S, name: string): S {
  return new Proxy(store, {
    get(target, property) {
      // The stores keep their state in #private fields: always call on the real object.
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const call = `${name}.${property}`;
      const isRenewal = (name === 'jobStore' && (property === 'renewLease' || property === 'renewLeases')) || (name === 'lockManager' && property === 'renewInstance');
      return (...args: unknown[]) => {
        const id = callSeq++;
        let killAfter = 0;
        if (counting) {
          counted += 1;
          const m = (perMethod.get(call) ?? 0) + 1;
          perMethod.set(call, m);
          if (traceCalls) say(`call ${counted} ${call} ${m}`);
          const n = killOnMethod === '' ? counted : call === killOnMethod ? m : 0;
          if (killAtCall > 0 && n === killAtCall) {
            if (killWhen === 'before') dieHere(n, call, 'before');
            killAfter = n;
          }
        }
        const since = Date.now();
        const t0 = performance.now();
        if (traceSlowMs > 0) inFlight.set(id, { call, since });
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (error) {
          inFlight.delete(id);
          if (killAfter > 0) dieHere(killAfter, call, 'after');
          throw error;
        }
        if (!(result instanceof Promise)) {
          inFlight.delete(id);
          if (killAfter > 0) dieHere(killAfter, call, 'after');
          return result;
        }
        const done = (outcome: string, answer: unknown): void => {
          inFlight.delete(id);
          const ms = Date.now() - since;
          if (traceSlowMs > 0 && ms >= traceSlowMs) say(`slow ${call} ${ms} ${outcome}`);
          if (isRenewal) {
            const rtt = Math.round((performance.now() - t0) * 10) / 10;
            renewSamples.push(rtt);
            if (renewSamples.length > 100_000) renewSamples.shift();
            if (traceRenew) {
              const jobs = Array.isArray(args[0]) ? args[0].length : 1;
              const verdict = outcome !== 'ok' ? 'error' : answer === null || answer === false ? 'lost' : 'ok';
              say(`renew ${rtt} ${verdict} ${jobs}`);
            }
          }
          if (killAfter > 0) dieHere(killAfter, call, 'after');
        };
        // A chained promise: the engine sees the answer only after `done` (and the kill) ran.
        return result.then(
          (answer: unknown) => {
            done('ok', answer);
            return answer;
          },
          (error: unknown) => {
            done(`error: ${error instanceof Error ? error.message : String(error)}`, null);
            throw error;
          },
        );
      };
    },
  });
}

const backend = createMongoBackend({ client, dbName: env('DB_NAME') });
const scheduler = new Scheduler({
  triggerStore: instrumented(backend.triggerStore, 'triggerStore'),
  jobStore: instrumented(backend.jobStore, 'jobStore'),
  lockManager: instrumented(backend.lockManager, 'lockManager'),
  instanceId,
  pollIntervalMs: envInt('POLL_MS', 150),
  lookaheadMs: envInt('LOOKAHEAD_MS', 1000),
  leaseMs: envInt('LEASE_MS', 1500),
  concurrency: envInt('CONCURRENCY', 4),
  ...(process.env['LEAD_MS'] ? { leadMs: envInt('LEAD_MS', 0) } : {}),
  logger,
});

scheduler.on('error', (error) => {
  const code = (error as { code?: unknown }).code;
  say(`error ${typeof code === 'string' ? code : 'UNKNOWN'} ${error.message}`);
});
scheduler.on('lease:lost', (event) => say(`lease-lost ${event.jobId} ${event.reason}`));

const runs = client.db(env('DB_NAME')).collection('runs');
scheduler.register(handlerName, async (ctx) => {
  const ms = workMin + Math.floor(Math.random() * (workMax - workMin + 1));
  if (recordRuns) {
    await runs.insertOne({
      jobId: ctx.job.id,
      triggerId: ctx.job.triggerId,
      scheduledFor: ctx.job.scheduledFor,
      attempt: ctx.attempt,
      instanceId,
      at: new Date(),
    });
  }
  // Rejects with the abort reason when the lease is lost or the scheduler stops (unless told to ignore it).
  await sleep(ms, undefined, ignoreSignal ? {} : { signal: ctx.signal });
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
  counting = true;
  const statusEvery = envInt('STATUS_EVERY_MS', 0);
  if (statusEvery > 0) {
    setInterval(() => {
      void scheduler
        .health()
        .then((h) => {
          const now = Date.now();
          const stuck = [...inFlight.values()].filter((c) => now - c.since >= 1000).map((c) => `${c.call}:${now - c.since}ms`);
          say(
            `status ${JSON.stringify({ at: new Date(now).toISOString(), running: h.running, queued: h.queued, status: h.status, lastPollAt: h.lastPollAt, lastPollError: h.lastPollError, stuck, monitor: monitorState(), ...(traceRenew ? { renew: renewSummary() } : {}) })}`,
          );
        })
        .catch(() => undefined);
    }, statusEvery).unref();
  }
} catch (error) {
  say(`fatal ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
