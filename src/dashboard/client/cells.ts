/**
 * Small pieces several views draw: status badges, time cells with their zone, cards, property
 * lists, empty rows, and how a trigger's schedule and zone are shown.
 */
import type { TriggerSummary } from '../../management/types.js';
import { el, type Child } from './dom.js';
import { BROWSER_ZONE } from './context.js';
import { describeSchedule, fmtZoned, relativeTime } from './words.js';

/** A status as a coloured badge (its class names the colour). */
export function badge(status: string): HTMLSpanElement { return el('span', { class: `badge s-${status}`, text: status }); }

/** A table cell with a time in `zone` and how far it is from now; a dash when there is none. */
export function timeCell(iso: string | null | undefined, zone?: string | null): HTMLTableCellElement {
  if (!iso) return el('td', { class: 'muted', text: '—' });
  return el('td', { title: new Date(iso).toISOString() }, [
    el('time', { datetime: iso, text: fmtZoned(iso, zone) }),
    el('span', { class: 'sub', text: relativeTime(iso, Date.now()) }),
  ]);
}

/** The zone a trigger's times are in: its cron zone, else its window's, else none (the browser's). */
export function zoneOf(trigger: TriggerSummary | undefined): string | null {
  if (!trigger) return null;
  if (trigger.schedule.kind === 'cron') return trigger.schedule.timezone;
  if (trigger.window?.timezone) return trigger.window.timezone;
  return null;
}

/** The zone a trigger's times are shown in, in words. */
export function zoneWords(trigger: TriggerSummary): string {
  return zoneOf(trigger) ?? `${BROWSER_ZONE}, your browser's zone`;
}

/** A trigger's schedule in words, one-shot instants in the trigger's zone. */
export function scheduleText(trigger: TriggerSummary): string {
  return describeSchedule(trigger.schedule, (iso) => fmtZoned(iso, zoneOf(trigger)));
}

/** The schedule as written (cron expression, interval, instant), or null for kinds that have none. */
export function scheduleCode(trigger: TriggerSummary): string | null {
  const s = trigger.schedule;
  if (s.kind === 'cron') return s.cron;
  if (s.kind === 'every') return `every ${s.every} ms`;
  if (s.kind === 'at') return s.at;
  return null;
}

/** A figure with its label; `small` for long values (times). */
export function card(label: string, value: string, small = false): HTMLDivElement {
  return el('div', { class: 'card' }, [el('div', { class: 'label', text: label }), el('div', { class: small ? 'value small' : 'value', text: value })]);
}

/** One name and value of a `<dl>`. */
export function prop(list: HTMLElement, name: string, value: Child | readonly Child[]): void {
  list.appendChild(el('dt', { text: name }));
  list.appendChild(el('dd', null, value));
}

/** The one row of an empty table, saying why it is empty. */
export function emptyRow(colspan: number, text: string): HTMLTableRowElement {
  return el('tr', null, el('td', { colspan, class: 'empty', text }));
}

/** A zone name that may break after each '/', so 'America/Argentina/Buenos_Aires' does not widen its column. */
export function breakable(text: string): Child[] {
  const parts: Child[] = [];
  text.split('/').forEach((part, i) => { if (i) parts.push('/', el('wbr')); parts.push(part); });
  return parts;
}

/** Ids are often UUIDs that differ at the end: the last 12 characters tell jobs apart in a table. */
export function shortId(jobId: string): string { return jobId.length > 14 ? `…${jobId.slice(-12)}` : jobId; }
