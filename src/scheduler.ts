/**
 * The `Scheduler`: the public API and the lifecycle, composing the engine's collaborators in
 * `src/engine/` (see docs/architecture.md for the map and the journey of one slot).
 *
 * The store is the source of truth. Each instance keeps the slots due within `lookaheadMs` in a
 * timeline, refilled by polling and updated at once for local changes. A slot's job record is
 * its claim (inserted under the slot's unique key), the trigger's advance past the slot a hint
 * any instance may repair. Running jobs carry a lease with a fencing token; their final write is
 * conditional on it.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { EventEmitter } from 'eventemitter3';
import { MAX_TIMER_DELAY_MS, type TimerHandle } from './clock.js';
import { SchedulerStoppedError } from './errors.js';
import type { SchedulerEvents } from './events.js';
import { Admission } from './engine/admission.js';
import { Alerts } from './engine/alerts.js';
import { ClusterView } from './engine/cluster-view.js';
import { AttemptRunner } from './engine/attempt-runner.js';
import { EngineContext, type LifecycleState } from './engine/context.js';
import { Dependents } from './engine/dependents.js';
import { Dispatcher } from './engine/dispatcher.js';
import { EndPlanner } from './engine/end-plan.js';
import { EndRecorder } from './engine/end-recorder.js';
import { Handlers, type HandlerOptions } from './engine/handlers.js';
import { asArgument, assertEventName, validateJobQuery, validateTriggerQuery } from './engine/input.js';
import { JobCommands } from './engine/job-commands.js';
import { assertJsonPayload } from './engine/json.js';
import { LeaseKeeper } from './engine/lease-keeper.js';
import { Maintenance } from './engine/maintenance.js';
import { StorePressure } from './engine/store-pressure.js';
import { Membership } from './engine/membership.js';
import { resolveOptions, type SchedulerOptions } from './engine/options.js';
import { toError } from './engine/outcome.js';
import { Permits } from './engine/permits.js';
import { Poller } from './engine/poller.js';
import type { ClusterSnapshot } from './engine/cluster-view.js';
import { collectStats, storesReachable, type HealthReport, type SchedulerStats } from './engine/reports.js';
import { SlotClaims } from './engine/slot-claims.js';
import { SlotFirer } from './engine/slot-firer.js';
import { Timeline } from './engine/timeline.js';
import { TriggerWriter } from './engine/trigger-writer.js';
import { UnhandledReport } from './engine/unhandled.js';
import type { HandlerFunction, ModuleHandler } from './ports.js';
import { InlineJobRunner } from './runners/inline.js';
import { assertId } from './schedule/index.js';
import type { Job, JobQuery, JsonValue, Page, Trigger, TriggerInput, TriggerPatch, TriggerQuery } from './types.js';
import { cloneTrigger, copyData } from './util/clone.js';
import { newId } from './util/id.js';
import { Telemetry, type MetricsText } from './telemetry/index.js';

export type { HandlerOptions } from './engine/handlers.js';

const noop = (): void => undefined;
export type { HealthReport, SchedulerStats, TriggerStats } from './engine/reports.js';
export type { ClusterSnapshot } from './engine/cluster-view.js';
export type { MetricsText } from './telemetry/index.js';

/** How old the cluster view behind `health().failingTriggers` may be, in ms. */
const HEALTH_VIEW_MAX_AGE_MS = 60_000;

/** Options of `stop`. */
export interface StopOptions {
  /** Wait for running jobs; when `false` they are aborted at once. @default true */
  graceful?: boolean;
  /** How long a graceful stop waits before aborting what still runs, in ms. @default 10000 */
  timeoutMs?: number;
}

/**
 * An embeddable job scheduler. Register handlers, add triggers, `start()`. Any number of instances
 * sharing one store fire each slot once and run each job at least once.
 */
export class Scheduler extends EventEmitter<SchedulerEvents> {
  readonly #ctx: EngineContext;
  readonly #handlers: Handlers;
  readonly #membership: Membership;
  readonly #leases: LeaseKeeper;
  readonly #pressure: StorePressure;
  readonly #timeline: Timeline;
  readonly #runner: AttemptRunner;
  readonly #poller: Poller;
  readonly #triggers: TriggerWriter;
  readonly #jobs: JobCommands;
  readonly #unhandled: UnhandledReport;
  readonly #cluster: ClusterView;
  readonly #alerts: Alerts;
  readonly #telemetry: Telemetry;
  #lag: IntervalHistogram | null = null;
  /** The one ref'd handle that keeps the process alive while started (`keepAlive`); all other timers are unref'd. */
  #keepAlive: NodeJS.Timeout | null = null;
  #startPromise: Promise<void> | null = null;
  #stopPromise: Promise<void> | null = null;

