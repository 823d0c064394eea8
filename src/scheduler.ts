/**
 * The `Scheduler`: the public facade and the engine loop behind it.
 *
 * The store is the source of truth. Each instance keeps a binary min-heap of the slots due within
 * `lookaheadMs`, refilled by polling and updated at once for local changes, with one timer armed
 * on the heap head. A slot fires only after a compare-and-set on the trigger's `nextRunAt` (the
 * claim); the job record's unique key is the second guard. Running jobs carry a lease with a
 * fencing token; their final write is conditional on it.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { EventEmitter } from 'eventemitter3';
import type { TimerHandle } from './clock.js';
import {
  InvalidTriggerConfigError,
  JobNotFoundError,
  JobNotRetryableError,
  JobTimeoutError,
  PermanentJobError,
  SchedulerError,
  SchedulerStoppedError,
  StoreError,
  TriggerNotFoundError,
} from './errors.js';
import type { SchedulerEvents } from './events.js';
import { assertJsonPayload } from './engine/json.js';
import { assertEventName, assertHandlerName, optionalNonNegative, optionalPositive, validateJobQuery, validateTriggerQuery } from './engine/input.js';
import {
  addTo,
  checkResult,
  conditionMet,
  errorInfo,
  jobMetrics,
  matchesFilter,
  permitLimit,
  reasonFor,
  toError,
  zeroMetrics,
} from './engine/outcome.js';
import { isModuleHandler } from './runners/module-loader.js';
import { assertTransition, historyEntry } from './engine/job-state.js';
import { Membership } from './engine/membership.js';
import { renewalMargin, RenewalTimes, type RenewalSummary } from './engine/renewal-times.js';
import { asClaimed, RunContext, RunningJob } from './engine/running-job.js';
import { resolveOptions, type ResolvedOptions, type SchedulerOptions } from './engine/options.js';
import { buildTrigger, initialNextRunAt, patchTrigger, type TriggerInputContext } from './engine/trigger-input.js';
import type {
  HandlerFunction,
  JobCondition,
  JobPatch,
  JobRunner,
  JobWrite,
  Lease,
  ModuleHandler,
  RunOutcome,
  RunRequest,
  SlotClaim,
  TriggerFields,
} from './ports.js';
import { BinaryHeap } from './queue/binary-heap.js';
import { LinkedList } from './queue/linked-list.js';
import { TimeQueue } from './queue/time-queue.js';
import { cloneJson } from './util/clone.js';
import { newId } from './util/id.js';
import { retryKey } from './util/retry-key.js';
import { InlineJobRunner } from './runners/inline.js';
import { assertId, backoffDelay, isInWindow, nextSlotAfter, normalizeRetry, slotJitter } from './schedule/index.js';
import type {
  Job,
  JobErrorInfo,
  JobMetrics,
  JobQuery,
  JobSource,
  JobStatus,
  JsonValue,
  Page,
  RetryPolicy,
  Trigger,
  TriggerInput,
  TriggerPatch,
  TriggerQuery,
} from './types.js';

/** Options of `register`. */
export interface HandlerOptions {
  /** Most jobs of this handler this instance runs at once (default: no own limit). */
  concurrency?: number;
  /** Per-attempt timeout in ms for triggers that set none. */
  timeoutMs?: number;
  /** Retry policy for triggers that set none. */
  retry?: RetryPolicy;
  /** Whether a failed attempt may be retried (default: always, except `PermanentJobError`). */
  retryOn?: (error: unknown, attempt: number) => boolean;
  /** Re-runs of a job whose instance died while running it, for triggers that set none (see `TriggerInput.maxStalls`). */
  maxStalls?: number;
}

/** Options of `stop`. */
export interface StopOptions {
  /** Wait for running jobs (default `true`); when `false` they are aborted at once. */
  graceful?: boolean;
  /** How long a graceful stop waits before aborting what still runs (default 10000 ms). */
  timeoutMs?: number;
}

/** Answer of `health()`. */
export interface HealthReport {
  /** `ok` running and polling fine; `degraded` running but the last poll failed; else the lifecycle state. */
  status: 'ok' | 'degraded' | 'starting' | 'stopping' | 'stopped' | 'idle';
  /** This instance. */
  instanceId: string;
  /** Jobs running on this instance. */
  running: number;
  /** Slots loaded in the local heap. */
  queued: number;
  /** Event-loop delay p99 in ms since start (real time). */
  eventLoopLagMs: number | null;
  /** Whether both stores answered a ping just now. */
  storeReachable: boolean;
  /** Last successful poll. */
  lastPollAt: Date | null;
  /** Message of the last poll error, cleared by a successful poll. */
  lastPollError: string | null;
  /** Measured offset of the store's clock to this instance's (0 where the backend cannot tell). */
  clockOffsetMs: number;
  /** Whether that offset is beyond `clockSkewToleranceMs`. */
  clockSkewed: boolean;
  /** Live instances sharing the store as of the last poll, this one included (1 when alone, or with `ownership: 'race'`). */
  members: number;
  /**
   * Round trips of this instance's recent lease renewals (`null` before the first). A p99 near
   * half of `leaseMs` means the store is too slow for the lease (see `lease:renewal-slow`).
   */
  leaseRenewal: RenewalSummary | null;
}

/** Per-trigger figures of `stats()`. */
export interface TriggerStats {
  /** Finished runs (succeeded + failed). */
  runs: number;
  /** Succeeded jobs. */
  succeeded: number;
  /** Failed jobs. */
  failed: number;
  /** Last claimed slot. */
  lastRunAt: Date | null;
  /** Next slot. */
  nextRunAt: Date | null;
  /** Median duration of finished jobs. */
  p50DurationMs: number | null;
  /** 95th percentile duration of finished jobs. */
  p95DurationMs: number | null;
}

/** Answer of `stats()`. */
export interface SchedulerStats {
  /** Job counts per status. */
  jobs: Record<JobStatus, number>;
  /** Figures per trigger that has jobs (or the requested one). */
  triggers: Record<string, TriggerStats>;
}

interface HandlerRegistration {
  name: string;
  handler: HandlerFunction | ModuleHandler;
  runner: JobRunner;
  concurrency: number | null;
  timeoutMs: number | null;
  retry: RetryPolicy | null;
  retryOn: ((error: unknown, attempt: number) => boolean) | null;
  maxStalls: number | null;
  running: number;
  invalid: Error | null;
  validation: Promise<void> | null;
}

interface SlotEntry {
  kind: 'slot';
  /** When the slot's job is to start (the slot, plus jitter or a hand-off delay). */
  at: number;
  /** When to act on it: `at`, or `at - leadMs` for a slot claimed ahead (see `#newRun`). */
  act: number;
  priority: number;
  seq: number;
  slot: number;
  trigger: Trigger;
}

interface WakeEntry {
  kind: 'wake';
  at: number;
  act: number;
  priority: number;
  seq: number;
}

type HeapEntry = SlotEntry | WakeEntry;

/** How an attempt ended, waiting for its write. */
interface RunEnd {
  run: RunningJob<HandlerRegistration>;
  status: JobStatus;
  /** The fenced write that records the end; `null` when there is nothing to write (lease lost). */
  write: JobWrite | null;
  timedOut: boolean;
  hasDependents: boolean;
}

interface JobDraft {
  source: JobSource;
  key: string;
  scheduledFor: Date;
  runAt: Date;
  payload: JsonValue;
  event: Job['event'];
  upstream: Job['upstream'];
}

type State = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

const MAX_POLL_BACKOFF_MS = 30_000;
const PURGE_EVERY_MS = 60 * 60 * 1000;
const CLOCK_CHECK_EVERY_MS = 60 * 1000;
/** Slots fired, and attempts started, per event-loop turn before yielding. */
const FIRE_BATCH = 64;
const RUNNING: JobStatus[] = ['running'];
/** How much later than its owner an instance fires a trigger it holds but does not own. */
const HANDOFF_DELAY_MS = 25;
/** Poll answers are queued this many triggers per event-loop turn. */
const ENQUEUE_CHUNK = 1000;
/** `#queued` seq of a slot whose claim is in flight. */
const IN_FLIGHT = -1;
/** Ends of attempts recorded per store call (and per event-loop turn). */
const END_BATCH = 512;
/** Longest a recorded end waits while prepared attempts are still starting (a herd). */
const END_DEFER_MAX_MS = 100;
/** How long prepared attempts may go on starting in one event-loop turn. */
const START_TURN_MS = 4;
/** Least pause after a failed lease renewal before the next try (a tenth of the lease if longer). */
const RENEW_RETRY_MIN_MS = 100;
/** First pause of `#retryStore`; it doubles on each further failure (to at most 2 s). */
const RETRY_FIRST_DELAY_MS = 100;

/**
 * An embeddable job scheduler. Register handlers, add triggers, `start()`. Any number of instances
 * sharing one store fire each slot once and run each job at least once.
 */
export class Scheduler extends EventEmitter<SchedulerEvents> {
  readonly #o: ResolvedOptions;
  readonly #inline = new InlineJobRunner();
  readonly #membership: Membership;
  readonly #handlers = new Map<string, HandlerRegistration>();
  readonly #heap = new BinaryHeap<HeapEntry>((a, b) => a.act - b.act || b.priority - a.priority || a.seq - b.seq);
  // Attempts claimed and written ahead of their slot, by start time (see `#newRun`).
  readonly #prepared = new TimeQueue<RunningJob<HandlerRegistration>>((run) => run.startAt);
  // Triggers of prepared attempts that started, to queue for their next slot once a herd is out.
  #successors: Array<RunningJob<HandlerRegistration>> = [];
  #startTimer: TimerHandle | null = null;
  #startTimerAt = Number.POSITIVE_INFINITY;
  #startsScheduled = false;
  // triggerId -> seq of its live heap entry; an entry whose seq differs is stale.
  readonly #queued = new Map<string, { seq: number; slot: number; version: number }>();
  // Attempts running here (and prepared ones), in start order.
  readonly #running = new LinkedList<RunningJob<HandlerRegistration>>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #dependents = new Map<string, Set<string>>();
  #state: State = 'idle';
  #seq = 0;
  #runningCount = 0;
  #timer: TimerHandle | null = null;
  #timerAt = Number.POSITIVE_INFINITY;
  #pollTimer: TimerHandle | null = null;
  #renewTimer: TimerHandle | null = null;
  #renewTimerAt = Number.POSITIVE_INFINITY;
  readonly #renewalTimes = new RenewalTimes();
  #lastSlowRenewalAt = Number.NEGATIVE_INFINITY;
  #firing = 0;
  #turnStarts = 0;
  #turnResetScheduled = false;
  // Attempts past a turn's budget, started on the next turn.
  #deferredStarts: Array<RunningJob<HandlerRegistration>> = [];
  #deferredScheduled = false;
  #drainScheduled = false;
  #blockedOnCapacity = false;
  #polledUntil: number | null = null;
  #pollsSinceFull = 0;
  #polling = false;
  #pollFailures = 0;
  #lastPollAt: Date | null = null;
  #lastPollError: string | null = null;
  #lastRecoveryAt = Number.NEGATIVE_INFINITY;
  #lastPurgeAt = Number.NEGATIVE_INFINITY;
  #lastClockCheckAt = Number.NEGATIVE_INFINITY;
  #clockOffsetMs = 0;
  #dispatching = false;
  #dispatchAgain = false;
  // Dispatch looks for pending jobs only when some were noted after its last empty look.
  #pendingEpoch = 1;
  #emptyAtEpoch = 0;
  #lastSlotIso = { at: Number.NaN, iso: '' };
  #instantMs = Number.NaN;
  #instantDate = new Date(0);
  // Ends of attempts waiting to be written, oldest first, and when the oldest was queued.
  #ends: Array<RunningJob<HandlerRegistration>> = [];
  #endsSince = 0;
  #endsScheduled = false;
  #lag: IntervalHistogram | null = null;
  #startPromise: Promise<void> | null = null;
  #stopPromise: Promise<void> | null = null;

  /** @param options see `SchedulerOptions`; all optional (in-memory backend, inline runner). */
  constructor(options: SchedulerOptions = {}) {
    super();
    this.#o = resolveOptions(options);
    // A member that missed three polls in a row is taken for gone.
    this.#membership = new Membership(this.#o.lockManager, this.#o.instanceId, 3 * this.#o.pollIntervalMs, () => this.#usableHandlerNames());
  }

  /** This instance's id. */
  get instanceId(): string {
    return this.#o.instanceId;
  }

  /** Lifecycle state. */
  get state(): State {
    return this.#state;
  }

  // ─── Handlers ──────────────────────────────────────────────────────────────────────────────

