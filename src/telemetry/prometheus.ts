/**
 * The Prometheus exposition of a scheduler, on prom-client (an optional peer dependency, loaded on
 * first use): the per-process instruments fed by the recorder, and the cluster's figures read from
 * the store once per scrape (through the scheduler's cached cluster view, which every gauge of one
 * scrape shares). Cluster figures are the same on every instance: query them with `max by`, never `sum`.
 */
import { InvalidArgumentError } from '../errors.js';
import type { ClusterSnapshot } from '../engine/cluster-view.js';
import { INSTRUMENTS, type InstrumentKey, type Labels, type MetricsSink } from './instruments.js';

type PromClient = typeof import('prom-client');
type Counter = import('prom-client').Counter;
type Histogram = import('prom-client').Histogram;
type Registry = import('prom-client').Registry;

let loading: Promise<PromClient> | null = null;

/** prom-client, imported once; a clear error naming the package when it is not installed. */
export function loadPromClient(): Promise<PromClient> {
  loading ??= import('prom-client').then(
    (module: PromClient & { default?: PromClient }) => (module.Registry ? module : (module.default ?? module)),
    (error: unknown) => {
      loading = null;
      throw new InvalidArgumentError(
        'telemetry.metrics',
        `needs the optional peer dependency prom-client (npm install prom-client): ${error instanceof Error ? error.message : String(error)}`,
      );
    },
  );
  return loading;
}

/** A scrape's answer. */
export interface MetricsText {
  /** `Content-Type` of the body (Prometheus text format 0.0.4). */
  contentType: string;
  /** The exposition. */
  body: string;
}

/** One scheduler's metrics in a prom-client registry of its own. */
export class PrometheusExporter implements MetricsSink {
  readonly #registry: Registry;
  readonly #counters = new Map<InstrumentKey, Counter>();
  readonly #histograms = new Map<InstrumentKey, Histogram>();

  constructor(prom: PromClient, cluster: () => Promise<ClusterSnapshot>) {
    const registry = (this.#registry = new prom.Registry());
    for (const [key, def] of Object.entries(INSTRUMENTS) as Array<[InstrumentKey, (typeof INSTRUMENTS)[InstrumentKey]]>) {
      const common = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [registry] };
      if (def.kind === 'counter') this.#counters.set(key, new prom.Counter(common));
      else this.#histograms.set(key, new prom.Histogram({ ...common, buckets: [...('buckets' in def ? def.buckets : [])] }));
    }
    // Cluster gauges: each reads the snapshot in its collect(); the view serves one read to all of them.
    const gauge = (name: string, help: string, labelNames: string[], fill: (g: import('prom-client').Gauge, view: ClusterSnapshot) => void): void => {
      new prom.Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        async collect() {
          this.reset();
          fill(this, await cluster());
        },
      });
    };
    gauge('scheduler_cluster_jobs', 'Jobs per trigger and status (pending, running, failed) in the store: the same on every instance.', ['trigger', 'status'], (g, view) => {
      for (const [trigger, figures] of Object.entries(view.jobs.byTrigger)) {
        g.set({ trigger, status: 'pending' }, figures.pending);
        g.set({ trigger, status: 'running' }, figures.running);
        g.set({ trigger, status: 'failed' }, figures.failed);
      }
    });
    gauge('scheduler_trigger_last_success_timestamp_seconds', 'When the trigger last had a job succeed (Unix seconds), from the store.', ['trigger'], (g, view) => {
      for (const [trigger, figures] of Object.entries(view.jobs.byTrigger)) {
        if (figures.lastSucceededAt) g.set({ trigger }, figures.lastSucceededAt.getTime() / 1000);
      }
    });
    gauge('scheduler_trigger_late', 'Triggers whose next slot has not started alertAfterMs after its time (1 while late).', ['trigger', 'handler'], (g, view) => {
      for (const late of view.late) g.set({ trigger: late.triggerId, handler: late.handler }, 1);
    });
    gauge('scheduler_trigger_failing', 'Triggers whose latest finished jobs all failed (1 while failing).', ['trigger'], (g, view) => {
      for (const trigger of view.failing) g.set({ trigger }, 1);
    });
  }

  /** @inheritdoc */
  add(key: InstrumentKey, labels: Labels, value: number): void {
    this.#counters.get(key)?.inc(labels, value);
  }

  /** @inheritdoc */
  record(key: InstrumentKey, labels: Labels, value: number): void {
    this.#histograms.get(key)?.observe(labels, value);
  }

  /** The exposition now. */
  async text(): Promise<MetricsText> {
    return { contentType: this.#registry.contentType, body: await this.#registry.metrics() };
  }
}
