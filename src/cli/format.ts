/**
 * Human output of the CLI: aligned tables and key/value blocks. `--json` bypasses all of this.
 */
import type { TriggerStats } from '../scheduler.js';
import type { FirePreview } from '../management/types.js';
import type { Job, NormalizedSchedule, Trigger } from '../types.js';

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `key: value` lines with the keys aligned. */
export function fields(pairs: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`).join('\n');
}

function iso(date: Date | null): string {
  return date === null ? '-' : date.toISOString();
}

/** A schedule in one line. */
export function describeSchedule(schedule: NormalizedSchedule): string {
  switch (schedule.kind) {
    case 'cron':
      return `cron "${schedule.cron}" ${schedule.timezone}`;
    case 'every':
      return `every ${schedule.every} ms`;
    case 'at':
      return `at ${schedule.at.toISOString()}`;
    case 'manual':
      return 'manual';
    case 'event':
      return `on event ${schedule.event}`;
    case 'after':
      return `after ${schedule.after} (${schedule.on})`;
  }
}

/** The `triggers ls` table. */
export function triggerTable(triggers: readonly Trigger[]): string {
  return table(
    ['ID', 'STATUS', 'HANDLER', 'SCHEDULE', 'NEXT RUN', 'LAST RUN'],
    triggers.map((t) => [t.id, t.status, t.handler, describeSchedule(t.schedule), iso(t.nextRunAt), iso(t.lastRunAt)]),
  );
}

/** The `jobs ls` table. */
export function jobTable(jobs: readonly Job[]): string {
  return table(
    ['ID', 'TRIGGER', 'STATUS', 'SOURCE', 'SCHEDULED', 'ATTEMPTS', 'ERROR'],
    jobs.map((j) => [j.id, j.triggerId, j.status, j.source, j.scheduledFor.toISOString(), `${j.attempts}/${j.maxAttempts}`, j.error?.message ?? '']),
  );
}

/** The fire-time table of `next` and `triggers show`. */
export function previewTable(items: readonly FirePreview[]): string {
  if (items.length === 0) return '(no upcoming fire times)';
  return table(
    ['AT (UTC)', 'LOCAL', 'ZONE', 'DST'],
    items.map((p) => [p.at, p.local, p.timezone, p.dst ?? '']),
  );
}

/** `triggers show`. */
export function triggerDetail(trigger: Trigger, stats: TriggerStats | null, next: readonly FirePreview[]): string {
  const block = fields([
    ['id', trigger.id],
    ['name', trigger.name],
    ['status', trigger.status],
    ['handler', trigger.handler],
    ['schedule', describeSchedule(trigger.schedule)],
    ['misfire', trigger.misfire],
    ['overlap', trigger.overlap],
    ['tags', trigger.tags.join(', ') || '-'],
    ['next run', iso(trigger.nextRunAt)],
    ['last run', iso(trigger.lastRunAt)],
    ['runs', stats === null ? '0' : `${stats.runs} (${stats.succeeded} succeeded, ${stats.failed} failed)`],
    ['p50 / p95', stats?.p50DurationMs == null ? '-' : `${stats.p50DurationMs} ms / ${stats.p95DurationMs ?? '-'} ms`],
    ['payload', JSON.stringify(trigger.payload)],
  ]);
  return `${block}\n\nNext fire times:\n${previewTable(next)}`;
}

/** `jobs show`. */
export function jobDetail(job: Job): string {
  const m = job.metrics;
  const block = fields([
    ['id', job.id],
    ['trigger', job.triggerId],
    ['handler', job.handler],
    ['status', job.status],
    ['source', job.source],
    ['key', job.key],
    ['scheduled', job.scheduledFor.toISOString()],
    ['attempts', `${job.attempts}/${job.maxAttempts}`],
    ['instance', job.instanceId ?? '-'],
    ['started', iso(job.startedAt)],
    ['finished', iso(job.finishedAt)],
    ['duration', m.durationMs === null ? '-' : `${m.durationMs} ms`],
    ['queued', m.queuedMs === null ? '-' : `${m.queuedMs} ms`],
    ['error', job.error === null ? '-' : `${job.error.name}: ${job.error.message}${job.error.code ? ` (${job.error.code})` : ''}`],
    ['payload', JSON.stringify(job.payload)],
    ['result', JSON.stringify(job.result)],
  ]);
  const history = table(
    ['AT', 'STATUS', 'INSTANCE', 'REASON'],
    job.history.map((h) => [h.at.toISOString(), h.status, h.instanceId ?? '-', h.reason ?? '']),
  );
  return `${block}\n\nHistory:\n${history}`;
}
