/**
 * Scheduler options: what a caller may pass, and the resolved form with every default applied.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { SystemClock } from '../clock.js';
import { InvalidArgumentError } from '../errors.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { toLogger, type LoggerLike } from '../logger-adapter.js';
import type { JobRunner, JobStore, LockManager, TriggerStore } from '../ports.js';
import type { MongoBackend } from '../stores/mongo/backend.js';
import { normalizeRetry } from '../schedule/index.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../stores/memory/index.js';
import type { Job, RetryPolicy } from '../types.js';
import type { SchedulerEvents } from '../events.js';
import { asArgument } from './input.js';
import { MAX_PAYLOAD_BYTES } from './json.js';

/** Options of `new Scheduler()`. Every field is optional. */
export interface SchedulerOptions {
  /**
   * Trigger storage.
   * @default new MemoryTriggerStore()
   * @example triggerStore: backend.triggerStore // from createMongoBackend()
   */
  triggerStore?: TriggerStore;
  /**
   * Job storage.
   * @default new MemoryJobStore()
   */
  jobStore?: JobStore;
  /**
   * Named locks.
   * @default new MemoryLockManager()
   */
  lockManager?: LockManager;
  /**
   * Runner for module handlers. Function handlers always run inline.
   * @default new InlineJobRunner()
   * @example jobRunner: new WorkerPoolJobRunner({ maxThreads: 4 })
   */
  jobRunner?: JobRunner;
  /**
   * Unique name of this instance, at most 200 characters.
   * @default `${hostname()}-${process.pid}-${6 random hex digits}`
   * @example instanceId: process.env.HOSTNAME
   */
  instanceId?: string;
  /**
   * Most jobs this instance runs at once.
   * @default 10
   */
  concurrency?: number;
  /**
   * How often the store is polled for due triggers and pending jobs, in ms.
   * @default 1000
   */
  pollIntervalMs?: number;
  /**
   * How far ahead each poll loads due slots into the local heap, in ms; at least `pollIntervalMs`.
   * @default the larger of 5000 and `pollIntervalMs`
   */
  lookaheadMs?: number;
  /**
   * How long before its time a slot is claimed and its job written, so that its handler starts on
   * the dot (0 claims each slot at its time). A slot claimed within its lead runs even if its
   * trigger is paused or changed meanwhile (cancel the job to stop it). Triggers with a
   * concurrency cap (`overlap` other than `allow`, `maxConcurrent`) or a `window` are claimed at
   * their time.
   * @default 250, at most half of `lookaheadMs` and a third of `leaseMs`
   */
  leadMs?: number;
  /**
   * Most due triggers loaded per poll.
   * @default 20000
   */
  pollBatchSize?: number;
  /**
   * Lease length of a running job, in ms. Each lease is renewed well before it runs out, earlier
   * when renewals are slow (see docs/concepts.md, "Leases"); an instance whose renewal does not
   * come back before the lease runs out aborts its own attempt.
   * @default 30000
   */
  leaseMs?: number;
  /**
   * How long past its expiry a lease must be before another instance recovers its job, in ms
   * (while this instance's renewals are slow, two of their latest slowest round trips if longer).
   * Covers clock skew and a renewal still on its way, so a live instance's job is not taken for
   * dead.
   * @default half of `leaseMs`, at least 1000
   */
  leaseGraceMs?: number;
  /**
   * How instances sharing a store divide the slots. `'rendezvous'`: each trigger's slots go to one
   * live instance, picked by rendezvous hashing over the instances that polled within the last
   * three poll intervals; the others leave them alone unless a slot stays unclaimed `takeoverMs`
   * past its time (its instance died, stalls or is full). `'race'`: every instance tries to claim
   * every slot (n claims per slot at n instances, one wins). Either way each slot fires once;
   * needs `LockManager.holders`, else it races.
   * @default 'rendezvous'
   */
  ownership?: 'rendezvous' | 'race';
  /**
   * How long a slot may stay unclaimed by its owner before any instance takes it, in ms.
   * @default 2 × `pollIntervalMs`
   */
  takeoverMs?: number;
  /**
   * A slot later than this is a misfire and follows the trigger's misfire policy, in ms.
   * @default 60000
   */
  misfireGraceMs?: number;
  /**
   * Most missed slots that `misfire: 'run-all'` replays; older ones are skipped.
   * @default 100
   */
  maxMisfireRuns?: number;
  /**
   * Final jobs older than this are purged, in days.
   * @default 90
   */
  jobRetentionDays?: number;
  /**
   * A measured offset to the store's clock beyond this is reported (`clock:skew`, `health()`), in ms.
   * @default 1000
   */
  clockSkewToleranceMs?: number;
  /**
   * Largest payload in bytes of JSON; a larger value is lowered to the default, which fits one
   * BSON document.
   * @default MAX_PAYLOAD_BYTES (16 MiB less 64 KiB)
   */
  maxPayloadBytes?: number;
  /**
   * Time source.
   * @default new SystemClock()
   * @example clock: new ManualClock(new Date('2026-03-29T00:00:00Z')) // in tests
   */
  clock?: Clock;
  /**
   * Logger: pino, winston, `console` or anything with the `Logger` port's shape, passed as it is.
   * Without one, failures with no caller still reach stderr once per kind per minute while nothing
   * listens to `error`.
   * @default silentLogger
   * @example logger: pino()
   */
  logger?: Logger | LoggerLike;
  /**
   * Whether a started scheduler keeps the Node process alive until `stop()`, as a worker of
   * BullMQ, Agenda or pg-boss does: it holds one ref'd handle from `start()` to the end of
   * `stop()` (every other timer of the engine is unref'd). `false` for hosts that manage their
   * process's lifetime themselves (a CLI that exits when its own work is done, a test runner).
   *
   * @default true
   */
  keepAlive?: boolean;
  /**
   * Handlers that run in other processes, which triggers here may name without registering them
   * (with none, a trigger naming an unregistered handler is refused with `HandlerNotFoundError`,
   * catching typos). A list of names, or `'any'` for a process that only adds work (an API, a web
   * app) and runs no jobs: it accepts every handler name, and a typo shows in
   * `health().unhandled` instead. `runTrigger`, `publish` and `retryJob` need no registration
   * either way.
   * @default []
   * @example remoteHandlers: ['reports.render', 'emails.send']
   */
  remoteHandlers?: readonly string[] | 'any';
  /**
   * Metrics and traces (see docs/observability.md).
   * @default {} (metrics counted from the first scrape, no OpenTelemetry)
   * @example telemetry: { metrics: true, opentelemetry: true }
   */
  telemetry?: TelemetryOptions;
  /**
   * Defaults for triggers and handlers that do not set their own.
   * @default {}
   * @example defaults: { retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000 } }, timeoutMs: 60_000 }
   */
  defaults?: {
    /**
     * Retry policy.
     * @default { attempts: 1 } (no retry)
     */
    retry?: RetryPolicy;
    /**
     * Per-attempt timeout in ms.
     * @default undefined (no timeout)
     */
    timeoutMs?: number;
    /**
     * Re-runs of a job whose instance died while running it, before it fails with `ERR_STALLED`.
     * @default 1
     */
    maxStalls?: number;
  };
}