  /** @param options see `SchedulerOptions`; all optional (in-memory backend, inline runner). */
  constructor(options: SchedulerOptions = {}) {
    super();
    const resolved = resolveOptions(options);
    // Made before the engine, as it may hand the engine timed stores; the cluster view it reads comes later.
    const telemetry = (this.#telemetry = new Telemetry(() => this.#cluster.get(), resolved));
    const o = telemetry.stores(resolved);
    const ctx = (this.#ctx = new EngineContext(o, this));
    telemetry.attach(ctx);
    const handlers = (this.#handlers = new Handlers(o.concurrency, o.jobRunner, new InlineJobRunner(), (error) => {
      if (ctx.running) ctx.fail(error);
    }));
    // A member that missed three polls in a row is taken for gone.
    const membership = (this.#membership = new Membership(o.lockManager, o.instanceId, 3 * o.pollIntervalMs, () => handlers.usableNames()));
    const leases = (this.#leases = new LeaseKeeper(ctx));
    // The timeline hands due slots to the firer, and attempts their ends to the recorder: both made
    // below, as they need what is made here first.
    let firer: SlotFirer | null = null;
    let recorder: EndRecorder | null = null;
    const timeline = (this.#timeline = new Timeline(ctx, handlers, membership, {
      fire: (batch) => firer!.fire(batch),
      wake: () => dispatcher.pendingNow(),
      // A drain runs in an event-loop turn of its own: a fresh budget of starts.
      newTurn: () => runner.newTurn(),
    }));
    const runner = (this.#runner = new AttemptRunner(ctx, leases, timeline, (run, outcome) => recorder!.onSettled(run, outcome)));
    const permits = new Permits(ctx);
    const dispatcher = new Dispatcher(ctx, handlers, runner, permits);
    // Backpressure: fewer places while the store answers slowly; work parked for room goes on as they come back.
    const pressure = (this.#pressure = new StorePressure(ctx, () => {
      timeline.onCapacity();
      dispatcher.kick();
    }));
    ctx.onRoundTrip = (roundTripMs) => pressure.record(roundTripMs);
    ctx.claimWindow = () => pressure.claimWindow();
    ctx.overloaded = () => pressure.overloaded;
    handlers.limitBy(() => pressure.limit());
    const claims = new SlotClaims(ctx, timeline);
    const admission = new Admission(ctx, { handlers, runner, dispatcher, permits, claims, timeline });
    const dependents = new Dependents(ctx, admission);
    const planner = new EndPlanner(ctx, handlers, leases, dependents);
    recorder = new EndRecorder(ctx, { handlers, leases, runner, timeline, dispatcher, permits, dependents, planner });
    firer = new SlotFirer(ctx, { handlers, runner, claims, admission, timeline });
    const alerts = (this.#alerts = new Alerts(ctx));
    this.#cluster = new ClusterView(ctx, alerts);
    const maintenance = new Maintenance(ctx, leases, dependents, dispatcher, alerts);
    this.#poller = new Poller(ctx, { handlers, membership, timeline, dispatcher, dependents, maintenance });
    this.#triggers = new TriggerWriter(ctx, handlers, timeline, dependents);
    this.#jobs = new JobCommands(ctx, admission, leases, this.#triggers);
    this.#unhandled = new UnhandledReport(ctx, membership);
  }

  /** This instance's id. */
  get instanceId(): string {
    return this.#ctx.o.instanceId;
  }

  /** Lifecycle state. */
  get state(): LifecycleState {
    return this.#ctx.state;
  }

  // ─── Handlers ──────────────────────────────────────────────────────────────────────────────

  /**
   * Register a handler under a name. A function runs in this thread; a `{ module, exportName }`
   * runs on the configured `jobRunner` (worker threads with `WorkerPoolJobRunner`). A module that
   * cannot be loaded makes `start()` reject (or, registered after start, fails its jobs).
   */
  register<P extends JsonValue = JsonValue>(name: string, handler: HandlerFunction<P> | ModuleHandler, options: HandlerOptions = {}): this {
    this.#handlers.register(name, handler as HandlerFunction | ModuleHandler, options);
    return this;
  }

  // ─── Lifecycle ─────────────────────────────────────────────────────────────────────────────

