/**
 * The trigger view (`#/triggers/<id>`): a trigger's heading and buttons, its figures, next fire
 * times and definition, above its run timeline (timeline.ts).
 */
import type { TriggerDetailAnswer, TriggerSummary } from '../../../management/types.js';
import { onActionClick, triggerActions } from '../actions.js';
import { alertBadges, alertsFromStats } from '../alerts.js';
import { api, failed, id } from '../api.js';
import { badge, card, prop, scheduleCode, scheduleText, zoneOf, zoneWords } from '../cells.js';
import { on, scheduleRefresh, state } from '../context.js';
import { $, append, clear, el, tbodyOf } from '../dom.js';
import { fmtZoned, formatDuration } from '../words.js';
import { initTimeline, loadTimeline } from './timeline.js';

function renderHead(trigger: TriggerSummary): void {
  $('trigger-title').textContent = trigger.name;
  append(clear($('trigger-schedule')), [badge(trigger.status), alertBadges(trigger.id), ' ', scheduleText(trigger), ` (${zoneWords(trigger)})`]);
  append(clear($('trigger-actions')), triggerActions(trigger, false));
  const props = clear($('trigger-props'));
  const code = scheduleCode(trigger);
  prop(props, 'Id', el('code', { text: trigger.id }));
  prop(props, 'Handler', el('code', { text: trigger.handler }));
  if (code) prop(props, 'Schedule', el('code', { text: code }));
  prop(props, 'Misfire', trigger.misfire);
  prop(props, 'Overlap', trigger.overlap);
  const retry = trigger.retry;
  if (retry) prop(props, 'Retry', `${retry.attempts} attempts${retry.backoff ? `, ${retry.backoff.type} backoff from ${formatDuration(retry.backoff.delayMs)}` : ''}`);
  if (trigger.timeoutMs) prop(props, 'Timeout', formatDuration(trigger.timeoutMs));
  if (trigger.maxConcurrent) prop(props, 'Max concurrent', String(trigger.maxConcurrent));
  if (trigger.tags.length) prop(props, 'Tags', trigger.tags.join(', '));
  prop(props, 'Payload', el('pre', { class: 'json', text: JSON.stringify(trigger.payload, null, 2) }));
}

/** Empty the trigger view, so another trigger's figures never show under this one's name. */
export function clearTrigger(): void {
  for (const name of ['trigger-cards', 'trigger-next', 'trigger-props', 'trigger-actions', 'timeline', 'timeline-legend', 'trigger-schedule']) clear($(name));
  clear(tbodyOf('timeline-table'));
  $('timeline').removeAttribute('data-trigger-id');
  const triggerId = state.triggerId ?? '';
  $('trigger-title').textContent = state.triggers.get(triggerId)?.name ?? triggerId;
}

/** Load and draw the trigger shown, then its timeline. */
export function loadTrigger(): Promise<void> {
  return drawTrigger().catch(failed);
}

async function drawTrigger(): Promise<void> {
  const triggerId = state.triggerId;
  if (triggerId === null) return;
  const data = await api<TriggerDetailAnswer>('GET', `triggers/${id(triggerId)}`);
  if (state.triggerId !== triggerId) return;
  const t = data.trigger;
  const s = data.stats;
  const zone = zoneOf(t);
  state.triggers.set(t.id, t);
  alertsFromStats(t.id, s);
  renderHead(t);
  append(clear($('trigger-cards')), [
    card('Next run', t.status === 'paused' ? 'paused' : fmtZoned(t.nextRunAt, zone), true), card('Last run', fmtZoned(t.lastRunAt, zone), true),
    card('Runs', String(s?.runs ?? 0)), card('Succeeded', String(s?.succeeded ?? 0)), card('Failed', String(s?.failed ?? 0)),
    card('p50 duration', formatDuration(s?.p50DurationMs)), card('p95 duration', formatDuration(s?.p95DurationMs)),
    card('p95 start lag', formatDuration(s?.p95LagMs)), card('Missed slots', String(s?.skipped ?? 0)),
  ]);
  const next = clear($('trigger-next'));
  if (t.status === 'paused') next.appendChild(el('li', { class: 'muted', text: 'Paused: none of these fires until it is resumed.' }));
  for (const n of data.next) {
    const dst = n.dst === 'skipped-hour' ? ' (at the DST jump: the local time does not exist that day)' : n.dst === 'repeated-hour' ? ' (in the repeated DST hour)' : '';
    next.appendChild(el('li', { title: n.at }, [fmtZoned(n.at, zone), dst]));
  }
  if (!next.children.length) next.appendChild(el('li', { class: 'muted', text: 'No timed fires.' }));
  await loadTimeline();
}

/** Wire the view's buttons and live updates. */
export function initTrigger(): void {
  $('trigger-actions').addEventListener('click', onActionClick);
  initTimeline();
  on('trigger', (trigger) => {
    if (state.view !== 'trigger' || state.triggerId !== trigger.id) return;
    renderHead(trigger);
    // The cards and next fire times change with the status too (paused, resumed).
    scheduleRefresh('timeline', loadTrigger);
  });
  on('job', (job) => {
    if (state.view === 'trigger' && state.triggerId === job.triggerId) scheduleRefresh('timeline', loadTrigger);
  });
}
