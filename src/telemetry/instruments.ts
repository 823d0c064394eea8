/**
 * The scheduler's metrics, defined once: names, help, labels and buckets, whichever exporter
 * carries them (prom-client for `GET /metrics`, an OpenTelemetry meter). Labels are low
 * cardinality only (handler, source, outcome, reason, operation); never a job id. docs/observability.md
 * lists the same table.
 */

/** A per-process instrument. */
export interface InstrumentDef {
  /** Counter (only goes up) or histogram (distribution of values). */
  kind: 'counter' | 'histogram';
  /** Prometheus name; the OpenTelemetry name is the same with dots (see `otelName`). */
  name: string;
  /** One-line description. */
  help: string;
  /** Label names. */
  labels: readonly string[];
  /** Unit of the values. */
  unit: 's' | '1';
  /** Histogram bucket bounds, in seconds. */
  buckets?: readonly number[];
}

/** Bounds for start lag: a scheduler's key figure, from a few ms (on time) to minutes (misfires). */
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800];
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Every per-process instrument. */
export const INSTRUMENTS = {
  jobs: { kind: 'counter', name: 'scheduler_jobs_total', help: 'Attempts that ended on this instance, by outcome (succeeded, failed, cancelled, retrying, skipped).', labels: ['handler', 'source', 'outcome'], unit: '1' },
  duration: { kind: 'histogram', name: 'scheduler_job_duration_seconds', help: 'Run time of attempts that ended on this instance.', labels: ['handler', 'outcome'], unit: 's', buckets: DURATION_BUCKETS },
  lag: { kind: 'histogram', name: 'scheduler_schedule_lag_seconds', help: "Start of a slot's first attempt minus the slot's time.", labels: ['handler', 'source'], unit: 's', buckets: LAG_BUCKETS },
  missed: { kind: 'counter', name: 'scheduler_slots_missed_total', help: 'Slots not run, by reason (misfire, overlap, window, paused).', labels: ['handler', 'reason'], unit: '1' },
  retries: { kind: 'counter', name: 'scheduler_job_retries_total', help: 'Failed attempts that will be tried again.', labels: ['handler'], unit: '1' },
  leasesLost: { kind: 'counter', name: 'scheduler_leases_lost_total', help: 'Leases this instance lost while running a job.', labels: [], unit: '1' },
  fencedRefused: { kind: 'counter', name: 'scheduler_fenced_writes_refused_total', help: "Writes of a job's end refused because another instance had taken the job over.", labels: [], unit: '1' },
  late: { kind: 'counter', name: 'scheduler_trigger_late_total', help: 'trigger:late events raised by this instance.', labels: ['handler'], unit: '1' },
  store: { kind: 'histogram', name: 'scheduler_store_call_duration_seconds', help: 'Latency of store calls, by operation (telemetry.metrics: true).', labels: ['operation'], unit: 's', buckets: STORE_BUCKETS },
} as const satisfies Record<string, InstrumentDef>;

/** Key of an instrument. */
export type InstrumentKey = keyof typeof INSTRUMENTS;

/**
 * A label set. The recorder hands the same object for the same values every time (it makes each
 * once), and never changes it: a sink may keep it, and key its series by the object itself.
 */
export type Labels = Readonly<Record<string, string>>;

/** Where the recorder puts values: one exporter's instruments. */
export interface MetricsSink {
  /** Add `value` to a counter. */
  add(key: InstrumentKey, labels: Labels, value: number): void;
  /** Record a value in a histogram. */
  record(key: InstrumentKey, labels: Labels, value: number): void;
}

/** The OpenTelemetry name of an instrument: `scheduler_job_duration_seconds` → `scheduler.job.duration`. */
export function otelName(def: InstrumentDef): string {
  return def.name.replace(/_(total|seconds)$/, '').replaceAll('_', '.');
}
