/**
 * Trigger records of the shape `addTrigger` stores for `{ every: '1h', startAt }` — for the
 * baselines (plain objects in a Map) and for loading a `MemoryTriggerStore` directly.
 */
import type { Trigger } from '../src/index.js';

const HOUR_MS = 3_600_000;

/** An idle interval trigger: every hour from `startAt` (far enough ahead that it is not due). */
export function idleTrigger(id: string, now: number, startAt: number, handler = 'noop'): Trigger {
  return {
    id,
    name: id,
    handler,
    schedule: { kind: 'every', every: HOUR_MS, startAt: new Date(startAt), endAt: null },
    payload: null,
    status: 'active',
    nextRunAt: new Date(startAt),
    lastRunAt: null,
    createdAt: new Date(now),
    updatedAt: new Date(now),
    retry: null,
    timeoutMs: null,
    misfire: 'run-once',
    overlap: 'allow',
    maxConcurrent: null,
    window: null,
    jitterMs: 0,
    priority: 0,
    startAt: null,
    endAt: null,
    tags: [],
    version: 1,
  };
}
