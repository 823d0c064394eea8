/**
 * The jobs view (`#/jobs?status=…&triggerId=…&from=…&to=…`): every run, newest first, filtered,
 * with new and changed jobs from the event stream added or redrawn live (and announced).
 */
import type { JobListAnswer, JobSummary } from '../../../management/types.js';
import { jobActions, onActionClick } from '../actions.js';
import { api, failed, id, query } from '../api.js';
import { badge, emptyRow, shortId, timeCell } from '../cells.js';
import { on, state, triggerName, type JobFilter } from '../context.js';
import { $, announce, clear, el, input, isoToLocalInput, labelCells, localInputToIso, select, table, tbodyOf } from '../dom.js';
import { fillTriggerSelect } from '../trigger-index.js';
import { formatDuration } from '../words.js';

const JOB_PAGE = 50;

function jobMatches(job: JobSummary): boolean {
  const f = state.jobFilter;
  if (f.status && job.status !== f.status) return false;
  if (f.triggerId && job.triggerId !== f.triggerId) return false;
  const t = Date.parse(job.scheduledFor);
  if (f.from && t < Date.parse(f.from)) return false;
  if (f.to && t >= Date.parse(f.to)) return false;
  return true;
}

function jobRow(job: JobSummary): HTMLTableRowElement {
  return labelCells(table('jobs-table'), el('tr', { 'data-job-id': job.id, 'data-status': job.status }, [
    el('td', { class: 'nowrap' }, el('a', { href: `#/jobs/${id(job.id)}`, class: 'mono', title: job.id, 'aria-label': `Job ${job.id}`, text: shortId(job.id) })),
    el('td', null, [el('a', { href: `#/triggers/${id(job.triggerId)}`, text: triggerName(job.triggerId) }), el('span', { class: 'sub', text: job.source })]),
    el('td', null, badge(job.status)),
    timeCell(job.scheduledFor),
    timeCell(job.startedAt),
    el('td', { class: 'num', text: formatDuration(job.metrics.durationMs) }),
    el('td', { class: 'num', text: `${job.attempts} / ${job.maxAttempts}` }),
    el('td', { class: 'mono', text: job.instanceId || '—' }),
    el('td', { class: 'actions' }, el('div', { class: 'row-actions' }, jobActions(job))),
  ]));
}

/** Show the filters of `filter` (from the URL) in the form. */
function fillJobFilters(): void {
  const f = state.jobFilter;
  select('jobs-status').value = f.status || '';
  fillTriggerSelect();
  input('jobs-from').value = isoToLocalInput(f.from);
  input('jobs-to').value = isoToLocalInput(f.to);
}

/**
 * Jobs the stream reported, by id, with the sequence number of the report: a list answer may
 * have been read from the store before a report that reached the page first, so reports newer
 * than the request are applied again on top of the answer.
 */
const streamed = new Map<string, { seq: number; job: JobSummary }>();
let streamSeq = 0;
const MAX_STREAMED = 500;

function rememberStreamed(job: JobSummary): void {
  streamed.delete(job.id);
  streamed.set(job.id, { seq: ++streamSeq, job });
  if (streamed.size > MAX_STREAMED) {
    const oldest = streamed.keys().next();
    if (!oldest.done) streamed.delete(oldest.value);
  }
}

/** Load the first page of the jobs the filters match (or, with `more`, the next one). */
export async function loadJobs(more: boolean): Promise<void> {
  const f = state.jobFilter;
  const params = { limit: JOB_PAGE, status: f.status, triggerId: f.triggerId, from: f.from, to: f.to, cursor: more ? state.jobCursor : '' };
  const asked = streamSeq;
  try {
    const page = await api<JobListAnswer>('GET', `jobs${query(params)}`);
    const tbody = tbodyOf('jobs-table');
    if (!more) { clear(tbody); state.jobs.clear(); }
    for (const job of page.items) {
      if (state.jobs.has(job.id)) continue;
      state.jobs.set(job.id, job);
      tbody.appendChild(jobRow(job));
    }
    if (!more) for (const entry of streamed.values()) if (entry.seq > asked) upsertRow(entry.job, true);
    if (!tbody.rows.length) tbody.appendChild(emptyRow(9, 'No jobs match.'));
    state.jobCursor = page.nextCursor;
    $('jobs-more').hidden = !page.nextCursor;
  } catch (err) {
    failed(err);
  }
}

/** Show the jobs view with the filters of its URL. */
export function showJobs(filter: JobFilter): Promise<void> {
  state.jobFilter = filter;
  fillJobFilters();
  return loadJobs(false);
}

function historyCount(job: JobSummary): number { return typeof job.historyLength === 'number' ? job.historyLength : (job.history ?? []).length; }

/** A job the stream (or an action) reported: replace its row, or add it on top when it is new and fits the filters. */
function upsertRow(job: JobSummary, fromAction: boolean): void {
  const tbody = tbodyOf('jobs-table');
  const row = tbody.querySelector(`tr[data-job-id="${CSS.escape(job.id)}"]`);
  const known = state.jobs.get(job.id);
  // Events can arrive out of order (local and polled ones); history is append-only, so a record
  // with fewer entries is older and must not replace a newer one.
  if (known && historyCount(known) > historyCount(job)) return;
  if (!jobMatches(job)) {
    if (row) { tbody.removeChild(row); state.jobs.delete(job.id); }
    return;
  }
  state.jobs.set(job.id, job);
  const fresh = jobRow(job);
  fresh.classList.add('flash');
  if (row) {
    tbody.replaceChild(fresh, row);
  } else {
    if (tbody.querySelector('td.empty')) clear(tbody);
    tbody.insertBefore(fresh, tbody.firstChild);
  }
  if (!fromAction && state.view === 'jobs') announce(`Job of ${triggerName(job.triggerId)} ${job.status}`);
}

/** Wire the filters, the buttons and live updates; `route` shows the view of the current URL. */
export function initJobs(route: () => void): void {
  table('jobs-table').addEventListener('click', onActionClick);
  $('jobs-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    const params = {
      status: select('jobs-status').value,
      triggerId: select('jobs-trigger').value,
      from: localInputToIso(input('jobs-from').value),
      to: localInputToIso(input('jobs-to').value),
    };
    const target = `#/jobs${query(params)}`;
    if (location.hash === target) route(); else location.hash = target;
  });
  $('jobs-filters').addEventListener('reset', () => { window.setTimeout(() => { location.hash = '#/jobs'; }, 0); });
  $('jobs-more').addEventListener('click', () => { void loadJobs(true); });
  on('job', (job, origin) => {
    if (origin === 'stream') rememberStreamed(job);
    upsertRow(job, origin === 'action');
  });
}
