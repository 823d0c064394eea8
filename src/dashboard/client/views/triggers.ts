/**
 * The triggers view (`#/triggers`): every trigger with its schedule, zone, next and last run,
 * status and buttons, filtered by status, kept current by the event stream.
 */
import type { TriggerListAnswer, TriggerSummary } from '../../../management/types.js';
import { onActionClick, triggerActions } from '../actions.js';
import { alertBadges } from '../alerts.js';
import { api, failed, id, query } from '../api.js';
import { badge, breakable, emptyRow, scheduleCode, scheduleText, timeCell, zoneOf } from '../cells.js';
import { BROWSER_ZONE, on, state } from '../context.js';
import { $, clear, el, labelCells, select, table, tbodyOf } from '../dom.js';
import { fillTriggerSelect } from '../trigger-index.js';

/** A paused trigger's next run is not due, however soon `nextRunAt` is: it says 'paused' instead. */
function nextRunCell(trigger: TriggerSummary): HTMLTableCellElement {
  if (trigger.status === 'paused') return el('td', { class: 'muted', text: 'paused' });
  return timeCell(trigger.nextRunAt, zoneOf(trigger));
}

function triggerRow(trigger: TriggerSummary): HTMLTableRowElement {
  const code = scheduleCode(trigger);
  const zone = zoneOf(trigger);
  return labelCells(table('triggers-table'), el('tr', { 'data-trigger-id': trigger.id }, [
    el('td', null, [el('a', { href: `#/triggers/${id(trigger.id)}`, text: trigger.name }), el('span', { class: 'sub mono', text: trigger.id })]),
    el('td', null, [scheduleText(trigger), code ? el('span', { class: 'sub mono', text: code }) : null]),
    zone ? el('td', null, breakable(zone)) : el('td', { class: 'muted' }, breakable(`${BROWSER_ZONE} (browser)`)),
    nextRunCell(trigger),
    timeCell(trigger.lastRunAt, zone),
    el('td', null, [badge(trigger.status), alertBadges(trigger.id)]),
    el('td', { class: 'actions' }, el('div', { class: 'row-actions' }, triggerActions(trigger, true))),
  ]));
}

function rowOf(triggerId: string): HTMLTableRowElement | null {
  return tbodyOf('triggers-table').querySelector<HTMLTableRowElement>(`tr[data-trigger-id="${CSS.escape(triggerId)}"]`);
}

/** Load the first page (or, with `more`, the next one). */
export async function loadTriggers(more: boolean): Promise<void> {
  try {
    const params = { limit: 100, status: select('trigger-status-filter').value, cursor: more ? state.triggerCursor : '' };
    const page = await api<TriggerListAnswer>('GET', `triggers${query(params)}`);
    const tbody = tbodyOf('triggers-table');
    if (!more) clear(tbody);
    for (const t of page.items) { state.triggers.set(t.id, t); tbody.appendChild(triggerRow(t)); }
    if (!tbody.rows.length) tbody.appendChild(emptyRow(7, 'No triggers.'));
    state.triggerCursor = page.nextCursor;
    $('triggers-more').hidden = !page.nextCursor;
    fillTriggerSelect();
  } catch (err) {
    failed(err);
  }
}

/** A changed trigger: its row redrawn (flashing), dropped when it no longer fits the filter, or added. */
function updateRow(trigger: TriggerSummary): void {
  const tbody = tbodyOf('triggers-table');
  const row = rowOf(trigger.id);
  const filter = select('trigger-status-filter').value;
  const fits = !filter || filter === trigger.status;
  if (row && fits) {
    const fresh = triggerRow(trigger);
    fresh.classList.add('flash');
    tbody.replaceChild(fresh, row);
  } else if (row) {
    tbody.removeChild(row);
  } else if (fits && state.view === 'triggers') {
    if (tbody.querySelector('td.empty')) clear(tbody);
    tbody.appendChild(triggerRow(trigger));
  }
}

/** Wire the view's controls and live updates. */
export function initTriggers(): void {
  table('triggers-table').addEventListener('click', onActionClick);
  $('triggers-refresh').addEventListener('click', () => { void loadTriggers(false); });
  $('triggers-more').addEventListener('click', () => { void loadTriggers(true); });
  select('trigger-status-filter').addEventListener('change', () => { void loadTriggers(false); });
  on('trigger', updateRow);
  on('trigger-removed', (triggerId) => {
    state.triggers.delete(triggerId);
    rowOf(triggerId)?.remove();
  });
}