  /**
   * Register a handler under a name. A function runs in this thread; a `{ module, exportName }`
   * runs on the configured `jobRunner` (worker threads with `WorkerPoolJobRunner`). A module that
   * cannot be loaded makes `start()` reject (or, registered after start, fails its jobs).
   */
  register<P extends JsonValue = JsonValue>(
    name: string,
    handler: HandlerFunction<P> | ModuleHandler,
    options: HandlerOptions = {},
  ): this {
    assertHandlerName(name);
    if (this.#handlers.has(name)) throw new InvalidTriggerConfigError('name', `a handler named "${name}" is already registered`);
    const isFunction = typeof handler === 'function';
    if (!isFunction && !isModuleHandler(handler)) {
      throw new InvalidTriggerConfigError('handler', 'must be a function or { module, exportName }');
    }
    const custom = this.#o.jobRunner;
    const runner = !isFunction && custom?.supports(handler) ? custom : this.#inline;
    const registration: HandlerRegistration = {
      name,
      handler: handler as HandlerFunction | ModuleHandler,
      runner,
      concurrency: optionalPositive(options.concurrency, 'options.concurrency'),
      timeoutMs: optionalPositive(options.timeoutMs, 'options.timeoutMs'),
      retry: options.retry === undefined ? null : normalizeRetry(options.retry, 'options.retry'),
      retryOn: options.retryOn ?? null,
      maxStalls: optionalNonNegative(options.maxStalls, 'options.maxStalls'),
      running: 0,
      invalid: null,
      validation: null,
    };
    if (options.retryOn !== undefined && typeof options.retryOn !== 'function') {
      throw new InvalidTriggerConfigError('options.retryOn', 'must be a function');
    }
    if (!isFunction && runner.validate) {
      registration.validation = runner.validate(handler).catch((error: unknown) => {
        registration.invalid = toError(error);
        if (this.#state === 'running') this.#fail(registration.invalid);
      });
    }
    this.#handlers.set(name, registration);
    return this;
  }

  // ─── Lifecycle ─────────────────────────────────────────────────────────────────────────────

  /** Start polling and firing. Idempotent; resolves once the first poll has run. */
  async start(): Promise<void> {
    if (this.#state === 'running') return;
    if (this.#state === 'starting' && this.#startPromise) return this.#startPromise;
    if (this.#state === 'stopping' && this.#stopPromise) await this.#stopPromise;
    this.#state = 'starting';
    this.#startPromise = this.#doStart();
    try {
      await this.#startPromise;
    } finally {
      this.#startPromise = null;
    }
  }

  async #doStart(): Promise<void> {
    const validations = [...this.#handlers.values()].map((h) => h.validation).filter((v): v is Promise<void> => v !== null);
    await Promise.all(validations);
    const invalid = [...this.#handlers.values()].find((h) => h.invalid);
    if (invalid?.invalid) {
      this.#state = 'idle';
      throw invalid.invalid;
    }
    this.#stopPromise = null;
    // A restart begins with room: whatever was parked for capacity before the stop is gone.
    this.#blockedOnCapacity = false;
    this.#lag = monitorEventLoopDelay({ resolution: 10 });
    this.#lag.enable();
    this.#state = 'running';
    this.#polledUntil = null;
    await this.#poll();
    this.#emit('scheduler:started', { instanceId: this.#o.instanceId, at: this.#now() });
  }

  /**
   * Stop. Idempotent. A graceful stop claims nothing new and waits up to `timeoutMs` for running
   * jobs; jobs still running then are aborted and handed back as `pending` with the reason in
   * their history, so another instance (or the next start) runs them.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.#state === 'idle' || this.#state === 'stopped') return;
    if (this.#stopPromise) return this.#stopPromise;
    if (this.#startPromise) await this.#startPromise.catch(() => undefined);
    this.#stopPromise = this.#doStop(options.graceful ?? true, options.timeoutMs ?? 10_000);
    return this.#stopPromise;
  }

  async #doStop(graceful: boolean, timeoutMs: number): Promise<void> {
    this.#state = 'stopping';
    this.#timer?.cancel();
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#startTimer?.cancel();
    this.#startTimer = null;
    this.#startTimerAt = Number.POSITIVE_INFINITY;
    // Attempts prepared ahead never start: handed back as pending for their own time.
    for (let run = this.#prepared.shift(); run; run = this.#prepared.shift()) run.abort({ kind: 'shutdown' });
    this.#successors = [];
    this.#pollTimer?.cancel();
    this.#pollTimer = null;
    this.#heap.clear();
    this.#queued.clear();
    // Leave at once, so the others take this instance's triggers at their next poll.
    await this.#membership.leave().catch((error: unknown) =>
      this.#o.logger.warn({ error: toError(error).message }, 'leaving the membership failed; it runs out by itself'),
    );
    await Promise.allSettled([...this.#inFlight]);
    if (graceful && this.#running.size > 0) {
      let timer: TimerHandle | null = null;
      const timedOut = new Promise<void>((resolve) => {
        timer = this.#o.clock.setTimer(resolve, timeoutMs);
      });
      await Promise.race([Promise.allSettled(this.#running.toArray().map((r) => r.done)), timedOut]);
      (timer as TimerHandle | null)?.cancel();
    }
    for (const run of this.#running.toArray()) run.abort({ kind: 'shutdown' });
    await Promise.allSettled(this.#running.toArray().map((r) => r.done));
    this.#renewTimer?.cancel();
    this.#renewTimer = null;
    this.#renewTimerAt = Number.POSITIVE_INFINITY;
    await Promise.allSettled([...this.#inFlight]);
    // Every attempt was already waited for or aborted above; what a runner still holds is abandoned
    // work (a handler ignoring its signal), so runners close at once (a worker pool's threads end).
    // The scheduler's own inline runner holds nothing to release and stays open for a restart.
    const runners = new Set<JobRunner>([...this.#handlers.values()].map((h) => h.runner));
    runners.delete(this.#inline);
    await Promise.allSettled([...runners].map((r) => r.close({ timeoutMs: 0 })));
    this.#lag?.disable();
    this.#state = 'stopped';
    this.#emit('scheduler:stopped', { instanceId: this.#o.instanceId, at: this.#now() });
  }

  // ─── Triggers ──────────────────────────────────────────────────────────────────────────────

  /** Validate and store a trigger. Nothing is written when validation fails. */
  async addTrigger(input: TriggerInput): Promise<Trigger> {
    const trigger = buildTrigger(input, this.#inputContext());
    // Only a dependent trigger has something to check in the store: others skip the await.
    if (trigger.schedule.kind === 'after') await this.#assertDependency(trigger);
    try {
      await this.#o.triggerStore.insert(trigger);
    } catch (error) {
      throw storeFailure(error, 'insert trigger');
    }
    this.#noteTrigger(trigger);
    this.#emit('trigger:added', trigger);
    return trigger;
  }

  /** Change a trigger. The next slot is recomputed when the schedule or its bounds change. */
  async updateTrigger(id: string, patch: TriggerPatch): Promise<Trigger> {
    assertId(id, 'id');
    return this.#rewrite(id, 'trigger:updated', (current) => patchTrigger(current, patch, this.#inputContext()));
  }

  /** Delete a trigger. Its jobs stay (and running ones finish). */
  async removeTrigger(id: string): Promise<void> {
    assertId(id, 'id');
    const current = await this.#requireTrigger(id);
    await this.#store(() => this.#o.triggerStore.remove(id), 'remove trigger');
    this.#queued.delete(id);
    if (current.schedule.kind === 'after') this.#dependents.get(current.schedule.after)?.delete(id);
    this.#emit('trigger:removed', current);
  }

  /** Stop firing a trigger until `resumeTrigger`. */
  async pauseTrigger(id: string): Promise<Trigger> {
    assertId(id, 'id');
    return this.#rewrite(id, 'trigger:paused', (current) => ({
      ...current,
      status: current.status === 'completed' ? 'completed' : 'paused',
      updatedAt: this.#now(),
      version: current.version + 1,
    }));
  }

  /** Fire a paused trigger again, from its next slot after now (slots missed while paused are not replayed). */
  async resumeTrigger(id: string): Promise<Trigger> {
    assertId(id, 'id');
    return this.#rewrite(id, 'trigger:resumed', (current) => {
      if (current.status !== 'paused') return { ...current };
      const now = this.#now();
      const resumed: Trigger = { ...current, status: 'active', updatedAt: now, version: current.version + 1 };
      if (current.schedule.kind !== 'at') resumed.nextRunAt = initialNextRunAt(resumed, now);
      if (resumed.nextRunAt === null && (current.schedule.kind === 'cron' || current.schedule.kind === 'every')) {
        resumed.status = 'completed';
      }
      return resumed;
    });
  }

  /** One trigger, or `null`. */
  async getTrigger(id: string): Promise<Trigger | null> {
    assertId(id, 'id');
    return this.#store(() => this.#o.triggerStore.get(id), 'get trigger');
  }

  /** Page through triggers by id. */
  async listTriggers(query: TriggerQuery = {}): Promise<Page<Trigger>> {
    const q = validateTriggerQuery(query);
    return this.#store(() => this.#o.triggerStore.list(q), 'list triggers');
  }

  /**
   * Run a trigger now (any status), optionally with another payload. Returns the new job. The job
   * runs here when this instance has the handler and room, else it waits as `pending` for an
   * instance that has (services sharing a store each register their own handlers).
   */
  async runTrigger(id: string, options: { payload?: JsonValue } = {}): Promise<Job> {
    assertId(id, 'id');
    this.#assertAccepting();
    const payload = options.payload === undefined ? undefined : assertJsonPayload(options.payload, 'payload', this.#o.maxPayloadBytes);
    const trigger = await this.#requireTrigger(id);
    const now = this.#now();
    const job = await this.#admit(trigger, {
      source: 'manual',
      key: `manual:${newId()}`,
      scheduledFor: now,
      runAt: now,
      payload: payload === undefined ? trigger.payload : payload,
      event: null,
      upstream: null,
    });
    return job;
  }

  /**
   * Publish an event: every active trigger listening to it whose `filter` matches the payload gets
   * a job. The same `eventId` fires each trigger once; a repeat returns the jobs made the first time.
   */
  async publish(event: string, payload: JsonValue = null, options: { eventId?: string } = {}): Promise<Job[]> {
    assertEventName(event, 'event');
    const body = assertJsonPayload(payload, 'payload', this.#o.maxPayloadBytes);
    const eventId = options.eventId === undefined ? newId() : assertEventName(options.eventId, 'eventId');
    this.#assertAccepting();
    const triggers = await this.#store(() => this.#o.triggerStore.findByEvent(event), 'find event triggers');
    const now = this.#now();
    const jobs: Job[] = [];
    for (const trigger of triggers) {
      if (trigger.schedule.kind !== 'event' || !matchesFilter(trigger.schedule.filter, body)) continue;
      jobs.push(
        await this.#admit(trigger, {
          source: 'event',
          key: `event:${trigger.id}:${eventId}`,
          scheduledFor: now,
          runAt: now,
          payload: body,
          event: { name: event, id: eventId },
          upstream: null,
        }),
      );
    }
    return jobs;
  }

  // ─── Jobs ──────────────────────────────────────────────────────────────────────────────────

  /** One job, or `null`. */
  async getJob(id: string): Promise<Job | null> {
    assertId(id, 'id');
    return this.#store(() => this.#o.jobStore.get(id), 'get job');
  }

  /** Page through jobs, newest slot first. */
  async listJobs(query: JobQuery = {}): Promise<Page<Job>> {
    const q = validateJobQuery(query);
    return this.#store(() => this.#o.jobStore.list(q), 'list jobs');
  }

  /**
   * Cancel a job. A pending job is cancelled at once; a job running here is aborted and recorded
   * `cancelled`; a job running on another instance is flagged, and its holder aborts it at its next
   * lease renewal (within a third of `leaseMs`). Returns the job as it stands.
   */
  async cancelJob(id: string): Promise<Job> {
    assertId(id, 'id');
    for (let attempt = 0; attempt < 5; attempt++) {
      const job = await this.#store(() => this.#o.jobStore.get(id), 'get job');
      if (!job) throw new JobNotFoundError(id);
      if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled' || job.status === 'skipped') return job;
      const local = this.#runningJob(id);
      if (local) {
        local.abort({ kind: 'cancel' });
        await local.done;
        return (await this.#o.jobStore.get(id)) ?? job;
      }
      if (job.status === 'pending') {
        assertTransition('pending', 'cancelled', id);
        const now = this.#now();
        const written = await this.#store(
          () =>
            this.#o.jobStore.update(
              id,
              { status: ['pending'] },
              { status: 'cancelled', finishedAt: now, dependentsFired: true, gate: null },
              [historyEntry('cancelled', now, this.#o.instanceId, 'cancelled by request')],
            ),
          'cancel job',
        );
        if (written) {
          this.#emit('job:cancelled', written);
          return written;
        }
        continue;
      }
      const flagged = await this.#store(
        () => this.#o.jobStore.update(id, { status: ['running'] }, { cancelRequested: true }),
        'flag job for cancel',
      );
      if (flagged) return flagged;
    }
    throw new StoreError(`job "${id}" kept changing while being cancelled`);
  }

