/**
 * The run timeline of the trigger view: every slot of a time range as a mark on one of two lanes
 * (ran, not run), shaped and coloured by what became of it, with a legend and the same slots as a
 * table for screen readers and narrow screens.
 */
import type { TimelineAnswer, TimelineSlot } from '../../../management/types.js';
import { api, failed, id, query } from '../api.js';
import { badge, emptyRow, zoneOf } from '../cells.js';
import { SHAPES, legend } from '../charts.js';
import { state } from '../context.js';
import { $, clear, el, input, labelCells, select, svg, table, tbodyOf } from '../dom.js';
import { fmtTime, fmtZoned } from '../words.js';

/** Each slot status's words, in the legend's order (a `Record`: a new status must be named here). */
const SLOT_LABELS: Readonly<Record<TimelineSlot['status'], string>> = {
  succeeded: 'Succeeded', failed: 'Failed', running: 'Running', pending: 'Pending', cancelled: 'Cancelled',
  skipped: 'Skipped (overlap or window)', missed: 'Missed (misfire policy)', coalesced: 'Coalesced into one run',
};
const SLOT_STATUSES = Object.keys(SLOT_LABELS) as Array<TimelineSlot['status']>;

/** Load and draw the timeline of the trigger shown, over the range chosen. */
export async function loadTimeline(): Promise<void> {
  const triggerId = state.triggerId;
  if (triggerId === null) return;
  const to = Date.now() + 60000;
  const from = to - Number(select('timeline-range').value);
  const range = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  try {
    const data = await api<TimelineAnswer>('GET', `triggers/${id(triggerId)}/timeline${query(range)}`);
    if (state.triggerId !== triggerId) return;
    let start = from;
    let end = Math.min(to, Date.now());
    if (input('timeline-fit').checked && data.items.length) {
      // Zoom to the slots there are, so a young trigger's slots are not one dot at the right end.
      const times = data.items.map((slot) => Date.parse(slot.scheduledFor));
      const first = Math.min(...times);
      const last = Math.max(end, Math.max(...times));
      const pad = Math.max((last - first) * 0.04, 1000);
      start = Math.max(from, first - pad);
      end = last + pad;
    }
    drawTimeline(data.items, start, end, zoneOf(state.triggers.get(triggerId)));
    $('timeline').setAttribute('data-trigger-id', triggerId);
  } catch (err) {
    failed(err);
  }
}

/** An axis label: seconds for short spans, the date for long ones. */
function tickLabel(t: number, span: number, zone: string | null): string {
  const text = fmtTime(new Date(t).toISOString(), zone);
  if (span <= 2 * 3600000) return text.slice(11);
  if (span <= 36 * 3600000) return text.slice(11, 16);
  return text.slice(5, 16);
}

function drawTimeline(items: readonly TimelineSlot[], from: number, to: number, zone: string | null): void {
  const width = 1000;
  const left = 70;
  const right = 16;
  const lanes = { ran: 30, not: 66 };
  const scale = (t: number): number => left + ((Math.min(Math.max(t, from), to) - from) / (to - from)) * (width - left - right);
  const root = svg('svg', { viewBox: `0 0 ${width} 110` });
  root.appendChild(svg('text', { x: 0, y: lanes.ran + 4, text: 'Ran' }));
  root.appendChild(svg('text', { x: 0, y: lanes.not + 4, text: 'Not run' }));
  root.appendChild(svg('line', { x1: left, x2: width - right, y1: lanes.ran, y2: lanes.ran, class: 'axis' }));
  root.appendChild(svg('line', { x1: left, x2: width - right, y1: lanes.not, y2: lanes.not, class: 'axis' }));
  for (let i = 0; i <= 4; i++) {
    const t = from + ((to - from) * i) / 4;
    root.appendChild(svg('line', { x1: scale(t), x2: scale(t), y1: 14, y2: 80, class: 'tick' }));
    root.appendChild(svg('text', { x: scale(t), y: 100, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle', text: tickLabel(t, to - from, zone) }));
  }
  const counts = new Map<string, number>();
  for (const slot of items) {
    counts.set(slot.status, (counts.get(slot.status) ?? 0) + 1);
    const x = scale(Date.parse(slot.scheduledFor));
    const notRun = slot.status === 'skipped' || slot.status === 'missed' || slot.status === 'coalesced';
    const shape = (SHAPES[slot.status] ?? SHAPES['pending']!)(x, notRun ? lanes.not : lanes.ran);
    shape.setAttribute('data-status', slot.status);
    shape.appendChild(svg('title', { text: `${fmtZoned(slot.scheduledFor, zone)} — ${slot.status}${slot.reason ? `: ${slot.reason}` : ''}` }));
    root.appendChild(slot.jobId ? svg('a', { href: `#/jobs/${id(slot.jobId)}` }, shape) : shape);
  }
  const box = clear($('timeline'));
  box.appendChild(root);
  const summary = SLOT_STATUSES.filter((s) => counts.get(s)).map((s) => `${counts.get(s)} ${s}`);
  box.setAttribute('aria-label', `Run timeline: ${summary.length ? summary.join(', ') : 'no slots in this range'}`);
  legend($('timeline-legend'), SLOT_STATUSES, SLOT_LABELS);

  const tbody = clear(tbodyOf('timeline-table'));
  const newestFirst = items.slice().sort((a, b) => Date.parse(b.scheduledFor) - Date.parse(a.scheduledFor)).slice(0, 200);
  for (const slot of newestFirst) {
    const when = fmtZoned(slot.scheduledFor, zone);
    tbody.appendChild(labelCells(table('timeline-table'), el('tr', { 'data-status': slot.status }, [
      el('td', { class: 'nowrap' }, slot.jobId ? el('a', { href: `#/jobs/${id(slot.jobId)}`, text: when }) : when),
      el('td', null, badge(slot.status)),
      el('td', { class: 'muted', text: slot.reason || '' }),
    ])));
  }
  if (!tbody.rows.length) tbody.appendChild(emptyRow(3, 'No slots in this range.'));
}

/** Wire the range and zoom controls. */
export function initTimeline(): void {
  select('timeline-range').addEventListener('change', () => { void loadTimeline(); });
  input('timeline-fit').addEventListener('change', () => { void loadTimeline(); });
}