/**
 * Every option `new Scheduler()` knows, and the keys of `defaults`: anything else is refused, so
 * a typo (`concurency`) fails at once instead of silently leaving the default in place. Typed as
 * a record of the interface's keys so that a new option cannot be forgotten here.
 */
const OPTION_KEYS: Readonly<Record<keyof SchedulerOptions, true>> = {
  triggerStore: true,
  jobStore: true,
  lockManager: true,
  jobRunner: true,
  instanceId: true,
  concurrency: true,
  pollIntervalMs: true,
  lookaheadMs: true,
  leadMs: true,
  pollBatchSize: true,
  leaseMs: true,
  leaseGraceMs: true,
  ownership: true,
  takeoverMs: true,
  misfireGraceMs: true,
  maxMisfireRuns: true,
  jobRetentionDays: true,
  clockSkewToleranceMs: true,
  maxPayloadBytes: true,
  clock: true,
  logger: true,
  keepAlive: true,
  remoteHandlers: true,
  telemetry: true,
  defaults: true,
};
/**
 * The parts of a spread `createMongoBackend()` result that are not options (`new Scheduler({
 * ...backend })` is the documented way to use it): let through when they are functions.
 */
const BACKEND_EXTRAS: Readonly<Record<Exclude<keyof MongoBackend, keyof SchedulerOptions>, true>> = { ensureIndexes: true, clockOffset: true };
const DEFAULTS_KEYS: Readonly<Record<keyof NonNullable<SchedulerOptions['defaults']>, true>> = { retry: true, timeoutMs: true, maxStalls: true };
/** Options of the scheduler's telemetry. */
export interface TelemetryOptions {
  /**
   * Count this instance's metrics from the start and time every store call, for `GET /metrics`
   * (needs the optional peer dependency `prom-client`; `start()` rejects without it). When
   * `false`, the first scrape loads prom-client and counting starts then, store calls untimed.
   * @default false
   */
  metrics?: boolean;
  /**
   * Record OpenTelemetry spans and metrics through the global providers (needs the optional peer
   * dependency `@opentelemetry/api`, imported at `start()`). Implied by `tracerProvider` or `meterProvider`.
   * @default false
   */
  opentelemetry?: boolean;
  /**
   * OpenTelemetry tracer provider to use instead of the global one.
   * @default undefined (the global provider, when OpenTelemetry is on)
   * @example tracerProvider: new BasicTracerProvider({ spanProcessors: [processor] })
   */
  tracerProvider?: import('@opentelemetry/api').TracerProvider;
  /**
   * OpenTelemetry meter provider to use instead of the global one.
   * @default undefined (the global provider, when OpenTelemetry is on)
   */
  meterProvider?: import('@opentelemetry/api').MeterProvider;
}

