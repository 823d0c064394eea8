/**
 * The write actions: the buttons of a trigger (pause, resume, run now, remove) and of a job
 * (retry, cancel), and what a click on one does. Buttons carry `data-action` and `data-id`, and one
 * click listener per container handles them all, so a row redrawn by a live update needs no
 * listener of its own. In read-only mode no write button is drawn.
 */
import type { JobAnswer, JobSummary, TriggerAnswer, TriggerSummary } from '../../management/types.js';
import { api, busy, id } from './api.js';
import { READ_ONLY, emit, state, triggerChanged, triggerName } from './context.js';
import { el, toast } from './dom.js';

type ActionElement = HTMLButtonElement | HTMLAnchorElement;

/** A trigger's buttons; `withLinks` (in its table row) links to its timeline, else (on its page) to its jobs. */
export function triggerActions(trigger: TriggerSummary, withLinks: boolean): ActionElement[] {
  const list: ActionElement[] = [];
  const button = (action: string, label: string, text: string, cls?: string): HTMLButtonElement =>
    el('button', { type: 'button', class: cls, 'data-action': action, 'data-id': trigger.id, 'aria-label': label, text });
  if (!READ_ONLY) {
    if (trigger.status === 'active') list.push(button('pause', `Pause ${trigger.name}`, 'Pause'));
    if (trigger.status === 'paused') list.push(button('resume', `Resume ${trigger.name}`, 'Resume'));
    list.push(button('run', `Run ${trigger.name} now`, 'Run now', 'primary'));
  }
  if (withLinks) {
    list.push(el('a', { class: 'button', href: `#/triggers/${id(trigger.id)}`, 'aria-label': `Timeline of ${trigger.name}`, text: 'Timeline' }));
  } else {
    list.push(el('a', { class: 'button', href: `#/jobs?triggerId=${id(trigger.id)}`, 'aria-label': `Jobs of ${trigger.name}`, text: 'Jobs' }));
  }
  if (!READ_ONLY) list.push(button('remove', `Remove ${trigger.name}`, 'Remove', 'danger'));
  return list;
}

/** A job's buttons: retry a failed or cancelled one, cancel a pending or running one. */
export function jobActions(job: JobSummary): HTMLButtonElement[] {
  if (READ_ONLY) return [];
  const list: HTMLButtonElement[] = [];
  if (job.status === 'failed' || job.status === 'cancelled') {
    list.push(el('button', { type: 'button', 'data-action': 'retry', 'data-id': job.id, 'aria-label': `Retry job ${job.id}`, text: 'Retry' }));
  }
  if (job.status === 'pending' || job.status === 'running') {
    list.push(el('button', { type: 'button', class: 'danger', 'data-action': 'cancel', 'data-id': job.id, 'aria-label': `Cancel job ${job.id}`, text: 'Cancel' }));
  }
  return list;
}

function triggerAction(button: HTMLButtonElement, action: string, triggerId: string): void {
  const name = triggerName(triggerId);
  if (action === 'remove' && !window.confirm(`Remove trigger "${name}"? Its jobs stay in the store.`)) return;
  void busy(button, async () => {
    if (action === 'pause' || action === 'resume') {
      const data = await api<TriggerAnswer>('POST', `triggers/${id(triggerId)}/${action}`);
      triggerChanged(data.trigger);
      toast(`${action === 'pause' ? 'Paused' : 'Resumed'} ${name}`);
    } else if (action === 'run') {
      const data = await api<JobAnswer>('POST', `triggers/${id(triggerId)}/run`, {});
      emit('job', data.job, 'action');
      toast(`Started ${name} (job ${data.job.id})`);
    } else {
      await api<null>('DELETE', `triggers/${id(triggerId)}`);
      emit('trigger-removed', triggerId);
      toast(`Removed ${name}`);
      if (state.view === 'trigger') location.hash = '#/triggers';
    }
  });
}

function jobAction(button: HTMLButtonElement, action: string, jobId: string): void {
  void busy(button, async () => {
    const data = await api<JobAnswer>('POST', `jobs/${id(jobId)}/${action}`);
    emit('job', data.job, 'action');
    if (action === 'retry') {
      toast(data.job.id === jobId ? `Retrying job ${jobId}` : `Retry started as job ${data.job.id}`);
      if (state.view === 'job' && data.job.id !== jobId) location.hash = `#/jobs/${id(data.job.id)}`;
    } else {
      toast(`Cancel requested for job ${jobId}`);
    }
  });
}

/** The click listener of a container of action buttons. */
export function onActionClick(event: MouseEvent): void {
  const target = event.target;
  const button = target instanceof Element ? target.closest<HTMLButtonElement>('button[data-action]') : null;
  if (!button || button.disabled) return;
  const action = button.getAttribute('data-action') ?? '';
  const targetId = button.getAttribute('data-id') ?? '';
  if (action === 'retry' || action === 'cancel') jobAction(button, action, targetId);
  else triggerAction(button, action, targetId);
}