  /** Start polling and firing. Idempotent; resolves once the first poll has run. */
  async start(): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.state === 'running') return;
    if (ctx.state === 'starting' && this.#startPromise) return this.#startPromise;
    if (ctx.state === 'stopping' && this.#stopPromise) await this.#stopPromise;
    ctx.state = 'starting';
    this.#startPromise = this.#doStart();
    try {
      await this.#startPromise;
    } finally {
      this.#startPromise = null;
    }
  }

  async #doStart(): Promise<void> {
    const ctx = this.#ctx;
    // Held from here to the end of stop(), or given back at once when the start fails: a
    // process whose only work is this scheduler must not exit while it runs.
    this.#holdProcess();
    try {
      const invalid = await this.#handlers.validated();
      if (invalid) {
        ctx.state = 'idle';
        throw invalid;
      }
      this.#stopPromise = null;
      try {
        await this.#telemetry.start(ctx.o);
      } catch (error) {
        ctx.state = 'idle';
        throw error;
      }
      this.#timeline.reset();
      this.#lag = monitorEventLoopDelay({ resolution: 10 });
      this.#lag.enable();
      ctx.state = 'running';
      await this.#leases.start();
      await this.#poller.start();
      ctx.emit('scheduler:started', { instanceId: ctx.o.instanceId, at: ctx.now() });
    } catch (error) {
      this.#releaseProcess();
      throw error;
    }
  }

  #holdProcess(): void {
    if (!this.#ctx.o.keepAlive || this.#keepAlive) return;
    // The longest delay Node takes; the callback never does anything, the handle is what counts.
    this.#keepAlive = setInterval(noop, MAX_TIMER_DELAY_MS);
  }

  #releaseProcess(): void {
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = null;
  }

  /**
   * Stop. Idempotent. A graceful stop claims nothing new and waits up to `timeoutMs` for running
   * jobs; jobs still running then are aborted and handed back as `pending` with the reason in
   * their history, so another instance (or the next start) runs them.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.#ctx.state === 'idle' || this.#ctx.state === 'stopped') return;
    if (this.#stopPromise) return this.#stopPromise;
    if (this.#startPromise) await this.#startPromise.catch(() => undefined);
    this.#stopPromise = this.#doStop(options.graceful ?? true, options.timeoutMs ?? 10_000).finally(() => this.#releaseProcess());
    return this.#stopPromise;
  }

  async #doStop(graceful: boolean, timeoutMs: number): Promise<void> {
    const ctx = this.#ctx;
    ctx.state = 'stopping';
    this.#runner.stop();
    this.#poller.stop();
    this.#timeline.clear();
    // Leave at once, so the others take this instance's triggers at their next poll.
    await this.#membership.leave().catch((error: unknown) =>
      ctx.o.logger.warn({ error: toError(error).message }, 'leaving the membership failed; it runs out by itself'),
    );
    await ctx.settleTracked();
    if (graceful && this.#leases.size > 0) {
      let timer: TimerHandle | null = null;
      const timedOut = new Promise<void>((resolve) => {
        timer = ctx.o.clock.setTimer(resolve, timeoutMs);
      });
      await Promise.race([Promise.allSettled(this.#leases.toArray().map((r) => r.done)), timedOut]);
      (timer as TimerHandle | null)?.cancel();
    }
    for (const run of this.#leases.toArray()) run.abort({ kind: 'shutdown' });
    await Promise.allSettled(this.#leases.toArray().map((r) => r.done));
    // Only now that no attempt is held: a released registration leaves its jobs to recovery.
    await this.#leases.release();
    await ctx.settleTracked();
    // Every attempt was already waited for or aborted above; what a runner still holds is abandoned
    // work (a handler ignoring its signal), so runners close at once (a worker pool's threads end).
    // The scheduler's own inline runner holds nothing to release and stays open for a restart.
    await Promise.allSettled([...this.#handlers.customRunners()].map((r) => r.close({ timeoutMs: 0 })));
    this.#lag?.disable();
    ctx.state = 'stopped';
    ctx.emit('scheduler:stopped', { instanceId: ctx.o.instanceId, at: ctx.now() });
  }

  // ─── Triggers ──────────────────────────────────────────────────────────────────────────────
  // What the methods below return is the caller's own copy: the engine may keep the record it
  // wrote (a queued trigger, a running job), and a caller's change must not reach it.

  /** Validate and store a trigger. Nothing is written when validation fails. */
  async addTrigger(input: TriggerInput): Promise<Trigger> {
    return cloneTrigger(await this.#triggers.add(input));
  }

  /**
   * Declare a trigger from code, on every start of every instance: adds it when its `id` is new,
   * else brings the stored trigger to the declaration. Idempotent, and safe when instances declare
   * it at once (one of them writes, none fails).
   *
   * The declaration owns the definition: every field `addTrigger` takes (a field left out goes
   * back to its default). The store keeps the run state (`nextRunAt`, `lastRunAt`, `createdAt`)
   * and the status operators set (`pauseTrigger`, the CLI, the dashboard), unless the declaration
   * gives `paused` (`true` pauses, `false` resumes). A changed schedule, `startAt` or `endAt`
   * recomputes `nextRunAt`; an unchanged declaration writes nothing and emits nothing
   * (`trigger:added` / `trigger:updated` only when something changed). An `every` schedule
   * without `startAt` keeps the stored trigger's anchor. A trigger that code stops declaring stays
   * in the store: remove it with `removeTrigger`.
   *
   * @throws InvalidTriggerConfigError naming the field (`id` is required), as `addTrigger`
   * @returns the trigger as stored
   */
  upsertTrigger(input: TriggerInput): Promise<Trigger> {
    return this.#triggers.upsert(input);
  }

  /** Change a trigger. The next slot is recomputed when the schedule or its bounds change. */
  async updateTrigger(id: string, patch: TriggerPatch): Promise<Trigger> {
    assertId(id, 'id');
    return cloneTrigger(await this.#triggers.update(id, patch));
  }

  /** Delete a trigger. Its jobs stay (and running ones finish). */
  async removeTrigger(id: string): Promise<void> {
    assertId(id, 'id');
    return this.#triggers.remove(id);
  }

  /** Stop firing a trigger until `resumeTrigger`. */
  async pauseTrigger(id: string): Promise<Trigger> {
    assertId(id, 'id');
    return cloneTrigger(await this.#triggers.pause(id));
  }

  /** Fire a paused trigger again, from its next slot after now (slots missed while paused are not replayed). */
  async resumeTrigger(id: string): Promise<Trigger> {
    assertId(id, 'id');
    return cloneTrigger(await this.#triggers.resume(id));
  }

  /** One trigger, or `null`. */
  async getTrigger(id: string): Promise<Trigger | null> {
    assertId(id, 'id');
    return this.#ctx.store(() => this.#ctx.o.triggerStore.get(id), 'get trigger');
  }

  /** Page through triggers by id. */
  async listTriggers(query: TriggerQuery = {}): Promise<Page<Trigger>> {
    const q = validateTriggerQuery(query);
    return this.#ctx.store(() => this.#ctx.o.triggerStore.list(q), 'list triggers');
  }

  /**
   * Run a trigger now (any status), optionally with another payload. Returns the new job. The job
   * runs here when this instance has the handler and room, else it waits as `pending` for an
   * instance that has (services sharing a store each register their own handlers).
   *
   * `runId` makes the run idempotent: the same `runId` runs the trigger once, and a repeat returns
   * the job made the first time (an HTTP `Idempotency-Key` becomes it).
   */
  async runTrigger(
    id: string,
    options: {
      /** The job's payload. @default the trigger's payload */
      payload?: JsonValue;
      /** Runs the trigger once per `runId` (see above). @default undefined (every call runs it) */
      runId?: string;
    } = {},
  ): Promise<Job> {
    assertId(id, 'id');
    this.#assertAccepting();
    const payload = options.payload === undefined ? undefined : assertJsonPayload(options.payload, 'payload', this.#ctx.o.maxPayloadBytes);
    const runId = options.runId === undefined ? undefined : assertEventName(options.runId, 'runId');
    return copyData(await this.#jobs.runTrigger(id, payload, runId));
  }

  /**
   * Publish an event: every active trigger listening to it whose `filter` matches the payload gets
   * a job. The same `eventId` fires each trigger once; a repeat returns the jobs made the first time.
   */
  async publish(
    event: string,
    payload: JsonValue = null,
    options: {
      /** Fires each trigger once per `eventId` (see above). @default a new id (every call fires) */
      eventId?: string;
    } = {},
  ): Promise<Job[]> {
    assertEventName(event, 'event');
    const body = assertJsonPayload(payload, 'payload', this.#ctx.o.maxPayloadBytes);
    const eventId = options.eventId === undefined ? newId() : assertEventName(options.eventId, 'eventId');
    this.#assertAccepting();
    return copyData(await this.#jobs.publish(event, body, eventId));
  }

  // ─── Jobs ──────────────────────────────────────────────────────────────────────────────────

  /** One job, or `null`. */
  async getJob(id: string): Promise<Job | null> {
    asArgument(() => assertId(id, 'id'));
    return this.#ctx.store(() => this.#ctx.o.jobStore.get(id), 'get job');
  }

  /** Page through jobs, newest slot first. */
  async listJobs(query: JobQuery = {}): Promise<Page<Job>> {
    const q = validateJobQuery(query);
    return this.#ctx.store(() => this.#ctx.o.jobStore.list(q), 'list jobs');
  }

  /**
   * Cancel a job. A pending job is cancelled at once; a job running here is aborted and recorded
   * `cancelled`; a job running on another instance is flagged, and its holder aborts it at its next
   * lease renewal (within a third of `leaseMs`). Returns the job as it stands.
   */
  async cancelJob(id: string): Promise<Job> {
    asArgument(() => assertId(id, 'id'));
    return copyData(await this.#jobs.cancel(id));
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
    asArgument(() => assertId(id, 'id'));
    this.#assertAccepting();
    return copyData(await this.#jobs.retry(id));
  }

  // ─── Observability ─────────────────────────────────────────────────────────────────────────

  /** Liveness and load of this instance, and work that no live instance can run (`unhandled`). */
  async health(): Promise<HealthReport> {
    const ctx = this.#ctx;
    // Late triggers come from one indexed query; failing ones from the cluster view, which reads the
    // whole job summary, so a health check polled often reuses a read up to a minute old. A failed
    // read is reported as `null` figures, and its reason logged, as for unhandled work.
    const unreadable = (what: string) => (error: unknown) => {
      ctx.o.logger.warn({ error: toError(error).message }, `reading ${what} failed`);
      return null;
    };
    const [storeReachable, unhandled, late, cluster] = await Promise.all([
      storesReachable(ctx),
      this.#unhandled.current(),
      this.#alerts.late().catch(unreadable('the late triggers')),
      this.#cluster.get(HEALTH_VIEW_MAX_AGE_MS).catch(unreadable('the cluster figures')),
    ]);
    const status: HealthReport['status'] =
      ctx.state === 'running' ? (this.#poller.lastPollError === null && storeReachable ? 'ok' : 'degraded') : ctx.state;
    const lag = this.#lag && this.#lag.count > 0 ? this.#lag.percentile(99) / 1e6 : null;
    return {
      status,
      instanceId: ctx.o.instanceId,
      running: this.#handlers.running,
      queued: this.#timeline.size,
      eventLoopLagMs: lag === null ? null : Math.round(lag * 100) / 100,
      storeReachable,
      lastPollAt: this.#poller.lastPollAt,
      lastPollError: this.#poller.lastPollError,
      clockOffsetMs: ctx.clockOffsetMs,
      clockSkewed: Math.abs(ctx.clockOffsetMs) > ctx.o.clockSkewToleranceMs,
      members: Math.max(1, this.#membership.members.length),
      leaseRenewal: this.#leases.summary(),
      unhandled,
      lateTriggers: late,
      failingTriggers: cluster?.failing ?? null,
      overload: this.#pressure.overload,
    };
  }

  /** Job counts by status, and per trigger: runs, successes, failures, last and next run, p50/p95 duration. */
  async stats(
    filter: {
      /** Only this trigger's figures. @default undefined (every trigger's) */
      triggerId?: string;
    } = {},
  ): Promise<SchedulerStats> {
    if (filter.triggerId !== undefined) assertId(filter.triggerId, 'triggerId');
    return collectStats(this.#ctx, filter);
  }

  /**
   * The cluster's figures as the store has them, read at most once per `maxAgeMs` however many
   * callers ask (health checks, `GET /metrics` scrapes): job counts per trigger and status, each
   * trigger's last success, and the late and failing triggers.
   */
  async clusterView(maxAgeMs?: number): Promise<ClusterSnapshot> {
    return this.#cluster.get(maxAgeMs);
  }

  /**
   * This instance's metrics and the cluster's, in the Prometheus text format (what the management
   * API serves as `GET /metrics`). Needs the optional peer dependency `prom-client`; the first call
   * loads it and starts counting, unless `telemetry: { metrics: true }` did at `start()`.
   */
  async metrics(): Promise<MetricsText> {
    return this.#telemetry.prometheusText();
  }

  #assertAccepting(): void {
    if (this.#ctx.state === 'stopping') throw new SchedulerStoppedError('scheduler is stopping');
  }
}
