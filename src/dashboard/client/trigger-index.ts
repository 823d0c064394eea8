/**
 * Every trigger's name, for the jobs filter and the charts: the whole list read page by page into
 * `state.triggers`, and the jobs view's trigger `<select>` filled from it.
 */
import type { TriggerListAnswer } from '../../management/types.js';
import { api, query } from './api.js';
import { state } from './context.js';
import { clear, el, select } from './dom.js';

/** Read every trigger (walks all pages). */
export async function loadTriggerIndex(): Promise<void> {
  let cursor: string | null = null;
  do {
    const page: TriggerListAnswer = await api<TriggerListAnswer>('GET', `triggers${query({ limit: 1000, cursor })}`);
    for (const t of page.items) state.triggers.set(t.id, t);
    cursor = page.nextCursor;
  } while (cursor);
  fillTriggerSelect();
}

/** The jobs filter's trigger choices, by name; a chosen id not (yet) known stays listed by its id. */
export function fillTriggerSelect(): void {
  const box = select('jobs-trigger');
  const chosen = state.jobFilter.triggerId || box.value;
  clear(box).appendChild(el('option', { value: '', text: 'All' }));
  const sorted = Array.from(state.triggers.values()).sort((a, b) => a.name.localeCompare(b.name));
  for (const t of sorted) box.appendChild(el('option', { value: t.id, text: t.name }));
  if (chosen && !state.triggers.has(chosen)) box.appendChild(el('option', { value: chosen, text: chosen }));
  box.value = chosen || '';
}
