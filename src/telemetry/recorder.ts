/**
 * Per-process metrics from the scheduler's own events: the engine already emits one event per
 * start, end, retry, skip, missed slot and lost lease, so counting them needs no hook of its own
 * in the hot path, and a scheduler nobody measures pays nothing (the telemetry's tap on the events
 * is one `null` check per event until something counts or traces).
 */
import type { SchedulerEvents } from '../events.js';
import type { Job } from '../types.js';
import type { Labels, MetricsSink } from './instruments.js';

/** Why a job was recorded `skipped`, from its last history entry (the engine's wording). */
export function skipReason(job: Job): 'overlap' | 'window' | 'paused' | 'other' {
  const reason = job.history[job.history.length - 1]?.reason ?? '';
  if (reason.startsWith('overlap')) return 'overlap';
  if (reason.startsWith('outside the trigger window')) return 'window';
  if (reason.startsWith('slot withdrawn')) return 'paused';
  return 'other';
}

/** The label sets of one handler, made on first use. */
interface HandlerLabels {
  handler: Labels;
  /** `{ handler, source }` by source. */
  lag: Map<string, Labels>;
  /** `{ handler, outcome }` by outcome. */
  duration: Map<string, Labels>;
  /** `{ handler, source, outcome }` by source, then outcome. */
  jobs: Map<string, Map<string, Labels>>;
  /** `{ handler, reason }` by reason. */
  missed: Map<string, Labels>;
}

const NO_LABELS: Labels = {};

/**
 * Label sets made once per distinct combination of values and handed out again for every record,
 * so that recording a job allocates nothing and a sink may key its series by the object itself
 * (see `Labels`). Their number is bounded like the series themselves: by the handlers, times the
 * fixed sources, outcomes and reasons.
 */
class LabelSets {
  readonly #byHandler = new Map<string, HandlerLabels>();

  #of(handler: string): HandlerLabels {
    let sets = this.#byHandler.get(handler);
    if (sets === undefined) {
      sets = { handler: { handler }, lag: new Map(), duration: new Map(), jobs: new Map(), missed: new Map() };
      this.#byHandler.set(handler, sets);
    }
    return sets;
  }

  handler(handler: string): Labels {
    return this.#of(handler).handler;
  }

  lag(handler: string, source: string): Labels {
    const sets = this.#of(handler).lag;
    let labels = sets.get(source);
    if (labels === undefined) sets.set(source, (labels = { handler, source }));
    return labels;
  }

  duration(handler: string, outcome: string): Labels {
    const sets = this.#of(handler).duration;
    let labels = sets.get(outcome);
    if (labels === undefined) sets.set(outcome, (labels = { handler, outcome }));
    return labels;
  }

  jobs(handler: string, source: string, outcome: string): Labels {
    const bySource = this.#of(handler).jobs;
    let sets = bySource.get(source);
    if (sets === undefined) bySource.set(source, (sets = new Map<string, Labels>()));
    let labels = sets.get(outcome);
    if (labels === undefined) sets.set(outcome, (labels = { handler, source, outcome }));
    return labels;
  }

  missed(handler: string, reason: string): Labels {
    const sets = this.#of(handler).missed;
    let labels = sets.get(reason);
    if (labels === undefined) sets.set(reason, (labels = { handler, reason }));
    return labels;
  }
}

/** What telemetry does on each scheduler event, by event name (the telemetry's tap calls them). */
export type EventListeners = { [K in keyof SchedulerEvents]?: (payload: SchedulerEvents[K][0]) => void };

/** What feeds `sinks` from the scheduler's events (the array is read at each event, so sinks may come later). */
export function recordEvents(sinks: readonly MetricsSink[]): EventListeners {
  const labels = new LabelSets();
  const add = (key: Parameters<MetricsSink['add']>[0], set: Labels, value = 1): void => {
    for (const sink of sinks) sink.add(key, set, value);
  };
  const record = (key: Parameters<MetricsSink['record']>[0], set: Labels, value: number): void => {
    for (const sink of sinks) sink.record(key, set, value);
  };
  const ended = (outcome: string) => (job: Job) => {
    add('jobs', labels.jobs(job.handler, job.source, outcome));
    const ms = job.metrics.durationMs;
    if (ms !== null && outcome !== 'skipped') record('duration', labels.duration(job.handler, outcome), ms / 1000);
  };
  const retrying = ended('retrying');
  const skipped = ended('skipped');
  return {
    'job:started': (job) => {
      // The slot's own start only: a retry's or a stall's re-run is late by design.
      if (job.attempts === 1 && job.stalls === 0 && job.startedAt) {
        record('lag', labels.lag(job.handler, job.source), Math.max(0, job.startedAt.getTime() - job.scheduledFor.getTime()) / 1000);
      }
    },
    'job:succeeded': ended('succeeded'),
    'job:failed': ended('failed'),
    'job:cancelled': ended('cancelled'),
    'job:retrying': (job) => {
      retrying(job);
      add('retries', labels.handler(job.handler));
    },
    'job:skipped': (job) => {
      skipped(job);
      add('missed', labels.missed(job.handler, skipReason(job)));
    },
    'slot:missed': (event) => add('missed', labels.missed(event.handler, 'misfire'), event.count),
    'lease:lost': (event) => add(event.reason === 'fenced' ? 'fencedRefused' : 'leasesLost', NO_LABELS),
    'trigger:late': (event) => add('late', labels.handler(event.handler)),
  };
}
