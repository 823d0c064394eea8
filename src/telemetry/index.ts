/**
 * The scheduler's telemetry: one object per `Scheduler` that owns the metric exporters, feeds
 * them from the scheduler's events, and times store calls when asked to. The engine knows
 * nothing of it; the `Scheduler` makes it once and asks it for `GET /metrics`.
 */
import type { EventEmitter } from 'eventemitter3';
import type { ClusterSnapshot } from '../engine/cluster-view.js';
import type { SchedulerEvents } from '../events.js';
import type { JobStore, LockManager, TriggerStore } from '../ports.js';
import type { MetricsSink } from './instruments.js';
import { loadPromClient, PrometheusExporter, type MetricsText } from './prometheus.js';
import { recordEvents } from './recorder.js';
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
  readonly #scheduler: EventEmitter<SchedulerEvents>;
  readonly #cluster: () => Promise<ClusterSnapshot>;
  readonly #sinks: MetricsSink[] = [];
  #prometheus: Promise<PrometheusExporter> | null = null;
  #recording = false;

  /**
   * @param metrics whether metrics are wanted from the start (`telemetry.metrics`)
   */
  constructor(scheduler: EventEmitter<SchedulerEvents>, cluster: () => Promise<ClusterSnapshot>, readonly metrics: boolean) {
    this.#scheduler = scheduler;
    this.#cluster = cluster;
  }

  /** The stores to use: timed when metrics are on from the start, else as given. */
  stores<S extends Stores>(stores: S): S {
    if (!this.metrics) return stores;
    return {
      ...stores,
      triggerStore: timedStore(stores.triggerStore, 'trigger', this.#sinks),
      jobStore: timedStore(stores.jobStore, 'job', this.#sinks),
      lockManager: timedStore(stores.lockManager, 'lock', this.#sinks),
    };
  }

  /** At start: load the exporters wanted from the start (an error naming the missing package otherwise). */
  async start(): Promise<void> {
    if (this.metrics) await this.#exporter();
  }

  /** The Prometheus exposition; the first call loads prom-client and starts counting (when not already on). */
  async prometheusText(): Promise<MetricsText> {
    return (await this.#exporter()).text();
  }

  #exporter(): Promise<PrometheusExporter> {
    this.#prometheus ??= loadPromClient().then(
      (prom) => {
        const exporter = new PrometheusExporter(prom, this.#cluster);
        this.#sinks.push(exporter);
        if (!this.#recording) {
          this.#recording = true;
          recordEvents(this.#scheduler, this.#sinks);
        }
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
