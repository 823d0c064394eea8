/**
 * The cluster's figures as the store has them (job counts per trigger and status, last successes,
 * late and failing triggers), read at most once per `maxAgeMs` and shared by every caller meanwhile.
 * Health checks and metric scrapes come often and from every instance; the store's summary reads
 * whole collections, so one read serves them all for a few seconds, and one read in flight is
 * awaited by the callers that come while it runs instead of starting another.
 */
import type { JobStatsSummary } from '../ports.js';
import { Alerts, isFailing, type LateTrigger } from './alerts.js';
import type { EngineContext } from './context.js';

/** How long a read serves, by default, in ms. */
export const CLUSTER_VIEW_MAX_AGE_MS = 5000;

/** The cluster's figures at one instant. */
export interface ClusterSnapshot {
  /** When they were read (local clock). */
  at: Date;
  /** Job counts per status, and per trigger (see `JobStore.stats`). */
  jobs: JobStatsSummary;
  /** Triggers whose next slot has not started `alertAfterMs` after its time. */
  late: LateTrigger[];
  /** Ids of the triggers whose latest finished jobs all failed. */
  failing: string[];
}

/** One cached read of the cluster's figures. */
export class ClusterView {
  readonly #ctx: EngineContext;
  readonly #alerts: Alerts;
  #last: ClusterSnapshot | null = null;
  #reading: Promise<ClusterSnapshot> | null = null;

  constructor(ctx: EngineContext, alerts: Alerts) {
    this.#ctx = ctx;
    this.#alerts = alerts;
  }

  /** The figures, read again when the last read is older than `maxAgeMs`. */
  get(maxAgeMs = CLUSTER_VIEW_MAX_AGE_MS): Promise<ClusterSnapshot> {
    const now = this.#ctx.o.clock.now();
    if (this.#last && now - this.#last.at.getTime() < maxAgeMs) return Promise.resolve(this.#last);
    this.#reading ??= this.#read(now).finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }

  async #read(now: number): Promise<ClusterSnapshot> {
    const [jobs, late] = await Promise.all([this.#ctx.o.jobStore.stats({}), this.#alerts.late(now)]);
    const failing: string[] = [];
    for (const [id, figures] of Object.entries(jobs.byTrigger)) if (isFailing(figures)) failing.push(id);
    failing.sort();
    this.#last = { at: new Date(now), jobs, late, failing };
    return this.#last;
  }
}
