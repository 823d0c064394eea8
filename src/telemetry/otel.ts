/**
 * OpenTelemetry: spans and metrics through `@opentelemetry/api` (an optional peer dependency,
 * imported once at `start()` and only when asked for). A `send` span (PRODUCER) is recorded when a
 * job is created, and its `traceparent` stored on the job; each attempt gets a `process` span
 * (CONSUMER) whose parent is that context, so a trace crosses instances through the store. Lease
 * trouble, fencing refusals, misfire and overlap decisions are span events. The metrics are the
 * same instruments as Prometheus', on the given meter.
 */
import { InvalidArgumentError } from '../errors.js';
import type { ClusterSnapshot } from '../engine/cluster-view.js';
import type { Job } from '../types.js';
import { INSTRUMENTS, otelName, type InstrumentKey, type Labels, type MetricsSink } from './instruments.js';
import { skipReason, type EventListeners } from './recorder.js';

type OtelApi = typeof import('@opentelemetry/api');
type Span = import('@opentelemetry/api').Span;
type Tracer = import('@opentelemetry/api').Tracer;
type Attributes = import('@opentelemetry/api').Attributes;
type SpanKind = import('@opentelemetry/api').SpanKind;
type SpanOptions = import('@opentelemetry/api').SpanOptions;
type SpanContext = import('@opentelemetry/api').SpanContext;
type Meter = import('@opentelemetry/api').Meter;
type ObservableCounter = import('@opentelemetry/api').ObservableCounter;
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
      throw new InvalidArgumentError(
        'telemetry.opentelemetry',
        `needs the optional peer dependency @opentelemetry/api (npm install @opentelemetry/api): ${error instanceof Error ? error.message : String(error)}`,
      );
    },
  );
  return loading;
}

/**
 * What the spans of one handler share, made once: names, and the attributes given at span
 * creation. Those are the ones the messaging conventions call sampling-relevant (system,
 * operation, destination), so a sampler sees them; the rest are set right after, and only on a
 * span that records (see `OtelTracing`).
 */
interface HandlerSpans {
  sendName: string;
  processName: string;
  send: SpanOptions;
  process: SpanOptions;
  consumer: SpanKind;
  processAttributes: Attributes;
}

function handlerSpans(handler: string, producer: SpanKind, consumer: SpanKind): HandlerSpans {
  const attributes = (operation: 'send' | 'process'): Attributes => ({
    'messaging.system': 'intellibrowse-scheduler',
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.destination.name': handler,
  });
  const processAttributes = attributes('process');
  return {
    sendName: `send ${handler}`,
    processName: `process ${handler}`,
    send: { kind: producer, attributes: attributes('send') },
    process: { kind: consumer, attributes: processAttributes },
    consumer,
    processAttributes,
  };
}

/**
 * Spans of one scheduler. The work per job is kept to what a recorded span needs: names and
 * creation attributes are made once per handler, the job's own attributes are set only when
 * `span.isRecording()` (a span a sampler dropped, or any span of the API's no-op tracer, gets
 * none of that work), and only recording spans are kept open until the attempt ends.
 */
export class OtelTracing {
  readonly #api: OtelApi;
  readonly #tracer: Tracer;
  /** Open `process` spans by job id: one per attempt running here (recording spans only). */
  readonly #open = new Map<string, Span>();
  readonly #handlers = new Map<string, HandlerSpans>();
  /** The last slot written as ISO 8601: the jobs of one slot, or one burst, share it. */
  #slotMs = Number.NaN;
  #slotIso = '';

  /**
   * Whether the tracer is the global one with no SDK behind it (yet): `null` once one is (a
   * registration cannot be taken back but by `trace.disable()`), or when a provider was given.
   */
  #idle: (() => boolean) | null = null;

  constructor(api: OtelApi, providers: OtelProviders) {
    this.#api = api;
    const provider = providers.tracerProvider ?? api.trace.getTracerProvider();
    this.#tracer = provider.getTracer(SCOPE);
    // The global provider is a proxy whose tracers use the API's no-op tracer until an SDK is
    // registered behind it. While so, a span would record nothing: skip making it.
    if (providers.tracerProvider === null && provider instanceof api.ProxyTracerProvider) {
      const noop = new api.ProxyTracerProvider().getDelegate();
      this.#idle = () => provider.getDelegate() === noop;
    }
  }

  /** Whether spans would go nowhere now (checked per job: an SDK registered later is used from then on). */
  #noSdk(): boolean {
    if (this.#idle === null) return false;
    if (this.#idle()) return true;
    this.#idle = null;
    return false;
  }

  #handler(handler: string): HandlerSpans {
    let spans = this.#handlers.get(handler);
    if (spans === undefined) {
      spans = handlerSpans(handler, this.#api.SpanKind.PRODUCER, this.#api.SpanKind.CONSUMER);
      this.#handlers.set(handler, spans);
    }
    return spans;
  }

  #slot(job: Job): string {
    const ms = job.scheduledFor.getTime();
    if (ms !== this.#slotMs) {
      this.#slotMs = ms;
      this.#slotIso = job.scheduledFor.toISOString();
    }
    return this.#slotIso;
  }

  /** The attributes of a job's span that are not given at its creation. */
  #setJobAttributes(span: Span, job: Job): void {
    span.setAttribute('messaging.message.id', job.id);
    span.setAttribute('scheduler.trigger.id', job.triggerId);
    span.setAttribute('scheduler.slot', this.#slot(job));
    span.setAttribute('scheduler.job.source', job.source);
  }

