/**
 * The job view (`#/jobs/<id>`): one job's status, buttons, error, figures, history, details,
 * payload and result; a clear page when the job is not (or no longer) in the store.
 */
import type { JobAnswer, Wire } from '../../../management/types.js';
import type { Job } from '../../../types.js';
import { jobActions, onActionClick } from '../actions.js';
import { ApiError, api, failed, id } from '../api.js';
import { badge, card, prop } from '../cells.js';
import { on, scheduleRefresh, state, triggerName } from '../context.js';
import { $, append, clear, el } from '../dom.js';
import { fmtZoned, formatBytes, formatDuration } from '../words.js';

/** Empty the job view, so the job seen before never shows (nor its buttons) under another id. */
export function clearJob(): void {
  $('job-title').textContent = `Job ${state.jobId ?? ''}`;
  clear($('job-subtitle'));
  clear($('job-actions'));
  clear($('job-error')).hidden = true;
  $('job-body').hidden = true;
  clear($('job-missing')).hidden = true;
}

/** Load and draw the job shown. */
export async function loadJob(): Promise<void> {
  const jobId = state.jobId;
  if (jobId === null) return;
  try {
    const data = await api<JobAnswer>('GET', `jobs/${id(jobId)}`);
    if (state.jobId === jobId) renderJob(data.job);
  } catch (err) {
    if (state.jobId !== jobId) return;
    if (err instanceof ApiError && err.status === 404) showJobMissing(jobId); else failed(err);
  }
}

function showJobMissing(jobId: string): void {
  $('job-title').textContent = 'Job not found';
  document.title = `Job not found · ${document.querySelector('.brand span')?.textContent ?? ''}`;
  append(clear($('job-missing')), [
    el('p', null, ['There is no job ', el('code', { text: jobId }), ' in the store. Its link may be wrong, or the job was purged after the retention time.']),
    el('p', null, el('a', { href: '#/jobs', text: 'All jobs' })),
  ]).hidden = false;
}

function renderJob(job: Wire<Job>): void {
  $('job-missing').hidden = true;
  $('job-body').hidden = false;
  $('job-title').textContent = `Job ${job.id}`;
  append(clear($('job-subtitle')), [
    badge(job.status), ' ', el('a', { href: `#/triggers/${id(job.triggerId)}`, text: triggerName(job.triggerId) }),
    ' · ', job.source, ` · attempt ${job.attempts} of ${job.maxAttempts}`,
  ]);
  append(clear($('job-actions')), jobActions(job));

  const errorBox = clear($('job-error'));
  errorBox.hidden = !job.error;
  if (job.error) {
    append(errorBox, [el('strong', { text: job.error.name + (job.error.code ? ` (${job.error.code})` : '') }), job.error.message]);
    if (job.error.stack) append(errorBox, el('details', null, [el('summary', { text: 'Stack trace' }), el('pre', { class: 'stack', text: job.error.stack })]));
  }

  const m = job.metrics;
  append(clear($('job-metrics')), [
    card('Duration', formatDuration(m.durationMs)), card('Queued', formatDuration(m.queuedMs)),
    card('CPU user', formatDuration(m.cpuUserMs)), card('CPU system', formatDuration(m.cpuSystemMs)),
    card('Heap', formatBytes(m.heapUsedBytes)),
  ]);

  const history = clear($('job-history'));
  for (const h of job.history) {
    history.appendChild(el('li', { 'data-status': h.status }, [
      badge(h.status), el('span', { class: 'when', text: fmtZoned(h.at) + (h.instanceId ? ` on ${h.instanceId}` : '') }),
      h.reason ? el('span', { class: 'why', text: h.reason }) : null,
    ]));
  }

  const props = clear($('job-props'));
  prop(props, 'Trigger', el('a', { href: `#/triggers/${id(job.triggerId)}`, text: job.triggerId }));
  prop(props, 'Handler', el('code', { text: job.handler }));
  prop(props, 'Scheduled for', fmtZoned(job.scheduledFor));
  prop(props, 'Run at', fmtZoned(job.runAt));
  prop(props, 'Started', fmtZoned(job.startedAt));
  prop(props, 'Finished', fmtZoned(job.finishedAt));
  if (job.nextAttemptAt) prop(props, 'Next attempt', fmtZoned(job.nextAttemptAt));
  prop(props, 'Instance', job.instanceId || '—');
  if (job.event) prop(props, 'Event', `${job.event.name} (${job.event.id})`);
  if (job.upstream) prop(props, 'After job', el('a', { href: `#/jobs/${id(job.upstream.jobId)}`, text: `${job.upstream.jobId} (${job.upstream.status})` }));
  $('job-payload').textContent = JSON.stringify(job.payload, null, 2);
  $('job-result').textContent = job.result === null || job.result === undefined ? '—' : JSON.stringify(job.result, null, 2);
}

/** Wire the view's buttons and live updates: stream frames are summaries, so the job is read again. */
export function initJob(): void {
  $('job-actions').addEventListener('click', onActionClick);
  on('job', (job) => {
    if (state.view === 'job' && state.jobId === job.id) scheduleRefresh('job', loadJob);
  });
}
