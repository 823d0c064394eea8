/**
 * OpenTelemetry: spans and metrics through `@opentelemetry/api` (an optional peer dependency,
 * imported once at `start()` and only when asked for). A `send` span (PRODUCER) is recorded when a
 * job is created, and its `traceparent` stored on the job; each attempt gets a `process` span
 * (CONSUMER) whose parent is that context, so a trace crosses instances through the store. Lease
 * trouble, fencing refusals, misfire and overlap decisions are span events. The metrics are the
 * same instruments as Prometheus', on the given meter.
 */
import type { EventEmitter } from 'eventemitter3';
import { InvalidTriggerConfigError } from '../errors.js';
import type { ClusterSnapshot } from '../engine/cluster-view.js';
import type { SchedulerEvents } from '../events.js';
import type { Job } from '../types.js';
import { INSTRUMENTS, otelName, type InstrumentKey, type MetricsSink } from './instruments.js';
import { skipReason } from './recorder.js';

type OtelApi = typeof import('@opentelemetry/api');
type Span = import('@opentelemetry/api').Span;
type Tracer = import('@opentelemetry/api').Tracer;
type Counter = import('@opentelemetry/api').Counter;
type Histogram = import('@opentelemetry/api').Histogram;

/** Providers the scheduler uses (the global ones when not given). */
export interface OtelProviders {
  tracerProvider: import('@opentelemetry/api').TracerProvider | null;
  meterProvider: import('@opentelemetry/api').MeterProvider | null;
}

const SCOPE = '@intellibrowse/scheduler';

let loading: Promise<OtelApi> | null = null;

/** `@opentelemetry/api`, imported once; a clear error naming the package when it is missing. */
export function loadOtelApi(): Promise<OtelApi> {
  loading ??= import('@opentelemetry/api').then(
    (module: OtelApi & { default?: OtelApi }) => (module.trace ? module : (module.default ?? module)),
    (error: unknown) => {
      loading = null;
      throw new InvalidTriggerConfigError(
        'telemetry.opentelemetry',
        `needs the optional peer dependency @opentelemetry/api (npm install @opentelemetry/api): ${error instanceof Error ? error.message : String(error)}`,
      );
    },
  );
  return loading;
}

/** Attributes every span of a job carries. */
function jobAttributes(job: Job, operation: 'send' | 'process'): Record<string, string | number> {
  return {
    'messaging.system': 'intellibrowse-scheduler',
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.destination.name': job.handler,
    'messaging.message.id': job.id,
    'scheduler.trigger.id': job.triggerId,
    'scheduler.slot': job.scheduledFor.toISOString(),
    'scheduler.job.source': job.source,
  };
}

/** Spans of one scheduler. */
export class OtelTracing {
  readonly #api: OtelApi;
  readonly #tracer: Tracer;
  /** Open `process` spans by job id: one per attempt running here. */
  readonly #open = new Map<string, Span>();

  constructor(api: OtelApi, providers: OtelProviders) {
    this.#api = api;
    this.#tracer = (providers.tracerProvider ?? api.trace.getTracerProvider()).getTracer(SCOPE);
  }

  /** The `send` span of a new job (ended at once); its context as a W3C `traceparent`. */
  readonly send = (job: Job): string | null => {
    const { trace, SpanKind } = this.#api;
    const span = this.#tracer.startSpan(`send ${job.handler}`, { kind: SpanKind.PRODUCER, attributes: jobAttributes(job, 'send') });
    const { traceId, spanId, traceFlags } = span.spanContext();
    span.end();
    if (!trace.isSpanContextValid(span.spanContext())) return null;
    return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
  };

  /** Follow the scheduler's events; returns the unsubscribe. */
  subscribe(scheduler: EventEmitter<SchedulerEvents>): () => void {
    const end = (outcome: string) => (job: Job) => this.#end(job, outcome);
    const listeners: { [K in keyof SchedulerEvents]?: (...args: SchedulerEvents[K]) => void } = {
      'job:started': (job) => this.#start(job),
      'job:succeeded': end('succeeded'),
      'job:failed': end('failed'),
      'job:cancelled': end('cancelled'),
      'job:retrying': end('retrying'),
      'job:skipped': (job) => {
        // Decided without an attempt: a `process` span of its own, carrying the decision.
        const span = this.#open.get(job.id) ?? this.#startSpan(job);
        this.#open.delete(job.id);
        span.addEvent(`scheduler.${skipReason(job)}`, { 'scheduler.decision': 'skipped', 'scheduler.reason': job.history[job.history.length - 1]?.reason ?? '' });
        span.setAttribute('scheduler.outcome', 'skipped');
        span.end();
      },
      'lease:lost': (event) => {
        const span = this.#open.get(event.jobId);
        if (!span) return;
        const fenced = event.reason === 'fenced';
        span.addEvent(fenced ? 'scheduler.fencing_refused' : 'scheduler.lease_lost', { 'scheduler.reason': event.reason, 'scheduler.lease.token': event.token });
        if (fenced) this.#end(null, 'fenced', event.jobId);
      },
      'lease:renewal-slow': (event) => {
        for (const span of this.#open.values()) span.addEvent('scheduler.lease_renewal_slow', { 'scheduler.round_trip_ms': event.roundTripMs, 'scheduler.lease_ms': event.leaseMs });
      },
      'slot:missed': (event) => {
        const { SpanKind } = this.#api;
        const span = this.#tracer.startSpan(`send ${event.handler}`, {
          kind: SpanKind.PRODUCER,
          attributes: {
            'messaging.system': 'intellibrowse-scheduler',
            'messaging.operation.type': 'send',
            'messaging.destination.name': event.handler,
            'scheduler.trigger.id': event.triggerId,
            'scheduler.slot': event.slot.toISOString(),
            'scheduler.outcome': 'skipped',
          },
        });
        span.addEvent('scheduler.misfire', { 'scheduler.decision': 'skipped', 'scheduler.slots': event.count });
        span.end();
      },
    };
    const on = scheduler.on.bind(scheduler) as unknown as (event: string, fn: (...args: never[]) => void) => void;
    const off = scheduler.off.bind(scheduler) as unknown as (event: string, fn: (...args: never[]) => void) => void;
    for (const [event, fn] of Object.entries(listeners)) on(event, fn);
    return () => {
      for (const [event, fn] of Object.entries(listeners)) off(event, fn);
      for (const span of this.#open.values()) span.end();
      this.#open.clear();
    };
  }