  /** The `send` span of a new job (ended at once); its context as a W3C `traceparent`. */
  readonly send = (job: Job): string | null => {
    // The no-op tracer's span carries the active context's span, if any: so does the job.
    if (this.#noSdk()) return traceparentOf(this.#api, this.#api.trace.getSpanContext(this.#api.context.active()));
    const spans = this.#handler(job.handler);
    const span = this.#tracer.startSpan(spans.sendName, spans.send);
    if (span.isRecording()) this.#setJobAttributes(span, job);
    span.end();
    // A span a sampler dropped still has a valid context: passing it on lets the attempts' samplers
    // (parent-based ones) drop theirs too.
    return traceparentOf(this.#api, span.spanContext());
  };

  /** What to do on the scheduler's events. */
  listeners(): EventListeners {
    const end = (outcome: string) => (job: Job) => this.#end(job, outcome);
    return {
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
  }

  /**
   * The `process` span of an attempt. Its parent is the job's `traceparent`, read directly: it is
   * always the W3C form this class wrote, which is what a W3C propagator would extract, and
   * without a propagator's carrier and getters per job.
   */
  #startSpan(job: Job): Span {
    const { trace, context } = this.#api;
    const spans = this.#handler(job.handler);
    const producer = job.traceparent === null ? null : parseTraceparent(job.traceparent);
    const span =
      producer === null
        ? this.#tracer.startSpan(spans.processName, spans.process)
        : this.#tracer.startSpan(spans.processName, { kind: spans.consumer, attributes: spans.processAttributes, links: [{ context: producer }] }, trace.setSpanContext(context.active(), producer));
    if (span.isRecording()) {
      this.#setJobAttributes(span, job);
      span.setAttribute('scheduler.attempt', job.attempts);
    }
    return span;
  }

  #start(job: Job): void {
    if (this.#noSdk()) return;
    const span = this.#startSpan(job);
    const previous = this.#open.get(job.id);
    if (previous !== undefined) {
      previous.end();
      this.#open.delete(job.id);
    }
    // A span that records nothing has nothing to add at the attempt's end: it ends now.
    if (span.isRecording()) this.#open.set(job.id, span);
    else span.end();
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

/** `context` as a W3C `traceparent`; `null` when it is missing or not valid. */
function traceparentOf(api: OtelApi, context: SpanContext | undefined): string | null {
  if (context === undefined || !api.trace.isSpanContextValid(context)) return null;
  const flags = context.traceFlags & 0xff;
  return `00-${context.traceId}-${context.spanId}-${flags < 16 ? '0' : ''}${flags.toString(16)}`;
}

/**
 * A `traceparent` (version 00, as this file writes it) read by its fixed positions: cheaper per
 * job than a regular expression. Ids that are not hex, or all zeros, make an invalid context,
 * which the tracer takes for no parent (`isSpanContextValid` checks them); `null` for any other shape.
 */
export function parseTraceparent(value: string): SpanContext | null {
  if (value.length !== 55 || !value.startsWith('00-') || value[35] !== '-' || value[52] !== '-') return null;
  const traceFlags = Number.parseInt(value.slice(53), 16);
  if (Number.isNaN(traceFlags)) return null;
  return { traceId: value.slice(3, 35), spanId: value.slice(36, 52), traceFlags, isRemote: true };
}

/**
 * The scheduler's meter; `null` when it is the API's no-op meter (the global one with no SDK
 * registered at start: the metrics API has no proxy, so its instruments would stay no-ops
 * even if one were registered later), so that nothing is counted for nothing.
 */
export function otelMeter(api: OtelApi, providers: OtelProviders): Meter | null {
  const meter = (providers.meterProvider ?? api.metrics.getMeterProvider()).getMeter(SCOPE);
  return meter === api.createNoopMeter() ? null : meter;
}

/**
 * The scheduler's instruments on an OpenTelemetry meter, and the cluster's figures as observable
 * gauges. Counters are asynchronous (`ObservableCounter`): each sum is kept here, one number per
 * label set, and handed to the meter at each collection, so counting a job is a map update instead
 * of a measurement through the SDK (which hashes the attributes of every one). The exported data
 * is the same monotonic sum a synchronous counter gives. Histograms have no asynchronous form in
 * OpenTelemetry: they record each value.
 */
export class OtelMetrics implements MetricsSink {
  /** Per counter: its sum by label set, keyed by the recorder's interned label objects. */
  readonly #sums = new Map<InstrumentKey, Map<Labels, number>>();
  readonly #histograms = new Map<InstrumentKey, Histogram>();

  constructor(meter: Meter, cluster: () => Promise<ClusterSnapshot>) {
    const counters: Array<[ObservableCounter, Map<Labels, number>]> = [];
    for (const [key, def] of Object.entries(INSTRUMENTS) as Array<[InstrumentKey, (typeof INSTRUMENTS)[InstrumentKey]]>) {
      const options = { description: def.help, unit: def.unit };
      if (def.kind === 'counter') {
        const sums = new Map<Labels, number>();
        this.#sums.set(key, sums);
        counters.push([meter.createObservableCounter(otelName(def), options), sums]);
      } else {
        const buckets = 'buckets' in def ? [...def.buckets] : [];
        this.#histograms.set(key, meter.createHistogram(otelName(def), { ...options, advice: { explicitBucketBoundaries: buckets } }));
      }
    }
    meter.addBatchObservableCallback(
      (result) => {
        for (const [counter, sums] of counters) for (const [labels, sum] of sums) result.observe(counter, sum, labels);
      },
      counters.map(([counter]) => counter),
    );
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
  add(key: InstrumentKey, labels: Labels, value: number): void {
    const sums = this.#sums.get(key);
    if (sums !== undefined) sums.set(labels, (sums.get(labels) ?? 0) + value);
  }

  /** @inheritdoc */
  record(key: InstrumentKey, labels: Labels, value: number): void {
    this.#histograms.get(key)?.record(value, labels);
  }
}
