/**
 * Trigger records of the shape `addTrigger` stores for `{ every: '1h', startAt }` — for the
 * baselines (plain objects in a Map) and for loading a `MemoryTriggerStore` directly.
 */
import { blankTrigger } from '../src/engine/trigger-input.js';
import type { Trigger } from '../src/index.js';

const HOUR_MS = 3_600_000;

/** An idle interval trigger: every hour from `startAt` (far enough ahead that it is not due). */
export function idleTrigger(id: string, now: number, startAt: number, handler = 'noop'): Trigger {
  return {
    ...blankTrigger(id, handler, new Date(now)),
    updatedAt: new Date(now),
    schedule: { kind: 'every', every: HOUR_MS, startAt: new Date(startAt), endAt: null },
    nextRunAt: new Date(startAt),
  };
}