  #startSpan(job: Job): Span {
    const { trace, context, propagation, SpanKind } = this.#api;
    let parent = context.active();
    const links = [];
    if (job.traceparent !== null) {
      const extracted = propagation.extract(context.active(), { traceparent: job.traceparent }, {
        get: (carrier: Record<string, string>, key: string) => carrier[key],
        keys: (carrier: Record<string, string>) => Object.keys(carrier),
      });
      const producer = trace.getSpanContext(extracted) ?? parseTraceparent(job.traceparent);
      if (producer) {
        parent = trace.setSpanContext(context.active(), producer);
        links.push({ context: producer });
      }
    }
    return this.#tracer.startSpan(`process ${job.handler}`, { kind: SpanKind.CONSUMER, attributes: { ...jobAttributes(job, 'process'), 'scheduler.attempt': job.attempts }, links }, parent);
  }

  #start(job: Job): void {
    this.#open.get(job.id)?.end();
    this.#open.set(job.id, this.#startSpan(job));
  }

  #end(job: Job | null, outcome: string, id = job?.id ?? ''): void {
    const span = this.#open.get(id);
    if (!span) return;
    this.#open.delete(id);
    span.setAttribute('scheduler.outcome', outcome);
    if (outcome === 'failed' || outcome === 'fenced') {
      span.setStatus({ code: this.#api.SpanStatusCode.ERROR, ...(job?.error ? { message: job.error.message } : {}) });
    }
    span.end();
  }
}

/** A `traceparent` read by hand, for when no propagator is registered globally. */
function parseTraceparent(value: string): import('@opentelemetry/api').SpanContext | null {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value);
  if (!match) return null;
  return { traceId: match[1]!, spanId: match[2]!, traceFlags: Number.parseInt(match[3]!, 16), isRemote: true };
}

/** The scheduler's instruments on an OpenTelemetry meter, and the cluster's figures as observable gauges. */
export class OtelMetrics implements MetricsSink {
  readonly #counters = new Map<InstrumentKey, Counter>();
  readonly #histograms = new Map<InstrumentKey, Histogram>();

  constructor(api: OtelApi, providers: OtelProviders, cluster: () => Promise<ClusterSnapshot>) {
    const meter = (providers.meterProvider ?? api.metrics.getMeterProvider()).getMeter(SCOPE);
    for (const [key, def] of Object.entries(INSTRUMENTS) as Array<[InstrumentKey, (typeof INSTRUMENTS)[InstrumentKey]]>) {
      const options = { description: def.help, unit: def.unit };
      if (def.kind === 'counter') this.#counters.set(key, meter.createCounter(otelName(def), options));
      else {
        const buckets = 'buckets' in def ? [...def.buckets] : [];
        this.#histograms.set(key, meter.createHistogram(otelName(def), { ...options, advice: { explicitBucketBoundaries: buckets } }));
      }
    }
    const jobs = meter.createObservableGauge('scheduler.cluster.jobs', { description: 'Jobs per trigger and status in the store (the same on every instance).' });
    const lastSuccess = meter.createObservableGauge('scheduler.trigger.last_success_timestamp', { description: 'When the trigger last had a job succeed.', unit: 's' });
    const late = meter.createObservableGauge('scheduler.trigger.late', { description: '1 while the trigger is late.' });
    const failing = meter.createObservableGauge('scheduler.trigger.failing', { description: '1 while its latest jobs all failed.' });
    meter.addBatchObservableCallback(
      async (result) => {
        const view = await cluster();
        for (const [trigger, figures] of Object.entries(view.jobs.byTrigger)) {
          for (const status of ['pending', 'running', 'failed'] as const) result.observe(jobs, figures[status], { 'scheduler.trigger.id': trigger, 'scheduler.job.status': status });
          if (figures.lastSucceededAt) result.observe(lastSuccess, figures.lastSucceededAt.getTime() / 1000, { 'scheduler.trigger.id': trigger });
        }
        for (const entry of view.late) result.observe(late, 1, { 'scheduler.trigger.id': entry.triggerId, 'messaging.destination.name': entry.handler });
        for (const id of view.failing) result.observe(failing, 1, { 'scheduler.trigger.id': id });
      },
      [jobs, lastSuccess, late, failing],
    );
  }

  /** @inheritdoc */
  add(key: InstrumentKey, labels: Record<string, string>, value: number): void {
    this.#counters.get(key)?.add(value, labels);
  }

  /** @inheritdoc */
  record(key: InstrumentKey, labels: Record<string, string>, value: number): void {
    this.#histograms.get(key)?.record(value, labels);
  }
}
