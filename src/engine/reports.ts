/**
 * What `health()` and `stats()` answer: the shapes, and the per-trigger figures of `stats()`
 * gathered from the job store's summary and the triggers themselves.
 */
import type { JobStatus } from '../types.js';
import type { EngineContext } from './context.js';
import { isFailing, isLate, type LateTrigger } from './alerts.js';
import type { RenewalSummary } from './renewal-times.js';
import type { UnhandledWork } from './unhandled.js';
import type { OverloadReport } from './store-pressure.js';

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
  /**
   * Work that no live instance can run: each handler name that active triggers or pending jobs
   * carry but no live instance (one that started and polls) has registered, with the counts, in
   * name order; `[]` when every handler is covered. `null` when it cannot be told: the backend
   * lacks `LockManager.holders` or the `count…ByHandler` methods, this instance races
   * (`ownership: 'race'`), or the store failed just now. Reused for up to 5 s.
   */
  unhandled: UnhandledWork[] | null;
  /**
   * Triggers whose next slot has not started `alertAfterMs` after its time, cluster-wide, read from
   * the store (one indexed query); `null` when the store could not answer.
   */
  lateTriggers: LateTrigger[] | null;
  /**
   * Ids of the triggers whose latest finished jobs all failed (see `TriggerStats.failing`), from a
   * read of the job summary at most a minute old; `null` when the store could not answer.
   */
  failingTriggers: string[] | null;
  /**
   * While the store answers too slowly for the work this instance holds: why, since when, and
   * how many jobs it takes at most meanwhile (below `concurrency`); `null` otherwise.
   */
  overload: OverloadReport | null;
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
  /** Jobs pending now (waiting for their time, a retry, a permit or an instance). */
  pending: number;
  /** Jobs running now, on any instance. */
  running: number;
  /** When its last succeeded job finished. */
  lastSucceededAt: Date | null;
  /** Jobs recorded `skipped` (overlap, window, withdrawn); misfire skips write no job (see `slot:missed`). */
  skipped: number;
  /** Median start lag (start minus slot, or minus the retry's due time) of finished jobs. */
  p50LagMs: number | null;
  /** 95th percentile start lag of finished jobs. */
  p95LagMs: number | null;
  /** Whether its latest finished jobs all failed (the last 3, or all when fewer ran). */
  failing: boolean;
  /** Whether its next slot has not started `alertAfterMs` after its time. */
  late: boolean;
}

/** Answer of `stats()`. */
export interface SchedulerStats {
  /** Job counts per status. */
  jobs: Record<JobStatus, number>;
  /** Figures per trigger that has jobs (or the requested one). */
  triggers: Record<string, TriggerStats>;
}

/** Whether both stores answer a ping now. */
export async function storesReachable(ctx: EngineContext): Promise<boolean> {
  try {
    await Promise.all([ctx.o.triggerStore.ping(), ctx.o.jobStore.ping()]);
    return true;
  } catch {
    return false;
  }
}

/** Job counts by status, and per trigger: runs, successes, failures, last and next run, p50/p95 duration. */
export async function collectStats(ctx: EngineContext, filter: { triggerId?: string }): Promise<SchedulerStats> {
  const { jobStore, triggerStore } = ctx.o;
  const summary = await ctx.store(() => jobStore.stats(filter), 'job stats');
  const ids = new Set(Object.keys(summary.byTrigger));
  if (filter.triggerId !== undefined) ids.add(filter.triggerId);
  // Keyed by user ids: a null prototype keeps `__proto__` an ordinary key.
  const triggers = Object.create(null) as Record<string, TriggerStats>;
  for (const id of ids) {
    const figures = summary.byTrigger[id];
    const trigger = await ctx.store(() => triggerStore.get(id), 'get trigger');
    triggers[id] = {
      runs: figures?.runs ?? 0,
      succeeded: figures?.succeeded ?? 0,
      failed: figures?.failed ?? 0,
      lastRunAt: trigger?.lastRunAt ?? figures?.lastFinishedAt ?? null,
      nextRunAt: trigger?.nextRunAt ?? null,
      p50DurationMs: figures?.p50DurationMs ?? null,
      p95DurationMs: figures?.p95DurationMs ?? null,
      pending: figures?.pending ?? 0,
      running: figures?.running ?? 0,
      lastSucceededAt: figures?.lastSucceededAt ?? null,
      skipped: figures?.skipped ?? 0,
      p50LagMs: figures?.p50LagMs ?? null,
      p95LagMs: figures?.p95LagMs ?? null,
      failing: figures ? isFailing(figures) : false,
      late: trigger ? isLate(trigger, ctx.o.clock.now()) : false,
    };
  }
  return { jobs: summary.byStatus, triggers };
}
