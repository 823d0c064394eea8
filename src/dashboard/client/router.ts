/**
 * Routing: the URL's hash names the view (`#/triggers`, `#/triggers/<id>`, `#/jobs?…`,
 * `#/jobs/<id>`, `#/stats`); `route` shows it and loads what it shows.
 */
import { VIEWS, state, type JobFilter, type ViewName } from './context.js';
import { $ } from './dom.js';
import { clearJob, loadJob } from './views/job.js';
import { showJobs } from './views/jobs.js';
import { loadStats } from './views/stats.js';
import { clearTrigger, loadTrigger } from './views/trigger.js';
import { loadTriggers } from './views/triggers.js';

/** Show one view, and mark its tab (a detail view marks its list's tab). */
export function showView(name: ViewName): void {
  state.view = name;
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== name;
  const tab = name === 'trigger' ? 'triggers' : name === 'job' ? 'jobs' : name;
  for (const a of document.querySelectorAll('.tabs a')) {
    if (a.getAttribute('data-tab') === tab) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

function parseHash(): { segments: string[]; params: Record<string, string> } {
  const hash = location.hash.replace(/^#\/?/, '');
  const q = hash.indexOf('?');
  const path = q < 0 ? hash : hash.slice(0, q);
  const params: Record<string, string> = {};
  if (q >= 0) {
    for (const pair of hash.slice(q + 1).split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      params[decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq))] = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
    }
  }
  return { segments: path.split('/').filter(Boolean).map(decodeURIComponent), params };
}

/** The jobs filter of the URL's parameters (others are ignored). */
function jobFilter(params: Readonly<Record<string, string>>): JobFilter {
  const filter: JobFilter = {};
  if (params['status'] !== undefined) filter.status = params['status'];
  if (params['triggerId'] !== undefined) filter.triggerId = params['triggerId'];
  if (params['from'] !== undefined) filter.from = params['from'];
  if (params['to'] !== undefined) filter.to = params['to'];
  return filter;
}

/** Show and load the view the URL names (nothing before sign-in). */
export function route(): void {
  if (!state.started) return;
  const { segments, params } = parseHash();
  const [first = 'triggers', second] = segments;
  state.jobId = null;
  state.triggerId = null;
  if (first === 'jobs' && second) { state.jobId = second; clearJob(); showView('job'); void loadJob(); }
  else if (first === 'jobs') { showView('jobs'); void showJobs(jobFilter(params)); }
  else if (first === 'triggers' && second) { state.triggerId = second; clearTrigger(); showView('trigger'); void loadTrigger(); }
  else if (first === 'stats') { showView('stats'); void loadStats(); }
  else { showView('triggers'); void loadTriggers(false); }
  const heading = state.view === null ? null : $(`view-${state.view}`).querySelector('h1');
  document.title = `${heading?.textContent ?? ''} · ${document.querySelector('.brand span')?.textContent ?? ''}`;
}
