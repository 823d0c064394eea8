/**
 * The stats view (`#/stats`): the store's jobs per status as cards and a bar chart, and per
 * trigger their outcomes and p50 / p95 durations, kept current by the event stream.
 */
import type { StatsAnswer } from '../../../management/types.js';
import { JOB_STATUSES, type JobStatus } from '../../../types.js';
import { api, failed } from '../api.js';
import { card } from '../cells.js';
import { barChart, legend, type BarChartOptions, type BarRow } from '../charts.js';
import { on, scheduleRefresh, state, triggerName } from '../context.js';
import { $, append, clear } from '../dom.js';
import { loadTriggerIndex } from '../trigger-index.js';
import { formatDuration } from '../words.js';

/** Where each status sits in the chart, outcomes first: a `Record`, so a new status must be placed. */
const STATUS_RANK: Readonly<Record<JobStatus, number>> = { succeeded: 0, failed: 1, running: 2, pending: 3, cancelled: 4, skipped: 5 };
const STATUS_ORDER: readonly JobStatus[] = [...JOB_STATUSES].sort((a, b) => STATUS_RANK[a] - STATUS_RANK[b]);

/** Draw `rows` into the chart `chartId`, described in words for screen readers. */
function chart(chartId: string, rows: BarRow[], options: BarChartOptions, words: string): void {
  const box = $(chartId);
  append(clear(box), barChart(box, rows, options));
  box.setAttribute('aria-label', words);
}

/** Load and draw the figures. */
export function loadStats(): Promise<void> {
  return drawStats().catch(failed);
}

async function drawStats(): Promise<void> {
  const [stats] = await Promise.all([api<StatsAnswer>('GET', 'stats'), state.triggers.size ? null : loadTriggerIndex()]);
  const jobs = stats.jobs;
  const total = STATUS_ORDER.reduce((s, k) => s + (jobs[k] || 0), 0);
  const done = (jobs.succeeded || 0) + (jobs.failed || 0);
  append(clear($('stats-cards')), [
    card('Jobs', String(total)), card('Succeeded', String(jobs.succeeded || 0)), card('Failed', String(jobs.failed || 0)),
    card('Running', String(jobs.running || 0)), card('Pending', String(jobs.pending || 0)),
    card('Success rate', done ? `${((100 * (jobs.succeeded || 0)) / done).toFixed(1)} %` : '—'),
  ]);
  chart(
    'chart-status',
    STATUS_ORDER.map((k) => ({ label: k, values: [{ key: k, value: jobs[k] || 0 }] })),
    {},
    `Jobs per status: ${STATUS_ORDER.map((k) => `${k} ${jobs[k] || 0}`).join(', ')}`,
  );

  const perTrigger = Object.entries(stats.triggers).sort(([a], [b]) => triggerName(a).localeCompare(triggerName(b)));
  chart(
    'chart-outcome',
    perTrigger.map(([tid, t]) => ({ label: triggerName(tid), values: [{ key: 'succeeded', value: t.succeeded }, { key: 'failed', value: t.failed }] })),
    { stacked: true },
    `Outcomes per trigger: ${perTrigger.map(([tid, t]) => `${triggerName(tid)} ${t.succeeded} succeeded, ${t.failed} failed`).join('; ')}`,
  );
  legend($('chart-outcome-legend'), ['succeeded', 'failed'], { succeeded: 'Succeeded', failed: 'Failed' });

  const timed = perTrigger.filter(([, t]) => t.p50DurationMs !== null);
  chart(
    'chart-duration',
    timed.map(([tid, t]) => ({ label: triggerName(tid), values: [{ key: 'p50', value: t.p50DurationMs }, { key: 'p95', value: t.p95DurationMs }] })),
    { rowHeight: 34, tick: formatDuration },
    `Durations per trigger: ${timed.map(([tid, t]) => `${triggerName(tid)} p50 ${formatDuration(t.p50DurationMs)}, p95 ${formatDuration(t.p95DurationMs)}`).join('; ')}`,
  );
  legend($('chart-duration-legend'), ['p50', 'p95'], { p50: 'p50 (median)', p95: 'p95' });
}

/** Wire the refresh button and live updates. */
export function initStats(): void {
  $('stats-refresh').addEventListener('click', () => { void loadStats(); });
  on('job', () => {
    if (state.view === 'stats') scheduleRefresh('stats', loadStats);
  });
}