/** Internal: an observer of the engine's events (each has one argument). */
export type EventTap = <K extends keyof SchedulerEvents>(event: K, payload: SchedulerEvents[K][0]) => void;

/** Options with defaults applied. */
export interface ResolvedOptions {
  triggerStore: TriggerStore;
  jobStore: JobStore;
  lockManager: LockManager;
  jobRunner: JobRunner | null;
  instanceId: string;
  concurrency: number;
  pollIntervalMs: number;
  lookaheadMs: number;
  leadMs: number;
  pollBatchSize: number;
  leaseMs: number;
  leaseGraceMs: number;
  ownership: 'rendezvous' | 'race';
  takeoverMs: number;
  misfireGraceMs: number;
  maxMisfireRuns: number;
  jobRetentionMs: number;
  clockSkewToleranceMs: number;
  maxPayloadBytes: number;
  clock: Clock;
  logger: Logger;
  keepAlive: boolean;
  /** Whether the caller gave a logger (else failures nobody listens to go to stderr, rate-limited). */
  loggerGiven: boolean;
  remoteHandlers: ReadonlySet<string> | 'any';
  /** Whether metrics are counted from the start (`telemetry.metrics`). */
  metrics: boolean;
  /** OpenTelemetry providers (`null` inside: the global one), or `null` when OpenTelemetry is off. */
  otel: { tracerProvider: import('@opentelemetry/api').TracerProvider | null; meterProvider: import('@opentelemetry/api').MeterProvider | null } | null;
  /** Set by the telemetry at start when tracing is on: records a job's `send` span. */
  traceSend: ((job: Job) => string | null) | null;
  defaultRetry: RetryPolicy;
  defaultTimeoutMs: number | null;
  defaultMaxStalls: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_LEAD_MS = 250;

/** Validate options and apply defaults; throws `InvalidArgumentError` naming the option. */
export function resolveOptions(options: SchedulerOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError('options', 'must be an object');
  }
  rejectUnknown(options, OPTION_KEYS, '', 'a Scheduler option', BACKEND_EXTRAS);
  if (options.defaults !== undefined) {
    if (typeof options.defaults !== 'object' || options.defaults === null || Array.isArray(options.defaults)) {
      throw new InvalidArgumentError('defaults', 'must be an object');
    }
    rejectUnknown(options.defaults, DEFAULTS_KEYS, 'defaults.', 'a key of defaults');
  }
  if (options.keepAlive !== undefined && typeof options.keepAlive !== 'boolean') {
    throw new InvalidArgumentError('keepAlive', 'must be true or false');
  }
  const pollIntervalMs = positiveInt(options.pollIntervalMs, 'pollIntervalMs', 1000);
  const lookaheadMs = positiveInt(options.lookaheadMs, 'lookaheadMs', Math.max(5000, pollIntervalMs));
  if (lookaheadMs < pollIntervalMs) throw new InvalidArgumentError('lookaheadMs', 'must be at least pollIntervalMs');
  const leaseMs = positiveInt(options.leaseMs, 'leaseMs', 30_000);
  const leadMs = nonNegativeInt(options.leadMs, 'leadMs', Math.min(DEFAULT_LEAD_MS, Math.floor(lookaheadMs / 2), Math.floor(leaseMs / 3)));
  if (leadMs >= lookaheadMs) throw new InvalidArgumentError('leadMs', 'must be less than lookaheadMs');
  if (leadMs * 3 > leaseMs) throw new InvalidArgumentError('leadMs', 'must be at most a third of leaseMs');
  const instanceId = options.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (typeof instanceId !== 'string' || instanceId.length === 0 || instanceId.length > 200) {
    throw new InvalidArgumentError('instanceId', 'must be a non-empty string of at most 200 characters');
  }
  return {
    triggerStore: options.triggerStore ?? new MemoryTriggerStore(),
    jobStore: options.jobStore ?? new MemoryJobStore(),
    lockManager: options.lockManager ?? new MemoryLockManager(),
    jobRunner: options.jobRunner ?? null,
    instanceId,
    concurrency: positiveInt(options.concurrency, 'concurrency', 10),
    pollIntervalMs,
    lookaheadMs,
    leadMs,
    pollBatchSize: positiveInt(options.pollBatchSize, 'pollBatchSize', 20_000),
    leaseMs,
    leaseGraceMs: nonNegativeInt(options.leaseGraceMs, 'leaseGraceMs', Math.max(1000, Math.floor(leaseMs / 2))),
    ownership: ownershipOption(options.ownership),
    takeoverMs: positiveInt(options.takeoverMs, 'takeoverMs', 2 * pollIntervalMs),
    misfireGraceMs: nonNegativeInt(options.misfireGraceMs, 'misfireGraceMs', 60_000),
    maxMisfireRuns: positiveInt(options.maxMisfireRuns, 'maxMisfireRuns', 100),
    jobRetentionMs: positiveInt(options.jobRetentionDays, 'jobRetentionDays', 90) * DAY_MS,
    clockSkewToleranceMs: nonNegativeInt(options.clockSkewToleranceMs, 'clockSkewToleranceMs', 1000),
    maxPayloadBytes: Math.min(positiveInt(options.maxPayloadBytes, 'maxPayloadBytes', MAX_PAYLOAD_BYTES), MAX_PAYLOAD_BYTES),
    clock: options.clock ?? new SystemClock(),
    logger: options.logger === undefined ? silentLogger : toLogger(options.logger),
    loggerGiven: options.logger !== undefined,
    keepAlive: options.keepAlive ?? true,
    remoteHandlers: remoteHandlersOption(options.remoteHandlers),
    metrics: telemetryMetrics(options.telemetry),
    otel: otelOption(options.telemetry),
    traceSend: null,
    defaultRetry: options.defaults?.retry ? asArgument(() => normalizeRetry(options.defaults?.retry, 'defaults.retry')) : { attempts: 1 },
    defaultTimeoutMs:
      options.defaults?.timeoutMs === undefined ? null : positiveInt(options.defaults.timeoutMs, 'defaults.timeoutMs', 0),
    defaultMaxStalls: nonNegativeInt(options.defaults?.maxStalls, 'defaults.maxStalls', 1),
  };
}

