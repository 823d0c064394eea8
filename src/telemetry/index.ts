/**
 * The scheduler's telemetry: one object per `Scheduler` that owns the metric exporters, feeds
 * them from the scheduler's events, and times store calls when asked to. The engine knows
 * nothing of it but two hooks, `traceSend` in its options and `observe` on its context (a tap on its events, so
 * telemetry adds no listener to the scheduler: an app's `removeAllListeners()` cannot turn it
 * off, and no event snapshot is made for it); the `Scheduler` makes it once and asks it for
 * `GET /metrics`.
 */
import type { ClusterSnapshot } from '../engine/cluster-view.js';
import type { EventTap } from '../engine/options.js';
import type { JobStore, LockManager, TriggerStore } from '../ports.js';
import type { Job } from '../types.js';
import type { MetricsSink } from './instruments.js';
import { loadOtelApi, otelMeter, OtelMetrics, OtelTracing, type OtelProviders } from './otel.js';
import { loadPromClient, PrometheusExporter, type MetricsText } from './prometheus.js';
import { recordEvents, type EventListeners } from './recorder.js';
import { timedStore } from './store-timing.js';

export type { MetricsText } from './prometheus.js';

/** Stores as the scheduler uses them. */
interface Stores {
  triggerStore: TriggerStore;
  jobStore: JobStore;
  lockManager: LockManager;
}

/** Telemetry of one scheduler. */
export class Telemetry {
  readonly #cluster: () => Promise<ClusterSnapshot>;
  readonly #sinks: MetricsSink[] = [];
  #prometheus: Promise<PrometheusExporter> | null = null;
  #recording = false;

  readonly metrics: boolean;
  readonly #otel: OtelProviders | null;
  #otelOn = false;
  /** The engine's context (set by `attach`), whose `observe` tap this sets. */
  #engine: { observe: EventTap | null } | null = null;
  /** What the tap calls, by event name. */
  readonly #taps = new Map<string, Array<(payload: never) => void>>();

  /**
   * @param options `metrics`: whether metrics are wanted from the start (`telemetry.metrics`);
   *   `otel`: the OpenTelemetry providers, `null` when it is off
   */
  constructor(cluster: () => Promise<ClusterSnapshot>, options: { metrics: boolean; otel: OtelProviders | null }) {
    this.#cluster = cluster;
    this.metrics = options.metrics;
    this.#otel = options.otel;
  }

  /** The stores to use: timed when metrics are on from the start, else as given. */
  stores<S extends Stores>(stores: S): S {
    if (!this.#timed) return stores;
    return {
      ...stores,
      triggerStore: timedStore(stores.triggerStore, 'trigger', this.#sinks),
      jobStore: timedStore(stores.jobStore, 'job', this.#sinks),
      lockManager: timedStore(stores.lockManager, 'lock', this.#sinks),
    };
  }

  /** The engine context whose events the telemetry taps, once it counts or traces. */
  attach(engine: { observe: EventTap | null }): void {
    this.#engine = engine;
    if (this.#taps.size > 0) engine.observe = this.#dispatch;
  }

  /** The stores are timed when any metrics exporter is wanted from the start. */
  get #timed(): boolean {
    return this.metrics || (this.#otel !== null && this.#otel.meterProvider !== null);
  }

  /**
   * At start: load the exporters wanted from the start (an error naming the missing package
   * otherwise), and bind the `send` span hook into `engine` (once: later starts keep it).
   */
  async start(engine: { traceSend: ((job: Job) => string | null) | null }): Promise<void> {
    if (this.metrics) await this.#exporter();
    if (this.#otel === null || this.#otelOn) return;
    const api = await loadOtelApi();
    const tracing = new OtelTracing(api, this.#otel);
    this.#tap(tracing.listeners());
    engine.traceSend = tracing.send;
    const meter = otelMeter(api, this.#otel);
    if (meter !== null) {
      this.#sinks.push(new OtelMetrics(meter, this.#cluster));
      this.#record();
    }
    this.#otelOn = true;
  }

  /** The Prometheus exposition; the first call loads prom-client and starts counting (when not already on). */
  async prometheusText(): Promise<MetricsText> {
    return (await this.#exporter()).text();
  }

  /** Feed the sinks from the scheduler's events (once, whichever exporter comes first). */
  #record(): void {
    if (this.#recording) return;
    this.#recording = true;
    this.#tap(recordEvents(this.#sinks));
  }

  /** Have the engine's tap call `listeners` on their events. */
  #tap(listeners: EventListeners): void {
    for (const [event, fn] of Object.entries(listeners) as Array<[string, (payload: never) => void]>) {
      const fns = this.#taps.get(event);
      if (fns === undefined) this.#taps.set(event, [fn]);
      else fns.push(fn);
    }
    if (this.#engine !== null) this.#engine.observe = this.#dispatch;
  }

  readonly #dispatch: EventTap = (event, payload) => {
    const fns = this.#taps.get(event);
    if (fns !== undefined) for (const fn of fns) fn(payload as never);
  };

  #exporter(): Promise<PrometheusExporter> {
    this.#prometheus ??= loadPromClient().then(
      (prom) => {
        const exporter = new PrometheusExporter(prom, this.#cluster);
        this.#sinks.push(exporter);
        this.#record();
        return exporter;
      },
      (error: unknown) => {
        this.#prometheus = null;
        throw error;
      },
    );
    return this.#prometheus;
  }
}
