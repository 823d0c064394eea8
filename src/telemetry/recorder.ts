/**
 * Per-process metrics from the scheduler's own events: the engine already emits one event per
 * start, end, retry, skip, missed slot and lost lease, so counting them needs no hook in the hot
 * path, and a scheduler nobody measures pays nothing (an event without listeners is one lookup).
 */
import type { EventEmitter } from 'eventemitter3';
import type { SchedulerEvents } from '../events.js';
import type { Job } from '../types.js';
import type { MetricsSink } from './instruments.js';

/** Why a job was recorded `skipped`, from its last history entry (the engine's wording). */
export function skipReason(job: Job): 'overlap' | 'window' | 'paused' | 'other' {
  const reason = job.history[job.history.length - 1]?.reason ?? '';
  if (reason.startsWith('overlap')) return 'overlap';
  if (reason.startsWith('outside the trigger window')) return 'window';
  if (reason.startsWith('slot withdrawn')) return 'paused';
  return 'other';
}

/** Subscribe `sinks` to `scheduler`'s events; returns the unsubscribe. */
export function recordEvents(scheduler: EventEmitter<SchedulerEvents>, sinks: readonly MetricsSink[]): () => void {
  const add = (key: Parameters<MetricsSink['add']>[0], labels: Record<string, string>, value = 1): void => {
    for (const sink of sinks) sink.add(key, labels, value);
  };
  const record = (key: Parameters<MetricsSink['record']>[0], labels: Record<string, string>, value: number): void => {
    for (const sink of sinks) sink.record(key, labels, value);
  };
  const ended = (outcome: string) => (job: Job) => {
    add('jobs', { handler: job.handler, source: job.source, outcome });
    const ms = job.metrics.durationMs;
    if (ms !== null && outcome !== 'skipped') record('duration', { handler: job.handler, outcome }, ms / 1000);
  };
  const listeners: { [K in keyof SchedulerEvents]?: (...args: SchedulerEvents[K]) => void } = {
    'job:started': (job) => {
      // The slot's own start only: a retry's or a stall's re-run is late by design.
      if (job.attempts === 1 && job.stalls === 0 && job.startedAt) {
        record('lag', { handler: job.handler, source: job.source }, Math.max(0, job.startedAt.getTime() - job.scheduledFor.getTime()) / 1000);
      }
    },
    'job:succeeded': ended('succeeded'),
    'job:failed': ended('failed'),
    'job:cancelled': ended('cancelled'),
    'job:retrying': (job) => {
      ended('retrying')(job);
      add('retries', { handler: job.handler });
    },
    'job:skipped': (job) => {
      ended('skipped')(job);
      add('missed', { handler: job.handler, reason: skipReason(job) });
    },
    'slot:missed': (event) => add('missed', { handler: event.handler, reason: 'misfire' }, event.count),
    'lease:lost': (event) => add(event.reason === 'fenced' ? 'fencedRefused' : 'leasesLost', {}),
    'trigger:late': (event) => add('late', { handler: event.handler }),
  };
  const on = scheduler.on.bind(scheduler) as unknown as (event: string, fn: (...args: never[]) => void) => void;
  const off = scheduler.off.bind(scheduler) as unknown as (event: string, fn: (...args: never[]) => void) => void;
  for (const [event, fn] of Object.entries(listeners)) on(event, fn);
  return () => {
    for (const [event, fn] of Object.entries(listeners)) off(event, fn);
  };
}
