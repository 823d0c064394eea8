/**
 * `MongoJobStore.stats()`: job counts by status and, per trigger, runs, outcomes, the last finish
 * and success, failures since the last success, and duration and start-lag percentiles.
 *
 * Counts come from `$group` + `$sum` (the only accumulator FerretDB v1 implements). Last finish
 * time and percentiles are computed here from one bounded, projected query per trigger (its
 * `sampleSize` most recent finished jobs), because `$max` and percentile operators are not
 * available everywhere.
 */
import type { Collection, Filter } from 'mongodb';
import type { JobStatsSummary } from '../../ports.js';
import type { JobStatus } from '../../types.js';
import { emptyByTrigger, emptyStatusCounts, emptyTriggerStats, percentile } from '../stats.js';
import type { JobDocument } from './documents.js';
import { KNOWN_STATUSES } from './job-writes.js';

/** The figures of `stats()`, for one trigger (`triggerId`) or all. */
export async function jobStats(jobs: Collection<JobDocument>, triggerId: string | undefined, sampleSize: number): Promise<JobStatsSummary> {
    const scope: Filter<JobDocument> = triggerId === undefined ? {} : { triggerId };
    const [statusRows, finishedRows] = await Promise.all([
      jobs.aggregate<{ _id: unknown; n: number }>([{ $match: scope }, { $group: { _id: '$status', n: { $sum: 1 } } }]).toArray(),
      jobs
        .aggregate<{ _id: { triggerId?: unknown; status?: unknown }; n: number }>([
          { $match: { ...scope, status: { $in: ['succeeded', 'failed', 'pending', 'running', 'skipped'] } } },
          { $group: { _id: { triggerId: '$triggerId', status: '$status' }, n: { $sum: 1 } } },
        ])
        .toArray(),
    ]);
    const byStatus = emptyStatusCounts();
    for (const row of statusRows) {
      if (typeof row._id === 'string' && KNOWN_STATUSES.has(row._id)) byStatus[row._id as JobStatus] += row.n;
    }
    const byTrigger = emptyByTrigger();
    for (const row of finishedRows) {
      const { triggerId: rowTrigger, status } = row._id;
      if (typeof rowTrigger !== 'string') continue;
      if (status === 'pending' || status === 'running' || status === 'skipped') {
        (byTrigger[rowTrigger] ??= emptyTriggerStats())[status] += row.n;
        continue;
      }
      if (status !== 'succeeded' && status !== 'failed') continue;
      const entry = (byTrigger[rowTrigger] ??= emptyTriggerStats());
      entry.runs += row.n;
      entry[status] += row.n;
    }
    await forEachLimited(Object.keys(byTrigger), 4, async (id) => {
      const entry = byTrigger[id]!;
      if (entry.runs === 0) return;
      const docs = await jobs
        .find(
          { triggerId: id, status: { $in: ['succeeded', 'failed'] } },
          { projection: { _id: 0, status: 1, finishedAt: 1, 'metrics.durationMs': 1, 'metrics.queuedMs': 1 }, sort: { finishedAt: -1 }, limit: sampleSize },
        )
        .toArray();
      const durations: number[] = [];
      const lags: number[] = [];
      let sinceSuccess = true;
      for (const doc of docs) {
        if (doc.finishedAt instanceof Date && (!entry.lastFinishedAt || doc.finishedAt > entry.lastFinishedAt)) entry.lastFinishedAt = doc.finishedAt;
        // Newest first: the failures before the first success met are the ones since the last success.
        if (doc.status === 'succeeded' && sinceSuccess) {
          sinceSuccess = false;
          if (doc.finishedAt instanceof Date) entry.lastSucceededAt = doc.finishedAt;
        } else if (doc.status === 'failed' && sinceSuccess) entry.failedInRow += 1;
        const duration = (doc.metrics as { durationMs?: unknown } | undefined)?.durationMs;
        if (typeof duration === 'number') durations.push(duration);
        const lag = (doc.metrics as { queuedMs?: unknown } | undefined)?.queuedMs;
        if (typeof lag === 'number') lags.push(lag);
      }
      durations.sort((a, b) => a - b);
      entry.p50DurationMs = percentile(durations, 0.5);
      entry.p95DurationMs = percentile(durations, 0.95);
      lags.sort((a, b) => a - b);
      entry.p50LagMs = percentile(lags, 0.5);
      entry.p95LagMs = percentile(lags, 0.95);
      // A last success older than the whole sample: one more read, by the same index.
      if (sinceSuccess && entry.succeeded > 0) {
        const last = await jobs.findOne({ triggerId: id, status: 'succeeded' }, { projection: { _id: 0, finishedAt: 1 }, sort: { finishedAt: -1 } });
        if (last?.finishedAt instanceof Date) entry.lastSucceededAt = last.finishedAt;
      }
    });
    return { byStatus, byTrigger };
}

async function forEachLimited<T>(items: readonly T[], concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