/** Refuse keys not in `known`, naming the first one (and the option it is probably a typo of). */
function rejectUnknown(value: object, known: Readonly<Record<string, true>>, prefix: string, what: string, extras: Readonly<Record<string, true>> = {}): void {
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(known, key)) continue;
    if (Object.hasOwn(extras, key) && typeof (value as Record<string, unknown>)[key] === 'function') continue;
    const near = Object.keys(known).find((name) => editDistance(name.toLowerCase(), key.toLowerCase()) <= 2);
    throw new InvalidArgumentError(`${prefix}${key}`, `is not ${what}${near ? ` (did you mean "${near}"?)` : ''}`);
  }
}

/** Levenshtein distance of two short strings (option names). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

const TELEMETRY_KEYS = new Set(['metrics', 'opentelemetry', 'tracerProvider', 'meterProvider']);

function telemetryMetrics(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError('telemetry', 'must be an object');
  for (const key of Object.keys(value)) if (!TELEMETRY_KEYS.has(key)) throw new InvalidArgumentError(`telemetry.${key}`, 'unknown option');
  const metrics = (value as { metrics?: unknown }).metrics;
  if (metrics !== undefined && typeof metrics !== 'boolean') throw new InvalidArgumentError('telemetry.metrics', 'must be a boolean');
  return metrics === true;
}

function otelOption(value: TelemetryOptions | undefined): ResolvedOptions['otel'] {
  if (value === undefined) return null;
  const { opentelemetry, tracerProvider, meterProvider } = value;
  if (opentelemetry !== undefined && typeof opentelemetry !== 'boolean') throw new InvalidArgumentError('telemetry.opentelemetry', 'must be a boolean');
  if (tracerProvider !== undefined && typeof (tracerProvider as { getTracer?: unknown }).getTracer !== 'function') {
    throw new InvalidArgumentError('telemetry.tracerProvider', 'must be an OpenTelemetry TracerProvider (with getTracer)');
  }
  if (meterProvider !== undefined && typeof (meterProvider as { getMeter?: unknown }).getMeter !== 'function') {
    throw new InvalidArgumentError('telemetry.meterProvider', 'must be an OpenTelemetry MeterProvider (with getMeter)');
  }
  if (opentelemetry !== true && tracerProvider === undefined && meterProvider === undefined) return null;
  return { tracerProvider: tracerProvider ?? null, meterProvider: meterProvider ?? null };
}

function ownershipOption(value: unknown): 'rendezvous' | 'race' {
  if (value === undefined) return 'rendezvous';
  if (value !== 'rendezvous' && value !== 'race') throw new InvalidArgumentError('ownership', "must be 'rendezvous' or 'race'");
  return value;
}

function remoteHandlersOption(value: unknown): ReadonlySet<string> | 'any' {
  if (value === undefined) return new Set();
  if (value === 'any') return 'any';
  if (!Array.isArray(value)) throw new InvalidArgumentError('remoteHandlers', "must be an array of handler names or 'any'");
  return new Set(
    value.map((name: unknown, index) => {
      if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
        throw new InvalidArgumentError(`remoteHandlers[${index}]`, 'must be a non-empty string of at most 200 characters');
      }
      return name;
    }),
  );
}

function positiveInt(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError(field, 'must be a positive integer');
  }
  return value;
}

function nonNegativeInt(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError(field, 'must be a non-negative integer');
  }
  return value;
}