  /**
   * Run a failed (or cancelled) job again as a new job of the same trigger, with the original's
   * payload and source `manual`; the original stays as it is. The new job's `key` is
   * `retry:<original id>:<unique>` (read it back with `retryOfKey`). Like `runTrigger` it runs here
   * when this instance has the handler and room, else it waits `pending` for an instance that has
   * (so it works on a scheduler that was never started: a running instance picks it up).
   *
   * @throws JobNotFoundError when no job has the id
   * @throws JobNotRetryableError when the job is not `failed` or `cancelled`
   * @throws TriggerNotFoundError when the job's trigger was removed since
   */
  async retryJob(id: string): Promise<Job> {
    assertId(id, 'id');
    this.#assertAccepting();
    const original = await this.#store(() => this.#o.jobStore.get(id), 'get job');
    if (!original) throw new JobNotFoundError(id);
    if (original.status !== 'failed' && original.status !== 'cancelled') throw new JobNotRetryableError(id, original.status);
    const trigger = await this.#requireTrigger(original.triggerId);
    const now = this.#now();
    return this.#admit(trigger, {
      source: 'manual',
      key: retryKey(id, newId()),
      scheduledFor: now,
      runAt: now,
      payload: cloneJson(original.payload),
      event: null,
      upstream: null,
    });
  }

  // ─── Observability ─────────────────────────────────────────────────────────────────────────

  /** Liveness and load of this instance. */
  async health(): Promise<HealthReport> {
    let storeReachable = true;
    try {
      await Promise.all([this.#o.triggerStore.ping(), this.#o.jobStore.ping()]);
    } catch {
      storeReachable = false;
    }
    const status: HealthReport['status'] =
      this.#state === 'running' ? (this.#lastPollError === null && storeReachable ? 'ok' : 'degraded') : this.#state;
    const lag = this.#lag && this.#lag.count > 0 ? this.#lag.percentile(99) / 1e6 : null;
    return {
      status,
      instanceId: this.#o.instanceId,
      running: this.#runningCount,
      queued: this.#queued.size,
      eventLoopLagMs: lag === null ? null : Math.round(lag * 100) / 100,
      storeReachable,
      lastPollAt: this.#lastPollAt,
      lastPollError: this.#lastPollError,
      clockOffsetMs: this.#clockOffsetMs,
      clockSkewed: Math.abs(this.#clockOffsetMs) > this.#o.clockSkewToleranceMs,
      members: Math.max(1, this.#membership.members.length),
      leaseRenewal: this.#renewalTimes.summary(),
    };
  }

  /** Job counts by status, and per trigger: runs, successes, failures, last and next run, p50/p95 duration. */
  async stats(filter: { triggerId?: string } = {}): Promise<SchedulerStats> {
    if (filter.triggerId !== undefined) assertId(filter.triggerId, 'triggerId');
    const summary = await this.#store(() => this.#o.jobStore.stats(filter), 'job stats');
    const ids = new Set(Object.keys(summary.byTrigger));
    if (filter.triggerId !== undefined) ids.add(filter.triggerId);
    const triggers: Record<string, TriggerStats> = {};
    for (const id of ids) {
      const figures = summary.byTrigger[id];
      const trigger = await this.#store(() => this.#o.triggerStore.get(id), 'get trigger');
      triggers[id] = {
        runs: figures?.runs ?? 0,
        succeeded: figures?.succeeded ?? 0,
        failed: figures?.failed ?? 0,
        lastRunAt: trigger?.lastRunAt ?? figures?.lastFinishedAt ?? null,
        nextRunAt: trigger?.nextRunAt ?? null,
        p50DurationMs: figures?.p50DurationMs ?? null,
        p95DurationMs: figures?.p95DurationMs ?? null,
      };
    }
    return { jobs: summary.byStatus, triggers };
  }

  // ─── Engine: heap, timer, poll ─────────────────────────────────────────────────────────────

  #now(): Date {
    return new Date(this.#o.clock.now());
  }

  /**
   * Now on the store's clock: leases and locks are compared by every instance against each other,
   * so their arithmetic uses the measured offset to the shared store's clock, not the local one.
   */
  #storeNow(): Date {
    return new Date(this.#o.clock.now() + this.#clockOffsetMs);
  }

  #leaseExpiry(): Date {
    return new Date(this.#o.clock.now() + this.#clockOffsetMs + this.#o.leaseMs);
  }

  /** Measure the store's clock offset where the backend can, and report a skew beyond tolerance. */
  async #measureClock(now: number): Promise<void> {
    const measure = this.#o.jobStore.measureClockOffset;
    if (!measure || now - this.#lastClockCheckAt < CLOCK_CHECK_EVERY_MS) return;
    this.#lastClockCheckAt = now;
    const offsetMs = Math.round(await measure.call(this.#o.jobStore));
    this.#clockOffsetMs = offsetMs;
    if (Math.abs(offsetMs) > this.#o.clockSkewToleranceMs) {
      this.#o.logger.warn({ offsetMs, toleranceMs: this.#o.clockSkewToleranceMs }, 'clock skew to the store beyond tolerance');
      this.#emit('clock:skew', { offsetMs, toleranceMs: this.#o.clockSkewToleranceMs });
    }
  }

  /**
   * Put a trigger's next slot in the heap if it is due within the look-ahead window.
   *
   * With several members (`ownership: 'rendezvous'`): a poll brings only the triggers this
   * instance owns, or slots overdue by `takeoverMs` (their owner died, stalls or is full). A
   * trigger added or changed here is queued here whoever owns it (the others see it only at their
   * next full poll), and so is the successor of a slot claimed here: an instance that fired a
   * trigger keeps firing it until it loses a claim, so no slot waits for the owner to learn of
   * the trigger. Successors of triggers owned elsewhere fire `HANDOFF_DELAY_MS` late, so that once
   * the owner holds the trigger too it wins the race and the other drops out.
   */
  #enqueue(trigger: Trigger, origin: 'poll' | 'local' | 'successor'): void {
    if (this.#state !== 'running' || trigger.status !== 'active' || trigger.nextRunAt === null) return;
    if (!this.#handlers.has(trigger.handler)) return;
    const slot = trigger.nextRunAt.getTime();
    const now = this.#o.clock.now();
    if (slot > now + this.#o.lookaheadMs) return;
    const owned = origin === 'local' || this.#membership.owns(trigger.id, trigger.handler);
    if (!owned && origin === 'poll' && slot > now - this.#o.takeoverMs) return;
    const queued = this.#queued.get(trigger.id);
    if (queued && (trigger.version < queued.version || (queued.slot === slot && queued.version >= trigger.version))) return;
    const seq = this.#seq++;
    const at = slot + (trigger.jitterMs > 0 ? slotJitter(trigger.jitterMs) : 0) + (owned || origin === 'poll' ? 0 : HANDOFF_DELAY_MS);
    const act = this.#o.leadMs > 0 && leadsAhead(trigger) ? at - this.#o.leadMs : at;
    if (queued) {
      queued.seq = seq;
      queued.slot = slot;
      queued.version = trigger.version;
    } else {
      this.#queued.set(trigger.id, { seq, slot, version: trigger.version });
    }
    this.#heap.push({ kind: 'slot', at, act, priority: trigger.priority, seq, slot, trigger });
    if (act < this.#timerAt) this.#arm();
  }

  /** Whether this exact version of a trigger is queued here (a poll need not bring it again). */
  readonly #holds = (id: string, version: number): boolean => {
    const queued = this.#queued.get(id);
    return queued !== undefined && queued.seq !== IN_FLIGHT && queued.version === version;
  };

  #wakeAt(at: number): void {
    if (this.#state !== 'running') return;
    this.#heap.push({ kind: 'wake', at, act: at, priority: 0, seq: this.#seq++ });
    if (at < this.#timerAt) this.#arm();
  }

  #isLive(entry: HeapEntry): boolean {
    return entry.kind === 'wake' || this.#queued.get(entry.trigger.id)?.seq === entry.seq;
  }

  #arm(): void {
    let head = this.#heap.peek();
    while (head && !this.#isLive(head)) {
      this.#heap.pop();
      head = this.#heap.peek();
    }
    const parked = head !== undefined && head.kind === 'slot' && this.#blockedOnCapacity && head.act <= this.#o.clock.now();
    if (!head || this.#state !== 'running' || parked) {
      // Nothing to wait for, or the head is due but this instance is full: a finishing job wakes it.
      this.#timer?.cancel();
      this.#timer = null;
      this.#timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.#timer && this.#timerAt <= head.act) return;
    this.#timer?.cancel();
    this.#timerAt = head.act;
    this.#timer = this.#o.clock.setTimer(() => this.#onTimer(), Math.max(0, head.act - this.#o.clock.now()));
  }

  #onTimer(): void {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#drain();
  }

  /**
   * Fire the due slots at the heap head. At most `FIRE_BATCH` per turn, then the rest after other
   * work had a turn, so a herd of simultaneous slots starts its first jobs at once instead of
   * after every claim of the herd; and no more than this instance has room for: the rest stay
   * unclaimed in the heap (free for an instance with room) until a running job finishes.
   */
  #drain(): void {
    if (this.#state !== 'running') return;
    // A drain runs in an event-loop turn of its own (a timer or an immediate): a fresh budget.
    this.#turnStarts = 0;
    const now = this.#o.clock.now();
    let fired = 0;
    let wake = false;
    const batch: SlotEntry[] = [];
    this.#blockedOnCapacity = false;
    for (let head = this.#heap.peek(); head && head.act <= now; head = this.#heap.peek()) {
      if (!this.#isLive(head)) {
        this.#heap.pop();
        continue;
      }
      if (head.kind === 'wake') {
        this.#heap.pop();
        wake = true;
        continue;
      }
      if (head.at > now && !this.#canPrepare(head.trigger)) {
        // Not to be claimed ahead after all (its handler cannot run here now): at its time, then.
        this.#heap.pop();
        head.act = head.at;
        this.#heap.push(head);
        continue;
      }
      if (this.#runningCount + this.#firing >= this.#o.concurrency) {
        this.#blockedOnCapacity = true;
        break;
      }
      if (fired >= FIRE_BATCH) {
        this.#scheduleDrain();
        break;
      }
      this.#heap.pop();
      // An in-flight marker (seq -1 matches no heap entry): a poll answer read before this claim
      // must not queue the slot again, nor replace the successor the claim will queue. The entry
      // is live, so it holds this very slot and version.
      this.#queued.get(head.trigger.id)!.seq = IN_FLIGHT;
      this.#firing += 1;
      fired += 1;
      batch.push(head);
    }
    if (batch.length > 0) {
      this.#track(
        this.#fireSlots(batch).finally(() => {
          this.#firing -= batch.length;
          this.#onCapacity();
        }),
      );
    }
    if (wake) {
      this.#notePending();
      this.#kickDispatch();
    }
    this.#arm();
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled || this.#state !== 'running') return;
    this.#drainScheduled = true;
    setImmediate(() => {
      this.#drainScheduled = false;
      this.#drain();
    });
  }

  /** Room was freed: slots parked at the head for lack of it can fire now. */
  #onCapacity(): void {
    if (this.#blockedOnCapacity) this.#scheduleDrain();
  }

  #track(work: Promise<unknown>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  #schedulePoll(delayMs: number): void {
    if (this.#state !== 'running') return;
    this.#pollTimer?.cancel();
    this.#pollTimer = this.#o.clock.setTimer(() => void this.#poll(), delayMs);
  }

  async #poll(): Promise<void> {
    if (this.#polling || this.#state !== 'running') return;
    this.#polling = true;
    try {
      const now = this.#o.clock.now();
      const handlers = this.#usableHandlerNames();
      await this.#measureClock(now);
      // The members changed: another instance's triggers may be ours now (or ours theirs), and
      // slots skipped as someone else's sit inside the window a delta poll would not read again.
      if (this.#o.ownership === 'rendezvous' && (await this.#membership.refresh(this.#storeNow()))) this.#polledUntil = null;
      const full = await this.#loadDue(now, handlers);
      // A full poll read the overdue slots already; a delta poll does not look behind its window.
      if (!full && this.#membership.members.length > 1) await this.#takeOverOverdue(now, handlers);
      const edges = await this.#o.triggerStore.dependencyEdges();
      this.#dependents.clear();
      for (const edge of edges) addTo(this.#dependents, edge.after, edge.id);
      await this.#dispatchGated(now, handlers);
      if (now - this.#lastRecoveryAt >= this.#o.leaseMs / 3) {
        this.#lastRecoveryAt = now;
        await this.#maintain(now);
      }
      this.#lastPollAt = new Date(now);
      this.#lastPollError = null;
      this.#pollFailures = 0;
      // Pending jobs (of other instances too) are looked for only when one is due or falls due
      // before the next poll: a poll with nothing pending costs no claim attempt.
      const nextPending = (await this.#o.jobStore.nextPendingAt(handlers))?.getTime() ?? null;
      if (nextPending !== null && nextPending <= now) {
        this.#notePending();
        this.#kickDispatch();
      } else if (nextPending !== null && nextPending < now + this.#o.pollIntervalMs) {
        this.#wakeAt(nextPending);
      }
    } catch (error) {
      this.#pollFailures += 1;
      this.#lastPollError = toError(error).message;
      this.#fail(new StoreError(`poll failed: ${toError(error).message}`, { cause: error }));
    } finally {
      this.#polling = false;
      const backoff = Math.min(MAX_POLL_BACKOFF_MS, this.#o.pollIntervalMs * 2 ** this.#pollFailures);
      this.#schedulePoll(this.#pollFailures === 0 ? this.#o.pollIntervalMs : backoff);
    }
  }

  /**
   * Load due slots into the heap. Most polls fetch only the part of the look-ahead window that is
   * new since the last poll; once per window length a full fetch also picks up what changed
   * elsewhere inside the window (another instance's update) and anything left unclaimed.
   * Returns whether this was a full fetch.
   */
  async #loadDue(now: number, handlers: string[]): Promise<boolean> {
    const until = now + this.#o.lookaheadMs;
    const fullEvery = Math.max(1, Math.ceil(this.#o.lookaheadMs / this.#o.pollIntervalMs));
    const full = this.#polledUntil === null || this.#pollsSinceFull >= fullEvery;
    const after = full || this.#polledUntil === null ? undefined : new Date(this.#polledUntil);
    const due = await this.#o.triggerStore.findDue(new Date(until), this.#o.pollBatchSize, handlers, after, this.#holds);
    for (let i = 0; i < due.length; i++) {
      // A big answer is queued in chunks, letting due timers fire in between.
      if (i > 0 && i % ENQUEUE_CHUNK === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      this.#enqueue(due[i]!, 'poll');
    }
    this.#pollsSinceFull = full ? 1 : this.#pollsSinceFull + 1;
    // A full batch may have left triggers due at the last instant it returned: look there again.
    const last = due.length >= this.#o.pollBatchSize ? due[due.length - 1]?.nextRunAt : undefined;
    this.#polledUntil = last ? last.getTime() - 1 : until;
    return full;
  }

  /**
   * Slots still unclaimed `takeoverMs` after their time, whoever owns them: their instance died
   * (before its membership ran out), stalls, or is full. One query per delta poll, usually empty.
   */
  async #takeOverOverdue(now: number, handlers: string[]): Promise<void> {
    const overdue = await this.#o.triggerStore.findDue(new Date(now - this.#o.takeoverMs), this.#o.pollBatchSize, handlers, undefined, this.#holds);
    for (const trigger of overdue) this.#enqueue(trigger, 'poll');
  }

  /** Cluster-wide chores, done by whichever instance holds the maintenance lock. */
  async #maintain(now: number): Promise<void> {
    const lease = await this.#o.lockManager.acquire('maintenance', this.#o.instanceId, this.#o.leaseMs, this.#storeNow());
    if (!lease) return;
    try {
      await this.#recoverExpiredLeases();
      await this.#fireUnfiredDependents(now);
      if (now - this.#lastPurgeAt >= PURGE_EVERY_MS) {
        this.#lastPurgeAt = now;
        const removed = await this.#o.jobStore.purge(new Date(now - this.#o.jobRetentionMs));
        if (removed > 0) this.#o.logger.info({ removed }, 'purged jobs past retention');
      }
    } finally {
      await this.#o.lockManager.release(lease);
    }
  }

  // ─── Engine: firing ────────────────────────────────────────────────────────────────────────

  #clearInFlight(triggerId: string): void {
    if (this.#queued.get(triggerId)?.seq === IN_FLIGHT) this.#queued.delete(triggerId);
  }

  /**
   * Fire a batch of due slots. The job record is the claim: each slot's job is inserted first,
   * under the slot's unique key (in one store call where the store can), and only then is the
   * trigger advanced past the slot (again in one call), as a hint that any instance may repair.
   * An instance that dies between the two leaves a job (recovered as a stall) and a trigger still
   * at the slot, which the next instance to fire it finds taken and advances: no slot is lost,
   * whatever the instant of the crash. Occurrences that need more (a window, a concurrency
   * permit, no room here) go through `#admit` one by one, in the same order.
   */
  async #fireSlots(entries: SlotEntry[]): Promise<void> {
    try {
      await this.#takeSlots(entries);
    } catch (error) {
      // Not a store answer (those are handled per slot): a bug or a corrupt record. Report it and
      // let the next poll bring the slots again.
      for (const entry of entries) this.#clearInFlight(entry.trigger.id);
      this.#fail(new StoreError(`firing ${entries.length} slots failed: ${toError(error).message}`, { cause: error }));
    }
  }

  async #takeSlots(entries: SlotEntry[]): Promise<void> {
    const now = this.#now();
    const expiresAt = this.#leaseExpiry();
    const ready: Array<RunningJob<HandlerRegistration>> = [];
    const skips: Array<{ trigger: Trigger; claim: SlotClaim }> = [];
    let slot = new Date(Number.NaN);
    for (const entry of entries) {
      const { trigger } = entry;
      // Slots of a batch mostly share their instant (a herd): they share its Date too.
      if (slot.getTime() !== entry.slot) slot = new Date(entry.slot);
      let plan: { fireFor: Date | null; next: Date | null };
      try {
        plan = this.#misfirePlan(trigger, slot, now);
      } catch (error) {
        this.#clearInFlight(trigger.id);
        this.#fail(new StoreError(`firing ${trigger.id} at ${slot.toISOString()} failed: ${toError(error).message}`, { cause: error }));
        continue;
      }
      const fireFor = plan.fireFor;
      const claim: SlotClaim = {
        id: trigger.id,
        slot,
        expectedVersion: trigger.version,
        update: { nextRunAt: plan.next, lastRunAt: fireFor ?? slot, status: plan.next === null ? 'completed' : 'active', updatedAt: now },
      };
      if (fireFor === null) {
        // Skipped as a misfire: nothing to run, so nothing to lose; the advance alone decides.
        skips.push({ trigger, claim });
        continue;
      }
      // Keyed by the slot taken, not the one fired for (a late slot may fire for a later one):
      // every instance taking this slot, whenever, tries the same key. Its own copy of the
      // payload: the trigger copy is kept for the next slot, and a handler may change its payload.
      const draft: JobDraft = { source: 'schedule', key: this.#slotKey(claim.id, slot), scheduledFor: fireFor, runAt: fireFor, payload: cloneJson(trigger.payload), event: null, upstream: null };
      const registration = this.#registrationToStartNow(trigger, 'schedule', fireFor);
      if (registration && this.#reserve(registration)) {
        ready.push(this.#newRun(trigger, registration, draft, claim, entry.at, now, expiresAt));
        continue;
      }
      this.#track(
        this.#admit(asClaimed(trigger, claim), draft, claim).catch((error: unknown) => {
          this.#clearInFlight(claim.id);
          this.#fail(new StoreError(`firing ${claim.id} at ${fireFor.toISOString()} failed: ${toError(error).message}`, { cause: error }));
        }),
      );
    }
    await Promise.all([this.#insertAndAdvance(ready), this.#skipSlots(skips)]);
  }

  /**
   * The slots whose jobs start here: insert the jobs (the claims), advance their triggers, then
   * start them (or queue those prepared ahead). A slot found taken is someone else's: its trigger
   * is advanced for them if it still stands at the slot.
   */
  async #insertAndAdvance(runs: Array<RunningJob<HandlerRegistration>>): Promise<void> {
    if (runs.length === 0) return;
    let stored: Array<Job | null>;
    try {
      stored = await this.#retryStore(() => this.#insertJobs(runs.map((run) => run.job)));
    } catch (error) {
      // Nothing is known to be written: the triggers still stand at their slots for the next poll.
      for (const run of runs) this.#dropUnclaimed(run);
      this.#fail(new StoreError(`could not insert ${runs.length} jobs: ${toError(error).message}`, { cause: error }));
      return;
    }
    const held: Array<RunningJob<HandlerRegistration>> = [];
    const taken: Array<Promise<void>> = [];
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      if (stored[i]) held.push(run);
      else taken.push(this.#keyTaken(run, held));
    }
    if (taken.length > 0) await Promise.all(taken);
    if (held.length === 0) return;
    const won = await this.#claimSlots(held.map((run) => run.claim!));
    for (let i = 0; i < held.length; i++) {
      const run = held[i]!;
      const answer = won[i];
      if (answer === true) this.#hold(run, asClaimed(run.trigger!, run.claim!));
      // The job is the claim: it runs. Its trigger stands at the slot until the next instance to
      // fire it finds the key taken and advances it.
      else if (answer instanceof Error) this.#hold(run, null);
      else this.#track(this.#confirmLostAdvance(run));
    }
  }

  /**
   * A batch insert found a job's key taken: an earlier try of this very insert was stored but its
   * answer lost (then the job is ours and `held` gets it), or the slot is someone else's (then
   * its trigger is advanced for them, if it still stands there).
   */
  async #keyTaken(run: RunningJob<HandlerRegistration>, held: Array<RunningJob<HandlerRegistration>>): Promise<void> {
    try {
      const { existing, ours } = await this.#ownEarlierInsert(run.job);
      if (ours && existing) {
        const stored = new RunningJob(existing, run.registration, run.trigger, null, this.#onSettled, run.claim);
        stored.startAt = run.startAt;
        held.push(stored);
        return;
      }
      this.#unreserve(run.registration);
      if (existing) await this.#advanceForOther(run.trigger!, run.claim!, existing);
      else this.#clearInFlight(run.claim!.id);
    } catch (error) {
      this.#dropUnclaimed(run);
      this.#fail(new StoreError(`reading job ${run.job.key} failed: ${toError(error).message}`, { cause: error }));
    }
  }

  /** An attempt whose slot was not taken after all: its capacity back, its trigger left for the next poll. */
  #dropUnclaimed(run: RunningJob<HandlerRegistration>): void {
    this.#unreserve(run.registration);
    if (run.claim) this.#clearInFlight(run.claim.id);
  }

  /**
   * A slot is held (its job stored, its trigger advanced, or left for repair when `claimed` is
   * `null`): queue the trigger's next slot and start the attempt. A slot claimed ahead queues
   * its successor once it starts (one slot ahead at a time); meanwhile the in-flight marker holds
   * the trigger as the claim left it, so a poll does not queue that slot either.
   */
  #hold(run: RunningJob<HandlerRegistration>, claimed: Trigger | null): void {
    const id = run.job.triggerId;
    if (claimed && claimed.nextRunAt !== null && run.startAt > 0) {
      run.successor = claimed;
      const marker = this.#queued.get(id);
      if (marker && marker.seq === IN_FLIGHT) {
        marker.slot = claimed.nextRunAt.getTime();
        marker.version = claimed.version;
      }
    } else {
      // Not queued (its next slot is beyond the window, or it has none): the next polls bring it.
      if (claimed && claimed.nextRunAt !== null) this.#enqueue(claimed, 'successor');
      this.#clearInFlight(id);
    }
    this.#launch(run);
  }

  /** The advance of a slot whose job is stored here was refused: find out why, and run or withdraw the job. */
  async #confirmLostAdvance(run: RunningJob<HandlerRegistration>): Promise<void> {
    const outcome = await this.#advance(run.trigger!, run.claim!, run.job.scheduledFor, true);
    if (outcome.won) {
      this.#hold(run, outcome.trigger);
      return;
    }
    this.#dropUnclaimed(run);
    await this.#withdraw(run.job, outcome.why);
  }

  /**
   * Advance a trigger past a slot whose job this instance stored. Refused, the trigger is read
   * again: claimed past the slot already (another instance found the key taken and advanced it,
   * and maybe claimed later slots since) the slot is ours all the same; still at the slot
   * (changed meanwhile, say a payload edit) the advance is tried on the new version; moved
   * elsewhere, the job runs all the same; paused or removed, the slot was withdrawn before it was
   * taken. A store error leaves the trigger at the slot for repair, and the
   * job stands. `refusedOnce`: the first advance was already tried (in a batch) and refused.
   */
  async #advance(
    trigger: Trigger,
    claim: SlotClaim,
    fireFor: Date,
    refusedOnce: boolean,
  ): Promise<{ won: true; trigger: Trigger | null } | { won: false; why: string }> {
    let current = trigger;
    let attempt = claim;
    for (let round = 0; round < 4; round++) {
      try {
        if ((round > 0 || !refusedOnce) && (await this.#o.triggerStore.claimSlot(attempt.id, attempt.slot, attempt.expectedVersion, attempt.update))) {
          return { won: true, trigger: asClaimed(current, attempt) };
        }
        const fresh = await this.#o.triggerStore.get(claim.id);
        if (!fresh) return { won: false, why: 'removed' };
        // Claimed past this slot already: by an instance that found its key taken (a repair), and
        // maybe for later slots since. A user's change leaves `lastRunAt` where it was, before it.
        if (fresh.lastRunAt !== null && fresh.lastRunAt.getTime() >= fireFor.getTime()) {
          return { won: true, trigger: fresh.status === 'active' ? fresh : null };
        }
        if (fresh.status === 'paused') return { won: false, why: 'paused' };
        // Moved elsewhere by a change (a new schedule), or, on a server without atomic updates, by
        // a racing write undoing another: the slot was due when its job was written, so it runs
        // (as a slot claimed ahead does); only a pause or a removal withdraws it.
        if (fresh.status !== 'active' || fresh.nextRunAt?.getTime() !== claim.slot.getTime()) return { won: true, trigger: null };
        current = fresh;
        attempt = { ...claim, expectedVersion: fresh.version };
      } catch (error) {
        this.#o.logger.warn({ triggerId: claim.id, error: toError(error).message }, 'advancing a trigger past a taken slot failed; the next poll repairs it');
        return { won: true, trigger: null };
      }
    }
    return { won: true, trigger: null };
  }

  /**
   * Another instance holds this slot's job: advance the trigger past the slot for it, in case it
   * died before doing so (its job is recovered as a stall). A refused advance means it did.
   */
  async #advanceForOther(trigger: Trigger, claim: SlotClaim, existing: Job): Promise<void> {
    const repair: SlotClaim = { ...claim, update: { ...claim.update, lastRunAt: existing.scheduledFor } };
    try {
      if (await this.#o.triggerStore.claimSlot(repair.id, repair.slot, repair.expectedVersion, repair.update)) {
        this.#o.logger.info({ triggerId: claim.id, slot: claim.slot.toISOString(), jobId: existing.id }, 'advanced a trigger past a slot another instance took');
        this.#clearInFlight(claim.id);
        if (repair.update.nextRunAt !== null) this.#enqueue(asClaimed(trigger, repair), 'successor');
        return;
      }
    } catch (error) {
      this.#o.logger.warn({ triggerId: claim.id, error: toError(error).message }, 'advancing a trigger past a taken slot failed; the next poll tries again');
    }
    this.#clearInFlight(claim.id);
  }

  /** A stored job whose slot was withdrawn before it was taken (the trigger was paused, changed or removed): recorded `skipped`, never run. */
  async #withdraw(job: Job, why: string): Promise<Job | null> {
    if (job.status === 'skipped') return job;
    const at = this.#now();
    assertTransition(job.status, 'skipped', job.id);
    const condition: JobCondition = job.status === 'running' ? runningCondition(job.lease?.token ?? job.fence) : { status: [job.status] };
    try {
      const written = await this.#retryStore(() =>
        this.#o.jobStore.update(
          job.id,
          condition,
          { status: 'skipped', lease: null, attempts: 0, startedAt: null, finishedAt: at, dependentsFired: true, gate: null },
          [historyEntry('skipped', at, this.#o.instanceId, `slot withdrawn: the trigger was ${why} while its slot was being taken; not run`)],
        ),
      );
      if (written) this.#emit('job:skipped', written);
      return written;
    } catch (error) {
      // Left running under this lease, which nobody renews: recovered (and run) after it expires.
      this.#fail(new StoreError(`withdrawing job ${job.id} failed: ${toError(error).message}`, { cause: error }));
      return null;
    }
  }

  /** Slots skipped as misfires: the advance alone. */
  async #skipSlots(skips: Array<{ trigger: Trigger; claim: SlotClaim }>): Promise<void> {
    if (skips.length === 0) return;
    const won = await this.#claimSlots(skips.map((skip) => skip.claim));
    for (let i = 0; i < skips.length; i++) {
      const { trigger, claim } = skips[i]!;
      this.#clearInFlight(claim.id);
      if (won[i] !== true) continue;
      if (claim.update.nextRunAt !== null) this.#enqueue(asClaimed(trigger, claim), 'successor');
      this.#o.logger.info({ triggerId: claim.id, slot: claim.slot, skippedTo: claim.update.nextRunAt }, 'misfired slot skipped');
    }
  }

  /**
   * The job key of a trigger's slot. Slots that fire together mostly share their instant (a cron
   * herd, a backlog of one-shots), so the last instant's ISO form is kept rather than made again.
   */
  #slotKey(triggerId: string, slot: Date): string {
    const at = slot.getTime();
    if (at !== this.#lastSlotIso.at) this.#lastSlotIso = { at, iso: slot.toISOString() };
    return `slot:${triggerId}:${this.#lastSlotIso.iso}`;
  }

  /** Whether each claim won, or the error that stopped it. */
  async #claimSlots(claims: SlotClaim[]): Promise<Array<boolean | Error>> {
    const store = this.#o.triggerStore;
    if (store.claimSlots) {
      try {
        return await store.claimSlots(claims);
      } catch (error) {
        return claims.map(() => toError(error));
      }
    }
    const settled = await Promise.allSettled(claims.map((claim) => store.claimSlot(claim.id, claim.slot, claim.expectedVersion, claim.update)));
    return settled.map((result) => (result.status === 'fulfilled' ? result.value !== null : toError(result.reason)));
  }

  /**
   * The attempt of a won slot that can start here: its job record, running with a lease. A slot
   * claimed ahead (`startAt` still to come) is prepared: its job says it starts at `startAt`, and
   * it waits in `#prepared` until then.
   */
  #newRun(
    trigger: Trigger,
    registration: HandlerRegistration,
    draft: JobDraft,
    claim: SlotClaim,
    startAt: number,
    now: Date,
    expiresAt: Date,
  ): RunningJob<HandlerRegistration> {
    const ahead = startAt > now.getTime();
    const startsAt = !ahead ? now : startAt === draft.scheduledFor.getTime() ? draft.scheduledFor : new Date(startAt);
    const run = new RunningJob(this.#startingJob(trigger, registration, draft, now, expiresAt, startsAt), registration, trigger, null, this.#onSettled, claim);
    if (ahead) run.startAt = startAt;
    return run;
  }

  /** A written attempt goes: started now, or (prepared ahead) queued for its start time. */
  #launch(run: RunningJob<HandlerRegistration>): void {
    this.#emit('job:scheduled', run.job);
    if (run.startAt === 0) {
      this.#startRun(run);
      return;
    }
    this.#running.add(run);
    if (this.#state !== 'running') {
      // Written while the instance stops: handed back for its own time, like the prepared ones.
      run.abort({ kind: 'shutdown' });
      return;
    }
    this.#prepared.push(run);
    this.#armRenewals(this.#renewalDue(run));
    if (run.startAt < this.#startTimerAt) this.#armStarts();
  }

  /** The attempt of a job running (or prepared) here, if any; a walk of the list, which only a cancel does. */
  #runningJob(jobId: string): RunningJob<HandlerRegistration> | undefined {
    for (let run = this.#running.first; run !== null; run = run.nextLinked) if (run.job.id === jobId) return run;
    return undefined;
  }

  /** Whether a slot of this trigger may be claimed ahead of its time here: its handler can run here now. */
  #canPrepare(trigger: Trigger): boolean {
    const registration = this.#handlers.get(trigger.handler);
    return registration !== undefined && registration.invalid === null;
  }

  /**
   * A prepared attempt starts (or will not): queue its trigger's next slot, unless the trigger
   * changed here meanwhile (then the change queued it already).
   */
  #releaseSuccessor(run: RunningJob<HandlerRegistration>): void {
    const successor = run.successor;
    if (!successor) return;
    run.successor = null;
    const marker = this.#queued.get(successor.id);
    if (!marker || marker.seq !== IN_FLIGHT || marker.version !== successor.version) return;
    this.#queued.delete(successor.id);
    this.#enqueue(successor, 'successor');
  }

  #armStarts(): void {
    const head = this.#prepared.peek();
    if (!head || this.#startsScheduled) return;
    if (this.#startTimer && this.#startTimerAt <= head.startAt) return;
    this.#startTimer?.cancel();
    this.#startTimerAt = head.startAt;
    this.#startTimer = this.#o.clock.setTimer(this.#onStartTimer, Math.max(0, head.startAt - this.#o.clock.now()));
  }

  readonly #onStartTimer = (): void => {
    this.#startTimer = null;
    this.#startTimerAt = Number.POSITIVE_INFINITY;
    this.#startPrepared();
  };

  /**
   * Start the prepared attempts whose time has come, in order. Starting one is cheap (its slot is
   * claimed and its job written already), so a herd starts in few turns: as many as fit in
   * `START_TURN_MS` per turn. The ends of attempts that finish meanwhile wait (`#takeEnds`).
   */
  readonly #startPrepared = (): void => {
    this.#startsScheduled = false;
    const now = this.#o.clock.now();
    const began = performance.now();
    let started = 0;
    for (let run = this.#prepared.peek(); run && run.startAt <= now; run = this.#prepared.peek()) {
      if ((started & 63) === 63 && performance.now() - began > START_TURN_MS) {
        this.#startsScheduled = true;
        setImmediate(this.#startPrepared);
        return;
      }
      this.#prepared.shift();
      // Cancelled, or its instance stopping, while it waited: its end is recorded already.
      if (run.settled) continue;
      if (run.successor) this.#successors.push(run);
      run.startedAt = now;
      this.#emit('job:started', run.job);
      this.#execute(run);
      started += 1;
    }
    // The next slots of the triggers that started are queued once every due start is out.
    const successors = this.#successors;
    this.#successors = [];
    for (const run of successors) this.#releaseSuccessor(run);
    this.#armStarts();
  };

  /**
   * An insert found the job's key taken: another instance won the occurrence, or an earlier try of
   * this very insert was stored but its answer was lost. Returns the stored job with that key and
   * whether it is this job still waiting to run (same id, running under this lease): only then is
   * it ours to start rather than to leave for lease recovery.
   */
  async #ownEarlierInsert(job: Job): Promise<{ existing: Job | null; ours: boolean }> {
    const existing = await this.#o.jobStore.getByKey(job.key);
    const ours = existing !== null && existing.id === job.id && existing.status === 'running' && existing.lease?.token === job.lease?.token;
    return { existing, ours };
  }

  #insertJobs(jobs: Job[]): Promise<Array<Job | null>> {
    const store = this.#o.jobStore;
    if (store.insertMany) return store.insertMany(jobs);
    return Promise.all(jobs.map((job) => store.insert(job)));
  }

  /** The handler to start an occurrence with here and now, room aside: none when it needs a permit or its window refuses it. */
  #registrationToStartNow(trigger: Trigger, source: JobSource, scheduledFor: Date): HandlerRegistration | undefined {
    if (this.#state !== 'running' || permitLimit(trigger) !== null) return undefined;
    if (source !== 'manual' && trigger.window && !isInWindow(trigger.window, scheduledFor)) return undefined;
    const registration = this.#handlers.get(trigger.handler);
    return registration !== undefined && registration.invalid === null ? registration : undefined;
  }

  /**
   * A job record for an occurrence that starts here now: running, attempt 1, with a lease. One
   * literal, every field spelled out: this runs for every fire.
   */
  #startingJob(trigger: Trigger, registration: HandlerRegistration | null, draft: JobDraft, now: Date, expiresAt: Date, startsAt: Date = now): Job {
    const instanceId = this.#o.instanceId;
    const retry = trigger.retry ?? registration?.retry ?? this.#o.defaultRetry;
    return {
      id: newId(),
      key: draft.key,
      triggerId: trigger.id,
      handler: trigger.handler,
      payload: draft.payload,
      source: draft.source,
      scheduledFor: draft.scheduledFor,
      runAt: draft.runAt,
      status: 'running',
      priority: trigger.priority,
      attempts: 1,
      maxAttempts: retry.attempts,
      stalls: 0,
      maxStalls: trigger.maxStalls ?? registration?.maxStalls ?? this.#o.defaultMaxStalls,
      timeoutMs: trigger.timeoutMs ?? registration?.timeoutMs ?? this.#o.defaultTimeoutMs,
      backoff: retry.backoff ?? null,
      permitLimit: permitLimit(trigger),
      nextAttemptAt: null,
      result: null,
      error: null,
      metrics: jobMetrics(Math.max(0, startsAt.getTime() - draft.runAt.getTime())),
      history: [
        { status: 'pending', at: now, instanceId, reason: reasonFor(draft.source) },
        { status: 'running', at: now, instanceId, reason: startsAt === now ? 'attempt 1' : 'attempt 1, claimed ahead: starts at its slot' },
      ],
      instanceId,
      lease: { owner: instanceId, token: 1, expiresAt },
      fence: 1,
      event: draft.event,
      upstream: draft.upstream,
      gate: null,
      cancelRequested: false,
      dependentsFired: false,
      createdAt: now,
      startedAt: startsAt,
      finishedAt: null,
    };
  }

  /**
   * Decide what a (possibly late) slot fires and where the trigger goes next. The next slot is
   * always derived from slots, never from `now`, so every instance computes the same keys.
   */
  #misfirePlan(trigger: Trigger, slot: Date, now: Date): { fireFor: Date | null; next: Date | null } {
    const bounds = { startAt: trigger.startAt, endAt: trigger.endAt };
    const following = nextSlotAfter(trigger.schedule, bounds, slot);
    const lateBy = now.getTime() - slot.getTime();
    if (lateBy <= this.#o.misfireGraceMs) return { fireFor: slot, next: following };
    // Walk the missed slots up to now (bounded), remembering the last missed one.
    const missed: Date[] = [slot];
    let cursor = following;
    while (cursor && cursor.getTime() <= now.getTime()) {
      missed.push(cursor);
      if (missed.length > this.#o.maxMisfireRuns + 1) missed.shift();
      cursor = nextSlotAfter(trigger.schedule, bounds, cursor);
    }
    switch (trigger.misfire) {
      case 'skip':
        return { fireFor: null, next: cursor };
      case 'run-once':
        return { fireFor: missed[missed.length - 1]!, next: cursor };
      case 'run-all': {
        // Keep the newest `maxMisfireRuns` missed slots: fire the oldest of them now, the rest follow.
        const keep = missed.slice(-this.#o.maxMisfireRuns);
        return { fireFor: keep[0]!, next: keep[1] ?? cursor };
      }
    }
  }

  /**
   * Turn a due occurrence into a job: apply the window and the overlap/concurrency policy, insert
   * the record (running with a lease when this instance has room, else pending) and run it. With
   * `slot`, the occurrence is a scheduled slot and the insert is its claim (see `#fireSlots`).
   */
  async #admit(trigger: Trigger, draft: JobDraft, slot: SlotClaim | null = null): Promise<Job> {
    const now = this.#now();
    if (draft.source !== 'manual' && trigger.window && !isInWindow(trigger.window, draft.scheduledFor)) {
      return this.#insertSkipped(trigger, draft, now, 'outside the trigger window', slot);
    }
    const limit = permitLimit(trigger);
    let permit: Lease | null = null;
    if (limit !== null && this.#state === 'running') {
      permit = await this.#acquirePermit(trigger.id, limit, now);
      if (!permit) {
        if (trigger.overlap === 'skip') return this.#insertSkipped(trigger, draft, now, 'overlap: previous run still active', slot);
        if (trigger.overlap === 'queue') {
          const active = await this.#o.jobStore.countActive(trigger.id);
          if (active.pending > 0) return this.#insertSkipped(trigger, draft, now, 'overlap: a run is already queued', slot);
        }
        return this.#insertPending(trigger, draft, now, trigger.id, slot);
      }
    }
    const registration = this.#handlers.get(trigger.handler);
    // A job never starts before its time: one not due yet (a slot claimed ahead) waits as pending.
    const due = draft.runAt.getTime() <= now.getTime();
    if (!registration || registration.invalid || this.#state !== 'running' || !due || !this.#reserve(registration)) {
      if (permit) await this.#releasePermit(permit);
      return this.#insertPending(trigger, draft, now, limit === null ? null : trigger.id, slot);
    }
    const job = this.#startingJob(trigger, registration, draft, now, this.#leaseExpiry());
    let stored: { job: Job; ours: boolean };
    try {
      stored = await this.#storeOccurrence(trigger, job, slot);
    } catch (error) {
      this.#unreserve(registration);
      if (permit) await this.#releasePermit(permit);
      throw error;
    }
    if (!stored.ours) {
      this.#unreserve(registration);
      if (permit) await this.#releasePermit(permit);
      return stored.job;
    }
    this.#emit('job:scheduled', stored.job);
    this.#startRun(new RunningJob(stored.job, registration, trigger, permit, this.#onSettled, null));
    return stored.job;
  }

  /**
   * Insert an occurrence's job. `ours`: this instance wrote it (or an earlier try of this very
   * insert was stored but its answer lost) and, for a slot, holds the slot: it is to be reported
   * and run here. Otherwise `job` is what stands under its key (another instance's), or the
   * withdrawn job.
   */
  async #storeOccurrence(trigger: Trigger, job: Job, slot: SlotClaim | null): Promise<{ job: Job; ours: boolean }> {
    let stored = await this.#insertWithRetry(job);
    if (!stored) {
      const { existing, ours } = await this.#ownEarlierInsert(job);
      if (!ours || !existing) {
        if (slot && existing) await this.#advanceForOther(trigger, slot, existing);
        else if (slot) this.#clearInFlight(slot.id);
        return { job: existing ?? job, ours: false };
      }
      stored = existing;
    }
    if (!slot) return { job: stored, ours: true };
    const outcome = await this.#advance(trigger, slot, job.scheduledFor, false);
    if (outcome.won) {
      this.#clearInFlight(slot.id);
      if (outcome.trigger && outcome.trigger.nextRunAt !== null) this.#enqueue(outcome.trigger, 'successor');
      return { job: stored, ours: true };
    }
    this.#clearInFlight(slot.id);
    return { job: (await this.#withdraw(stored, outcome.why)) ?? stored, ours: false };
  }

  async #insertSkipped(trigger: Trigger, draft: JobDraft, now: Date, reason: string, slot: SlotClaim | null): Promise<Job> {
    const job = this.#waitingJob(trigger, draft, now, {
      status: 'skipped',
      permitLimit: null,
      finishedAt: now,
      dependentsFired: true,
      history: [historyEntry('pending', now, this.#o.instanceId, reasonFor(draft.source)), historyEntry('skipped', now, this.#o.instanceId, reason)],
    });
    const stored = await this.#storeOccurrence(trigger, job, slot);
    if (stored.ours) this.#emit('job:skipped', stored.job);
    return stored.job;
  }

  async #insertPending(trigger: Trigger, draft: JobDraft, now: Date, gate: string | null, slot: SlotClaim | null = null): Promise<Job> {
    const job = this.#waitingJob(trigger, draft, now, {
      status: 'pending',
      gate,
      history: [historyEntry('pending', now, this.#o.instanceId, reasonFor(draft.source) + (gate ? '; waiting for a concurrency permit' : ''))],
    });
    const { job: stored, ours } = await this.#storeOccurrence(trigger, job, slot);
    if (!ours) return stored;
    this.#emit('job:scheduled', stored);
    this.#notePending();
    if (gate === null && draft.runAt.getTime() > now.getTime()) this.#wakeAt(draft.runAt.getTime());
    else this.#kickDispatch();
    return stored;
  }

  /**
   * Run a store write, retrying errors a few times with backoff (about 3 s in all). Used for a
   * job's final write: while the job is still held, its lease is renewed, so a short outage does
   * not turn a finished job into a recovered one that runs again. The write stays fenced, so a
   * retry after the lease was lost is refused, not harmful.
   */
  async #retryStore<T>(write: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (attempt >= 4) throw error;
        await this.#sleep(Math.min(2000, RETRY_FIRST_DELAY_MS * 2 ** attempt));
      }
    }
  }

  /** Insert, retrying store errors a few times: the slot is already claimed, so the job must land. */
  async #insertWithRetry(job: Job): Promise<Job | null> {
    try {
      return await this.#retryStore(() => this.#o.jobStore.insert(job));
    } catch (error) {
      throw new StoreError(`could not insert job ${job.key}: ${toError(error).message}`, { cause: error });
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#o.clock.setTimer(resolve, ms));
  }

  /**
   * A job record for an occurrence that does not start here now: `pending` (or `skipped`), no
   * attempt, no lease; `fields` says the rest. Built from `#startingJob` (off the hot path).
   */
  #waitingJob(trigger: Trigger, draft: JobDraft, now: Date, fields: Partial<Job>): Job {
    const started = this.#startingJob(trigger, this.#handlers.get(trigger.handler) ?? null, draft, now, now);
    const notStarted: Partial<Job> = {
      status: 'pending',
      attempts: 0,
      fence: 0,
      lease: null,
      instanceId: null,
      startedAt: null,
      metrics: jobMetrics(null),
      history: [],
    };
    return Object.assign(started, notStarted, fields);
  }

  // ─── Engine: capacity and dispatch of pending jobs ─────────────────────────────────────────

  #reserve(registration: HandlerRegistration): boolean {
    if (this.#runningCount >= this.#o.concurrency) return false;
    if (registration.concurrency !== null && registration.running >= registration.concurrency) return false;
    this.#runningCount += 1;
    registration.running += 1;
    return true;
  }

  #unreserve(registration: HandlerRegistration): void {
    this.#runningCount -= 1;
    registration.running -= 1;
  }

  #usableHandlerNames(): string[] {
    const names: string[] = [];
    for (const registration of this.#handlers.values()) if (!registration.invalid) names.push(registration.name);
    return names;
  }

  #handlersWithRoom(): HandlerRegistration[] {
    const out: HandlerRegistration[] = [];
    for (const registration of this.#handlers.values()) {
      if (registration.invalid) continue;
      if (registration.concurrency !== null && registration.running >= registration.concurrency) continue;
      out.push(registration);
    }
    return out;
  }

  /** Note that pending jobs may be waiting, so the next dispatch looks for them. */
  #notePending(): void {
    this.#pendingEpoch += 1;
  }

  /**
   * Start pending jobs if there may be any. Finishing a job only looks when pending work was noted
   * since the last empty look, so the steady state costs no store round trip beyond claim, insert
   * and completion; the poll looks every period regardless (other instances add pending jobs too).
   */
  #kickDispatch(force = false): void {
    if (this.#state !== 'running') return;
    if (!force && this.#pendingEpoch === this.#emptyAtEpoch) return;
    if (this.#dispatching) {
      this.#dispatchAgain = true;
      return;
    }
    this.#track(this.#dispatchPending());
  }

  /** Start due pending jobs (retries, queued runs, recovered jobs) while there is room. */
  async #dispatchPending(): Promise<void> {
    this.#dispatching = true;
    try {
      do {
        this.#dispatchAgain = false;
        while (this.#state === 'running' && this.#runningCount < this.#o.concurrency) {
          const candidates = this.#handlersWithRoom();
          if (candidates.length === 0) break;
          // Hold a place for every candidate handler while the claim is in flight, so no other
          // path can fill them up meanwhile; give back all but the one that is used.
          this.#runningCount += 1;
          for (const c of candidates) c.running += 1;
          let job: Job | null = null;
          const epoch = this.#pendingEpoch;
          try {
            const now = this.#now();
            job = await this.#o.jobStore.claimPending(now, {
              handlers: candidates.map((c) => c.name),
              owner: this.#o.instanceId,
              leaseExpiresAt: this.#leaseExpiry(),
              history: historyEntry('running', now, this.#o.instanceId, 'claimed'),
              gate: null,
            });
          } finally {
            for (const c of candidates) if (c.name !== job?.handler) c.running -= 1;
            if (!job) this.#runningCount -= 1;
          }
          if (!job) {
            this.#emptyAtEpoch = epoch;
            break;
          }
          await this.#startClaimed(job, this.#handlers.get(job.handler)!, null);
        }
      } while (this.#dispatchAgain && this.#state === 'running');
    } catch (error) {
      this.#fail(new StoreError(`dispatching pending jobs failed: ${toError(error).message}`, { cause: error }));
    } finally {
      this.#dispatching = false;
    }
  }

  /** Start pending jobs that wait for a concurrency permit of their trigger. */
  async #dispatchGated(now: number, handlers: string[]): Promise<void> {
    const triggerIds = await this.#o.jobStore.gatedTriggerIds(new Date(now), handlers, 100);
    for (const triggerId of triggerIds) await this.#tryStartGated(triggerId);
  }

  async #tryStartGated(triggerId: string): Promise<void> {
    if (this.#state !== 'running') return;
    const trigger = await this.#o.triggerStore.get(triggerId);
    const registration = trigger ? this.#handlers.get(trigger.handler) : undefined;
    if (!trigger || !registration || registration.invalid) return;
    const limit = permitLimit(trigger) ?? 1;
    const now = this.#now();
    const permit = await this.#acquirePermit(triggerId, limit, now);
    if (!permit) return;
    if (!this.#reserve(registration)) {
      await this.#releasePermit(permit);
      return;
    }
    let job: Job | null = null;
    try {
      job = await this.#o.jobStore.claimPending(now, {
        handlers: [registration.name],
        owner: this.#o.instanceId,
        leaseExpiresAt: this.#leaseExpiry(),
        history: historyEntry('running', now, this.#o.instanceId, 'claimed with a concurrency permit'),
        gate: triggerId,
      });
    } finally {
      if (!job) {
        this.#unreserve(registration);
        await this.#releasePermit(permit);
      }
    }
    if (job) await this.#startClaimed(job, registration, permit);
  }

  /** A job was claimed from `pending` (lease set, status running): count the attempt and run it. */
  async #startClaimed(claimed: Job, registration: HandlerRegistration, permit: Lease | null): Promise<void> {
    const now = this.#now();
    const token = claimed.lease?.token ?? claimed.fence;
    const started = await this.#o.jobStore.update(
      claimed.id,
      { status: ['running'], leaseToken: token },
      {
        attempts: claimed.attempts + 1,
        startedAt: now,
        nextAttemptAt: null,
        instanceId: this.#o.instanceId,
        metrics: jobMetrics(Math.max(0, now.getTime() - claimed.runAt.getTime())),
      },
    );
    if (!started) {
      this.#unreserve(registration);
      if (permit) await this.#releasePermit(permit);
      return;
    }
    const trigger = await this.#o.triggerStore.get(started.triggerId);
    this.#startRun(new RunningJob(started, registration, trigger, permit, this.#onSettled, null));
  }

  // ─── Engine: permits (cluster-wide concurrency caps per trigger) ──────────────────────────

  async #acquirePermit(triggerId: string, limit: number, now: Date): Promise<Lease | null> {
    for (let k = 0; k < limit; k++) {
      const lease = await this.#o.lockManager.acquire(`permit:${triggerId}:${k}`, this.#o.instanceId, this.#o.leaseMs, this.#storeNow());
      if (lease) return lease;
    }
    return null;
  }

  async #releasePermit(permit: Lease): Promise<void> {
    try {
      await this.#o.lockManager.release(permit);
    } catch (error) {
      // The permit expires on its own after leaseMs; log and move on.
      this.#o.logger.warn({ key: permit.key, error: toError(error).message }, 'releasing a permit failed');
    }
  }

  // ─── Engine: running a job ─────────────────────────────────────────────────────────────────

  #startRun(run: RunningJob<HandlerRegistration>): void {
    this.#running.add(run);
    this.#emit('job:started', run.job);
    // With a store that answers in microtasks and handlers that return at once, job after job
    // could start without the event loop ever turning (a backlog, or a listener that starts the
    // next run): past a budget per turn, the attempt starts on the next turn instead.
    if (this.#deferredStarts.length === 0 && this.#spendTurnBudget()) this.#execute(run);
    else this.#deferStart(run);
  }

  #deferStart(run: RunningJob<HandlerRegistration>): void {
    this.#deferredStarts.push(run);
    if (this.#deferredScheduled) return;
    this.#deferredScheduled = true;
    setImmediate(this.#startDeferred);
  }

  /** Start the attempts that waited for a turn, in order, as far as this turn's budget goes. */
  readonly #startDeferred = (): void => {
    this.#deferredScheduled = false;
    this.#turnStarts = 0;
    const waiting = this.#deferredStarts;
    this.#deferredStarts = [];
    for (const run of waiting) {
      if (this.#deferredStarts.length === 0 && this.#spendTurnBudget()) this.#execute(run);
      else this.#deferStart(run);
    }
  };

  /** The attempt is over and recorded: free its capacity, and let what waited for it go on. */
  #release(run: RunningJob<HandlerRegistration>): void {
    this.#running.delete(run);
    this.#unreserve(run.registration);
    run.end();
    this.#kickDispatch();
    this.#onCapacity();
    if (run.permit) void this.#tryStartGated(run.job.triggerId).catch((error: unknown) => this.#fail(toError(error)));
  }

  /** Count a start against this event-loop turn's budget; `false` once it is spent. */
  #spendTurnBudget(): boolean {
    if (!this.#turnResetScheduled) {
      this.#turnResetScheduled = true;
      setImmediate(() => {
        this.#turnStarts = 0;
        this.#turnResetScheduled = false;
      });
    }
    this.#turnStarts += 1;
    return this.#turnStarts <= FIRE_BATCH;
  }

  /** `#renew` as a function the job context can hold (one per scheduler, not one per job). */
  readonly #renewRun = (run: RunningJob<HandlerRegistration>): Promise<void> => this.#renew(run);

  /**
   * Renew one running job's lease (and its permit); abort it when the lease is lost or a cancel was
   * requested. One renewal per job at a time; its round trip is measured (`#renewalTimes`).
   */
  #renew(run: RunningJob<HandlerRegistration>): Promise<void> {
    if (run.reason) return Promise.resolve();
    return (run.renewal ??= this.#renewOnce(run));
  }

  async #renewOnce(run: RunningJob<HandlerRegistration>): Promise<void> {
    const { job } = run;
    const began = this.#o.clock.now();
    const expiresAt = this.#leaseExpiry();
    try {
      const current = await this.#o.jobStore.renewLease(job.id, run.token, expiresAt);
      this.#noteRenewal(this.#o.clock.now() - began);
      if (!current) {
        run.abort({ kind: 'lease-lost' });
        this.#emit('lease:lost', { jobId: job.id, token: run.token, reason: 'expired' });
        return;
      }
      run.leaseExpiresAt = Math.max(run.leaseExpiresAt, expiresAt.getTime());
      run.renewRetryAt = 0;
      if (current.cancelRequested) run.abort({ kind: 'cancel' });
      if (run.permit) run.permit = (await this.#o.lockManager.renew(run.permit, this.#o.leaseMs, this.#storeNow())) ?? run.permit;
    } catch (error) {
      // Keep running through a store outage while the lease lasts (the sweep aborts the attempt
      // once it has run out): the final write is fenced, so a job that was taken over meanwhile
      // cannot overwrite the new holder's record.
      run.renewRetryAt = this.#o.clock.now() + Math.max(RENEW_RETRY_MIN_MS, Math.floor(this.#o.leaseMs / 10));
      this.#fail(new StoreError(`lease renewal of job ${job.id} failed: ${toError(error).message}`, { cause: error }));
    } finally {
      run.renewal = null;
      if (run.linked && !run.settled) this.#armRenewals(this.#renewalDue(run));
    }
  }

  /** Note a renewal's round trip; report one that took most of the lease. */
  #noteRenewal(roundTripMs: number): void {
    this.#renewalTimes.record(roundTripMs);
    const now = this.#o.clock.now();
    if (roundTripMs * 2 > this.#o.leaseMs && now - this.#lastSlowRenewalAt >= this.#o.leaseMs) {
      this.#lastSlowRenewalAt = now;
      this.#o.logger.warn({ roundTripMs, leaseMs: this.#o.leaseMs }, 'lease renewal took more than half the lease');
      this.#emit('lease:renewal-slow', { roundTripMs, leaseMs: this.#o.leaseMs, jobs: this.#running.size });
    }
  }

  /** When (local clock) a run's lease is to be renewed: a margin before it runs out, wider when renewals are slow. */
  #renewalDue(run: RunningJob<HandlerRegistration>): number {
    const due = run.leaseExpiresAt - this.#clockOffsetMs - renewalMargin(this.#o.leaseMs, this.#renewalTimes.recentMax());
    return Math.max(due, run.renewRetryAt);
  }

  /**
   * Arm the renewal timer for `at` (local clock) unless it is armed for earlier already. One timer
   * per instance, not one per job: a short job costs no timer at all.
   */
  #armRenewals(due: number): void {
    if (this.#running.size === 0 || this.#state === 'stopped') {
      this.#renewTimer?.cancel();
      this.#renewTimer = null;
      this.#renewTimerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (!Number.isFinite(due) || (this.#renewTimer && this.#renewTimerAt <= due)) return;
    this.#renewTimer?.cancel();
    this.#renewTimerAt = due;
    this.#renewTimer = this.#o.clock.setTimer(this.#onRenewTimer, Math.max(0, due - this.#o.clock.now()));
  }

  readonly #onRenewTimer = (): void => {
    this.#renewTimer = null;
    this.#renewTimerAt = Number.POSITIVE_INFINITY;
    const next = this.#renewalSweep();
    this.#armRenewals(next);
  };

  /**
   * Walk the running attempts: renew every lease due within the next sixth of a lease,
   * so one sweep serves many jobs, and abort every unfinished attempt whose lease ran out (half of
   * `leaseGraceMs` ago) while its renewal was still on its way or failed; it is handed back before
   * anyone would recover it (recovery waits the whole grace). Returns when the next renewal or
   * give-up is due.
   */
  #renewalSweep(): number {
    const now = this.#o.clock.now();
    const soon = now + Math.floor(this.#o.leaseMs / 6);
    let next = Number.POSITIVE_INFINITY;
    // The holder gives up half the grace past the expiry: a renewal answered late still counts (the
    // store refuses it only once the job was recovered), and recovery waits the whole grace.
    const giveUpAfter = Math.floor(this.#o.leaseGraceMs / 2);
    for (let run = this.#running.first; run !== null; run = run.nextLinked) {
      // A settled attempt's end is being written: that write is fenced by the lease token, not by
      // the expiry, and a renewal racing it would be a second write to the same record (which a
      // server without atomic updates can lose one of).
      if (run.reason || run.settled) continue;
      const expiry = run.leaseExpiresAt - this.#clockOffsetMs + giveUpAfter;
      if (expiry <= now) {
        this.#o.logger.warn({ jobId: run.job.id, expiredAt: new Date(run.leaseExpiresAt).toISOString() }, 'lease ran out before it could be renewed; handing the job back');
        this.#emit('lease:lost', { jobId: run.job.id, token: run.token, reason: 'the lease ran out before a renewal came back' });
        run.abort({ kind: 'lease-expiring' });
        continue;
      }
      if (run.renewal) {
        next = Math.min(next, expiry);
        continue;
      }
      const due = this.#renewalDue(run);
      if (due <= soon) {
        // Not tracked for `stop()`: a renewal the store never answers must not hold a stop up; its
        // attempt is aborted when the lease runs out, and the answer, if it comes, finds it gone.
        void this.#renew(run);
        next = Math.min(next, expiry);
      } else {
        next = Math.min(next, due);
      }
    }
    return next;
  }

  /**
   * Start one attempt. Its end comes back through `#onSettled`: callbacks rather than an async
   * function, as this runs for every job and each promise or suspended frame is garbage to collect.
   */
  #execute(run: RunningJob<HandlerRegistration>): void {
    // Stopped (a cancel, a stop) while it waited for its turn: its end is recorded already.
    if (run.settled) return;
    const { job, registration } = run;
    if (run.startAt === 0) run.startedAt = this.#o.clock.now();
    if (job.timeoutMs !== null) {
      const limit = job.timeoutMs;
      run.timeout = this.#o.clock.setTimer(() => run.abort({ kind: 'timeout', error: new JobTimeoutError(limit) }), limit);
    }
    this.#armRenewals(this.#renewalDue(run));
    if (registration.invalid) {
      run.settle({ ok: false, error: registration.invalid, metrics: zeroMetrics() });
      return;
    }
    run.begin();
    // The engine stops waiting on abort itself, so the runner need not watch the signal (and an
    // inline handler that never reads it never pays for creating one).
    const request: RunRequest = { handler: registration.handler, context: new RunContext(run, this.#o.logger, this.#renewRun), callerWatchesAbort: true };
    const { runner } = registration;
    if (runner.start) {
      try {
        runner.start(request, run.deliver);
      } catch (error) {
        run.deliver({ ok: false, error, metrics: zeroMetrics() });
      }
      return;
    }
    let running: Promise<RunOutcome>;
    try {
      running = runner.run(request);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(run.deliver, (error: unknown) => run.deliver({ ok: false, error, metrics: zeroMetrics() }));
  }

  /**
   * An attempt settled (or was stopped: `outcome` null): work out how it ended and queue the
   * write of that end. Ends that come together are recorded together (`#recordEnds`).
   */
  readonly #onSettled = (run: RunningJob<HandlerRegistration>, outcome: RunOutcome | null): void => {
    run.timeout?.cancel();
    run.timeout = null;
    if (!run.begun) this.#releaseSuccessor(run);
    // Only noted here; what the end writes is worked out when the ends are recorded, which a
    // herd of prepared starts may put off for a moment.
    run.endedAt = this.#o.clock.now();
    run.outcome = outcome;
    if (this.#ends.length === 0) this.#endsSince = run.endedAt;
    this.#ends.push(run);
    this.#scheduleEnds();
  };

  /** The end of a settled attempt; a failure to work it out is reported, and nothing is written. */
  #endFor(run: RunningJob<HandlerRegistration>): RunEnd {
    try {
      return this.#endOf(run, run.outcome, run.begun ? run.endedAt - run.startedAt : 0);
    } catch (error) {
      this.#fail(new StoreError(`recording the end of job ${run.job.id} failed: ${toError(error).message}`, { cause: error }));
      return { run, status: 'failed', write: null, timedOut: false, hasDependents: false };
    }
  }

  /** How an attempt ended, and the fenced write that records it (`null`: the lease was lost, nothing to write). */
  #endOf(run: RunningJob<HandlerRegistration>, outcome: RunOutcome | null, wallMs: number): RunEnd {
    const { job } = run;
    const reason = run.reason;
    if (reason?.kind === 'lease-lost') return { run, status: 'running', write: null, timedOut: false, hasDependents: false };
    const now = this.#instantAt(run.endedAt);
    const prepared = run.startAt > 0;
    const metrics: JobMetrics = {
      queuedMs: prepared ? (run.begun ? Math.max(0, run.startedAt - job.runAt.getTime()) : null) : job.metrics.queuedMs,
      durationMs: outcome ? Math.round(outcome.metrics.durationMs) : run.begun ? wallMs : null,
      cpuUserMs: outcome?.metrics.cpuUserMs ?? null,
      cpuSystemMs: outcome?.metrics.cpuSystemMs ?? null,
      heapUsedBytes: outcome?.metrics.heapUsedBytes ?? null,
      threadWaitMs: outcome?.metrics.waitMs === null || outcome === null ? null : Math.round(outcome.metrics.waitMs),
    };
    const condition = runningCondition(run.token);
    if (outcome?.ok && reason === null) {
      const result = checkResult(outcome.result);
      if (result.ok) {
        // The usual end, spelled out in one literal: this runs for every job.
        const hasDependents = (this.#dependents.get(job.triggerId)?.size ?? 0) > 0;
        const patch: JobPatch = {
          status: 'succeeded',
          metrics,
          lease: null,
          cancelRequested: false,
          finishedAt: now,
          dependentsFired: !hasDependents,
          gate: null,
          result: result.value,
          error: null,
        };
        const history = [historyEntry('succeeded', now, this.#o.instanceId, succeededNote(job.attempts))];
        if (prepared) this.#notePreparedStart(run, patch);
        return { run, status: 'succeeded', write: { id: job.id, condition, patch, history }, timedOut: false, hasDependents };
      }
      return this.#endWith(run, this.#failure(job, result.error, now), metrics, now, condition);
    }
    if (reason?.kind === 'cancel') {
      return this.#endWith(
        run,
        { status: 'cancelled', note: 'cancelled by request', patch: { error: { name: 'JobCancelledError', message: 'job cancelled', code: null } } },
        metrics,
        now,
        condition,
      );
    }
    if (reason?.kind === 'shutdown' || reason?.kind === 'lease-expiring') {
      // One prepared ahead that never started is due at its own start time, not now.
      const runAt = run.begun || run.startAt <= now.getTime() ? now : new Date(run.startAt);
      return this.#endWith(
        run,
        {
          status: 'pending',
          note:
            reason.kind === 'lease-expiring'
              ? `aborted: its lease ran out before a renewal came back (renewal round trip p99 ${this.#renewalTimes.summary()?.p99Ms ?? 'unknown'} ms); handed back for another run`
              : run.begun
                ? 'aborted: instance stopped before the job finished; handed back for another run'
                : 'instance stopped before the job started; handed back for its own time',
          patch: { runAt, nextAttemptAt: runAt, attempts: Math.max(0, job.attempts - 1) },
        },
        metrics,
        now,
        condition,
      );
    }
    const error = reason?.kind === 'timeout' ? reason.error : outcome && !outcome.ok ? outcome.error : new Error('aborted');
    return this.#endWith(run, this.#failure(job, error, now), metrics, now, condition);
  }

  /** An end other than success: the common fields, then what the outcome adds. */
  #endWith(
    run: RunningJob<HandlerRegistration>,
    outcome: { status: JobStatus; patch: JobPatch; note: string },
    metrics: JobMetrics,
    now: Date,
    condition: JobCondition,
  ): RunEnd {
    const { job } = run;
    const { status } = outcome;
    assertTransition('running', status, job.id);
    const final = status !== 'pending';
    const hasDependents = final && (this.#dependents.get(job.triggerId)?.size ?? 0) > 0;
    // Object.assign rather than a spread: the outcome's patch has a different shape per
    // kind of end, and a spread of it sends V8 down its slow generic copy.
    const patch: JobPatch = Object.assign(
      {
        status,
        metrics,
        lease: null,
        cancelRequested: false,
        finishedAt: final ? now : null,
        dependentsFired: final ? !hasDependents : false,
        gate: status === 'pending' && job.permitLimit !== null ? job.triggerId : null,
      },
      outcome.patch,
    );
    const history = [historyEntry(status, now, this.#o.instanceId, outcome.note)];
    if (run.startAt > 0) this.#notePreparedStart(run, patch);
    return { run, status, write: { id: job.id, condition, patch, history }, timedOut: run.reason?.kind === 'timeout', hasDependents };
  }

  /**
   * The end of an attempt prepared ahead also records when it really started (its record says
   * when it was to start), or, for one that never started, that it did not: no `startedAt`, no
   * attempt spent.
   */
  #notePreparedStart(run: RunningJob<HandlerRegistration>, patch: JobPatch): void {
    if (run.begun) {
      patch.startedAt = this.#instantAt(run.startedAt);
    } else {
      patch.startedAt = null;
      patch.attempts = 0;
    }
  }

  /**
   * An instant as a `Date`, one object per millisecond: ends of the same millisecond share it
   * (a `Date` is about 100 bytes, and every end stamps one).
   */
  #instantAt(ms: number): Date {
    if (ms !== this.#instantMs) {
      this.#instantMs = ms;
      this.#instantDate = new Date(ms);
    }
    return this.#instantDate;
  }

  /** Record queued ends in a microtask: the ends of attempts that settled in one turn share one store call. */
  #scheduleEnds(): void {
    if (this.#endsScheduled) return;
    this.#endsScheduled = true;
    queueMicrotask(this.#takeEnds);
  }

  readonly #takeEnds = (): void => {
    this.#endsScheduled = false;
    if (this.#ends.length === 0) return;
    if (this.#startsScheduled && this.#o.clock.now() - this.#endsSince < END_DEFER_MAX_MS) {
      // Prepared attempts are still starting (a herd): starting them comes first.
      this.#endsScheduled = true;
      setImmediate(this.#takeEnds);
      return;
    }
    let batch = this.#ends;
    if (batch.length > END_BATCH) {
      // A big backlog goes in chunks, with a turn of the event loop between them.
      batch = this.#ends.splice(0, END_BATCH);
      this.#endsScheduled = true;
      setImmediate(this.#takeEnds);
    } else {
      this.#ends = [];
    }
    this.#track(this.#recordEnds(batch));
  };

  /** Write a batch of ends (in one store call where the store can), then report and release each attempt. */
  async #recordEnds(settled: Array<RunningJob<HandlerRegistration>>): Promise<void> {
    // An end is written once its lease's renewal in flight (if any) is answered, or has taken a
    // third of the lease: two writes to one record at once are one too many for a server without
    // atomic updates, but a renewal that does not come back must not hold the end for ever. An
    // attempt that was stopped (a stop, a cancel, a lease that ran out) does not wait at all.
    let renewals: Array<Promise<void>> | null = null;
    for (const run of settled) if (run.renewal && run.reason === null) (renewals ??= []).push(run.renewal);
    if (renewals) {
      let timer: TimerHandle | null = null;
      const limit = new Promise<void>((resolve) => (timer = this.#o.clock.setTimer(resolve, Math.floor(this.#o.leaseMs / 3))));
      await Promise.race([Promise.all(renewals), limit]);
      (timer as TimerHandle | null)?.cancel();
    }
    const ends = settled.map((run) => this.#endFor(run));
    const writes: JobWrite[] = [];
    for (const end of ends) if (end.write) writes.push(end.write);
    const writeMany = this.#o.jobStore.writeMany;
    if (writeMany && writes.length > 0) {
      let matched: boolean[] | null = null;
      try {
        matched = await writeMany.call(this.#o.jobStore, writes);
      } catch (error) {
        // Nothing of the batch is known to be written: each end goes on its own, with retries.
        this.#o.logger.warn({ jobs: writes.length, error: toError(error).message }, 'writing the ends of a batch failed; writing them one by one');
      }
      if (matched) {
        let k = 0;
        for (const end of ends) this.#afterEnd(end, end.write && matched[k++] ? asWritten(end.run.job, end.write) : null);
        return;
      }
    }
    // One write per end, each reported (and its capacity freed) as soon as it is answered: a slow
    // answer holds up only its own attempt.
    const alone: Array<Promise<void>> = [];
    for (const end of ends) {
      if (!end.write) this.#afterEnd(end, null);
      else alone.push(this.#recordEndWithRetry(end.run.job, end.write).then((answer) => this.#afterEnd(end, answer)));
    }
    await Promise.all(alone);
  }

  /** One end's write, retried through a short store outage (see `#retryStore`); an error only once the retries are spent. */
  async #recordEndWithRetry(job: Job, write: JobWrite): Promise<Job | null | Error> {
    try {
      return await this.#retryStore(() => this.#recordEnd(job, write));
    } catch (error) {
      return toError(error);
    }
  }

  /**
   * Write the end of this instance's own attempt; the job as written, or `null` when the lease
   * was lost. A store that can answer without copying the record back (`write`) is spared that:
   * the attempt's own record with the write applied is the same job.
   */
  #recordEnd(job: Job, write: JobWrite): Promise<Job | null> {
    const store = this.#o.jobStore;
    if (!store.write) return store.update(write.id, write.condition, write.patch, write.history);
    return store.write(write.id, write.condition, write.patch, write.history).then((matched) => (matched ? asWritten(job, write) : null));
  }

  /** Report a recorded end, fire dependents, give back the permit and the capacity. */
  #afterEnd(end: RunEnd, written: Job | null | Error): void {
    const { run, status } = end;
    if (written instanceof Error) {
      this.#fail(new StoreError(`recording the end of job ${run.job.id} failed: ${written.message}`, { cause: written }));
    } else if (end.write && written === null) {
      this.#emit('lease:lost', { jobId: run.job.id, token: run.token, reason: 'the job was taken over before it finished' });
    } else if (written) {
      if (end.timedOut) this.#emit('job:timeout', written);
      this.#emitStatus(written, status);
      if (status === 'pending') this.#notePending();
      if (status === 'pending' && written.gate === null) this.#wakeAt(written.runAt.getTime());
    }
    const fireDependents = end.hasDependents && written !== null && !(written instanceof Error);
    if (!fireDependents && !run.permit) {
      this.#release(run);
      return;
    }
    const after = async (): Promise<void> => {
      try {
        if (fireDependents) await this.#fireDependents(written);
      } catch (error) {
        this.#fail(new StoreError(`firing the dependents of job ${run.job.id} failed: ${toError(error).message}`, { cause: error }));
      } finally {
        if (run.permit) await this.#releasePermit(run.permit);
      }
    };
    this.#track(after().finally(() => this.#release(run)));
  }

  #failure(job: Job, error: unknown, now: Date): { status: JobStatus; patch: JobPatch; note: string } {
    const info = errorInfo(error);
    const permanent = error instanceof PermanentJobError || info.code === 'ERR_PERMANENT_JOB';
    let retry = !permanent && job.attempts < job.maxAttempts;
    const registration = this.#handlers.get(job.handler);
    if (retry && registration?.retryOn) {
      try {
        retry = registration.retryOn(error, job.attempts) !== false;
      } catch (predicateError) {
        retry = false;
        this.#o.logger.warn({ jobId: job.id, error: toError(predicateError).message }, 'retryOn threw; not retrying');
      }
    }
    if (!retry) {
      const why = permanent ? 'permanent error' : job.attempts >= job.maxAttempts ? 'no attempts left' : 'retryOn declined';
      return { status: 'failed', patch: { error: info }, note: `attempt ${job.attempts} failed (${why}): ${info.message}` };
    }
    const delay = job.backoff ? backoffDelay(job.backoff, job.attempts) : 0;
    const runAt = new Date(now.getTime() + delay);
    return {
      status: 'pending',
      patch: { error: info, runAt, nextAttemptAt: runAt },
      note: `attempt ${job.attempts} failed: ${info.message}; retry in ${delay} ms`,
    };
  }

  #emitStatus(job: Job, status: JobStatus): void {
    if (status === 'succeeded') this.#emit('job:succeeded', job);
    else if (status === 'failed') this.#emit('job:failed', job);
    else if (status === 'cancelled') this.#emit('job:cancelled', job);
    else if (status === 'pending') this.#emit('job:retrying', job);
  }

  // ─── Engine: recovery and dependencies ─────────────────────────────────────────────────────

  /**
   * Jobs whose holder stopped renewing (its instance died) stalled: each is run again, spending no
   * attempt, up to its `maxStalls`, then failed with `ERR_STALLED`. A lease counts as expired only
   * `leaseGraceMs` past its expiry (longer while renewals are slow): a live holder aborts its own
   * attempt at the expiry itself.
   */
  async #recoverExpiredLeases(): Promise<void> {
    // A store slow enough to hold up this instance's renewals holds up the holder's as well (and
    // its hand-back): while it is, the grace stretches to two of the latest slowest round trips.
    const grace = Math.max(this.#o.leaseGraceMs, 2 * this.#renewalTimes.recentMax());
    const expired = await this.#o.jobStore.findExpiredLeases(new Date(this.#storeNow().getTime() - grace), 100);
    const local = expired.length > 0 ? new Set(this.#running.toArray().map((run) => run.job.id)) : null;
    for (const job of expired) {
      if (!job.lease || local?.has(job.id)) continue;
      // Stamped at the write, not at the poll: earlier writes of a slow store may have taken a while.
      const at = this.#now();
      const { owner, expiresAt } = job.lease;
      const stalls = job.stalls + 1;
      const rerun = stalls <= job.maxStalls;
      const died = `instance ${owner} stopped renewing its lease (expired ${expiresAt.toISOString()}) while running attempt ${job.attempts}`;
      const status: JobStatus = rerun ? 'pending' : 'failed';
      const hasDependents = !rerun && (this.#dependents.get(job.triggerId)?.size ?? 0) > 0;
      const info: JobErrorInfo = { name: 'JobStalledError', message: `job stalled ${stalls} times: ${died}`, code: 'ERR_STALLED' };
      const written = await this.#o.jobStore.update(
        job.id,
        { status: ['running'], leaseToken: job.lease.token },
        rerun
          ? {
              status,
              lease: null,
              stalls,
              // A stall is not a failed attempt: the re-run is the same attempt again.
              attempts: Math.max(0, job.attempts - 1),
              runAt: at,
              nextAttemptAt: at,
              gate: job.permitLimit !== null ? job.triggerId : null,
            }
          : { status, lease: null, stalls, error: info, finishedAt: at, dependentsFired: !hasDependents },
        [historyEntry(status, at, this.#o.instanceId, rerun ? `stalled: ${died}; run again (stall ${stalls} of ${job.maxStalls})` : `failed: ${info.message} (maxStalls ${job.maxStalls})`)],
      );
      if (!written) continue;
      this.#o.logger.warn({ jobId: job.id, owner, stalls, maxStalls: job.maxStalls }, rerun ? 'a job stalled (its instance died): running it again' : 'a job stalled too often: failed');
      this.#emit('job:stalled', written);
      if (!rerun) this.#emit('job:failed', written);
      if (hasDependents) await this.#fireDependents(written);
    }
    if (expired.length > 0) {
      this.#notePending();
      this.#kickDispatch();
    }
  }

  async #fireUnfiredDependents(now: number): Promise<void> {
    const jobs = await this.#o.jobStore.findUnfiredDependents(new Date(now - this.#o.leaseMs), 100);
    for (const job of jobs) await this.#fireDependents(job);
  }

  async #fireDependents(upstream: Job): Promise<void> {
    const dependents = await this.#o.triggerStore.findDependents(upstream.triggerId);
    const now = this.#now();
    for (const trigger of dependents) {
      if (trigger.schedule.kind !== 'after' || !conditionMet(trigger.schedule.on, upstream.status)) continue;
      await this.#admit(trigger, {
        source: 'dependency',
        key: `after:${trigger.id}:${upstream.id}`,
        scheduledFor: now,
        runAt: now,
        payload: trigger.payload,
        event: null,
        upstream: { jobId: upstream.id, triggerId: upstream.triggerId, status: upstream.status },
      });
    }
    await this.#o.jobStore.update(upstream.id, {}, { dependentsFired: true });
  }

  // ─── Helpers ───────────────────────────────────────────────────────────────────────────────

  #inputContext(): TriggerInputContext {
    return {
      now: this.#now(),
      hasHandler: (name) => this.#handlers.has(name),
      maxPayloadBytes: this.#o.maxPayloadBytes,
    };
  }

  #noteTrigger(trigger: Trigger): void {
    if (trigger.schedule.kind === 'after') addTo(this.#dependents, trigger.schedule.after, trigger.id);
    this.#queued.delete(trigger.id);
    this.#enqueue(trigger, 'local');
  }

  /**
   * Change a trigger: only the fields the change touches are written, conditional on the version
   * read (a slot claim racing it keeps its own fields), and the trigger is read back to confirm
   * the change stuck before the call returns. A lost race is tried again on the new version.
   */
  async #rewrite(id: string, event: 'trigger:updated' | 'trigger:paused' | 'trigger:resumed', change: (current: Trigger) => Trigger): Promise<Trigger> {
    const store = this.#o.triggerStore;
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.#requireTrigger(id);
      const next = change(current);
      if (next.version === current.version) return next;
      if (next.schedule.kind === 'after') await this.#assertDependency(next);
      const fields = changedFields(current, next);
      const written = store.update
        ? await this.#store(() => store.update!(id, current.version, fields), 'update trigger')
        : (await this.#store(() => store.replace(next, current.version), 'replace trigger'))
          ? next
          : null;
      if (!written) continue;
      // Read back: on a server whose updates are not atomic (FerretDB) a racing write can undo it.
      const stored = await this.#requireTrigger(id);
      if (!holdsFields(stored, fields, written.version)) {
        this.#o.logger.warn({ triggerId: id, fields: Object.keys(fields) }, 'a trigger change was overwritten by a racing write; writing it again');
        continue;
      }
      if (current.schedule.kind === 'after') this.#dependents.get(current.schedule.after)?.delete(id);
      this.#noteTrigger(stored);
      this.#emit(event, stored);
      return stored;
    }
    throw new StoreError(`trigger "${id}" kept changing while being updated; the change may not have been written`);
  }

  async #requireTrigger(id: string): Promise<Trigger> {
    const trigger = await this.#store(() => this.#o.triggerStore.get(id), 'get trigger');
    if (!trigger) throw new TriggerNotFoundError(id);
    return trigger;
  }

  /** Reject an `after` dependency on a missing trigger or one that closes a cycle. */
  async #assertDependency(trigger: Trigger): Promise<void> {
    if (trigger.schedule.kind !== 'after') return;
    const upstream = trigger.schedule.after;
    if (upstream === trigger.id) throw new InvalidTriggerConfigError('schedule.after', 'a trigger cannot depend on itself');
    const exists = await this.#store(() => this.#o.triggerStore.get(upstream), 'get trigger');
    if (!exists) throw new InvalidTriggerConfigError('schedule.after', `trigger "${upstream}" does not exist`);
    const edges = await this.#store(() => this.#o.triggerStore.dependencyEdges(), 'read dependencies');
    const parentOf = new Map<string, string>();
    for (const edge of edges) if (edge.id !== trigger.id) parentOf.set(edge.id, edge.after);
    parentOf.set(trigger.id, upstream);
    const seen = new Set<string>();
    for (let cursor: string | undefined = trigger.id; cursor !== undefined; cursor = parentOf.get(cursor)) {
      if (seen.has(cursor)) {
        throw new InvalidTriggerConfigError('schedule.after', `depending on "${upstream}" would make a cycle: ${[...seen, cursor].join(' -> ')}`);
      }
      seen.add(cursor);
    }
  }

  #assertAccepting(): void {
    if (this.#state === 'stopping') throw new SchedulerStoppedError('scheduler is stopping');
  }

  /** Run a store call from a public method; wrap backend errors in `StoreError`. */
  async #store<T>(operation: () => Promise<T>, what: string): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw storeFailure(error, what);
    }
  }

  #emit<K extends keyof SchedulerEvents>(event: K, ...args: SchedulerEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: SchedulerEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.#o.logger.error({ event, error: toError(error).message }, 'an event listener threw');
    }
  }

  /** Report an error that has no caller to throw to: log it and emit `error`. */
  #fail(error: Error): void {
    this.#o.logger.error({ error: error.message, code: (error as { code?: unknown }).code }, error.message);
    this.#emit('error', error);
  }
}

