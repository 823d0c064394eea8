/**
 * `frozenJob`, the snapshot job events hand out: it must equal the job, share no object with it
 * (a listener reaches nothing of the engine's), and be frozen all the way down. The fixture names
 * every `Job` field with an object in each, so a field added to `Job` and left out of the snapshot
 * fails here (and at compile time in both files).
 */
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/types.js';
import { frozenCopy, frozenJob } from '../../src/util/clone.js';

function fullJob(): { [K in keyof Required<Job>]: Job[K] } {
  const at = new Date('2026-03-29T01:30:00Z');
  return {
    id: 'j1', key: 't1:1', triggerId: 't1', handler: 'h', payload: { nested: { list: [1, { deep: true }] } }, source: 'event',
    scheduledFor: new Date(at), runAt: new Date(at), status: 'failed', priority: 3, attempts: 2, maxAttempts: 3, stalls: 1, maxStalls: 2,
    timeoutMs: 500, backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 1000, jitter: 'full' }, permitLimit: 1, nextAttemptAt: new Date(at),
    result: [{ rows: 2 }], error: { name: 'Error', message: 'boom', code: 'E_X', stack: 'Error: boom' },
    metrics: { queuedMs: 1, durationMs: 2, cpuUserMs: 3, cpuSystemMs: 4, heapUsedBytes: 5, threadWaitMs: 6 },
    history: [{ status: 'pending', at: new Date(at), instanceId: 'i', reason: null }, { status: 'failed', at: new Date(at), instanceId: 'i', reason: 'boom' }],
    instanceId: 'i', lease: { owner: 'i', token: 4, expiresAt: new Date(at) }, fence: 4, event: { name: 'e', id: 'e1' },
    upstream: { jobId: 'j0', triggerId: 't0', status: 'succeeded' }, gate: 't1', traceparent: '00-abc-def-01', cancelRequested: true,
    dependentsFired: true, createdAt: new Date(at), startedAt: new Date(at), finishedAt: new Date(at),
  };
}

/** Every object reachable from `value`, with its path. */
function objects(value: unknown, path = '$', out = new Map<object, string>()): Map<object, string> {
  if (value === null || typeof value !== 'object') return out;
  out.set(value, path);
  for (const [key, inner] of Object.entries(value)) objects(inner, `${path}.${key}`, out);
  return out;
}

describe('frozenJob', () => {
  it('equals the job, field for field, with the same keys in the same order', () => {
    const job = fullJob();
    const snapshot = frozenJob(job);
    expect(snapshot).toStrictEqual(job);
    expect(Object.keys(snapshot)).toEqual(Object.keys(job));
    expect(snapshot).toStrictEqual(frozenCopy(job));
  });

  it('shares no object with the job, and every object in it is frozen (Dates are fresh copies)', () => {
    const job = fullJob();
    const original = objects(job);
    for (const [object, path] of objects(frozenJob(job))) {
      expect(original.has(object), `${path} is shared`).toBe(false);
      if (!(object instanceof Date)) expect(Object.isFrozen(object), `${path} is not frozen`).toBe(true);
    }
  });

  it('keeps nulls as nulls', () => {
    const job = { ...fullJob(), backoff: null, error: null, lease: null, event: null, upstream: null, nextAttemptAt: null, startedAt: null, finishedAt: null, payload: null, result: null };
    expect(frozenJob(job)).toStrictEqual(job);
  });
});