/** The fields of `next` that differ from `current` (its id and version aside). */
function changedFields(current: Trigger, next: Trigger): TriggerFields {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(next) as Array<keyof Trigger>) {
    if (key === 'id' || key === 'version') continue;
    if (!sameValue(current[key], next[key])) fields[key] = next[key];
  }
  return fields as TriggerFields;
}

/** What a slot claim writes: fields a claim after the change may legitimately have moved on. */
const CLAIMED_FIELDS = new Set(['nextRunAt', 'lastRunAt', 'updatedAt']);

/**
 * Whether a stored trigger still carries a change written as `writtenVersion`: every field, or,
 * once a slot claim has moved the version on since, every field a claim does not write.
 */
function holdsFields(stored: Trigger, fields: TriggerFields, writtenVersion: number): boolean {
  const claimedSince = stored.version > writtenVersion;
  for (const [key, value] of Object.entries(fields)) {
    if (claimedSince && CLAIMED_FIELDS.has(key)) continue;
    if (!sameValue(stored[key as keyof Trigger], value)) return false;
  }
  return true;
}

/** Equality of record values: instants by time, JSON data by content. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

/** The job as `write` left it, from the writer's own copy. */
function asWritten(job: Job, write: JobWrite): Job {
  const written: Job = Object.assign({ ...job }, write.patch);
  if (write.history) written.history = job.history.concat(write.history);
  return written;
}

const succeededNotes: string[] = [];

/** The history note of a successful attempt; the same string each time for the usual attempt numbers. */
function succeededNote(attempt: number): string {
  if (attempt >= 16) return `attempt ${attempt} succeeded`;
  return (succeededNotes[attempt] ??= `attempt ${attempt} succeeded`);
}

/**
 * Whether a trigger's slots are claimed ahead of their time (see `leadMs`): not those whose start
 * depends on a concurrency permit or a time window, which are decided at the slot.
 */
function leadsAhead(trigger: Trigger): boolean {
  return permitLimit(trigger) === null && trigger.window === null;
}

const runningConditions: JobCondition[] = [];

/** The condition of a lease holder's write: still running, under this lease token (shared for the usual small tokens). */
function runningCondition(token: number): JobCondition {
  if (token >= 16) return { status: RUNNING, leaseToken: token };
  return (runningConditions[token] ??= Object.freeze({ status: RUNNING, leaseToken: token }));
}

/** A store's error as the caller sees it: the library's own errors as they are, others wrapped. */
function storeFailure(error: unknown, what: string): SchedulerError {
  if (error instanceof SchedulerError) return error;
  return new StoreError(`${what} failed: ${toError(error).message}`, { cause: error });
}
