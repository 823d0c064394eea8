/**
 * `buildTimeline` on hand-made records: which slots are listed and how job-less ones are labelled.
 */
import { describe, expect, it } from 'vitest';
import { MAX_TIMELINE_ITEMS, buildTimeline } from '../../src/management/timeline.js';
import type { Job } from '../../src/types.js';
import { makeJob, makeTrigger } from '../../src/testing/fixtures.js';

const T = Date.parse('2026-03-01T10:00:00.000Z');
const MIN = 60_000;
const at = (minutes: number): Date => new Date(T + minutes * MIN);

/** A schedule job of slot `minute`, created `lateBy` minutes after it (negative: ahead). */
function slotJob(minute: number, status: Job['status'], lateBy = -0.01): Job {
  return makeJob({ id: `j${minute}`, scheduledFor: at(minute), runAt: at(minute), createdAt: at(minute + lateBy), status, history: [{ status, at: at(minute), instanceId: 'i', reason: `note ${minute}` }] });
}

const everyMinute = (overrides: Parameters<typeof makeTrigger>[0] = {}) =>
  makeTrigger({ schedule: { kind: 'every', every: MIN, startAt: at(0), endAt: null }, createdAt: at(0), nextRunAt: at(10), status: 'active', ...overrides });

function labels(items: ReturnType<typeof buildTimeline>['items']): string[] {
  return items.map((i) => `${(Date.parse(i.scheduledFor) - T) / MIN}:${i.status}`);
}

describe('buildTimeline', () => {
  it('lists slots up to nextRunAt, labelling gaps before a late run-once job coalesced', () => {
    const trigger = everyMinute({ misfire: 'run-once' });
    const jobs = [slotJob(0, 'succeeded'), slotJob(1, 'failed'), slotJob(5, 'succeeded', 0.5), slotJob(6, 'running')];
    const timeline = buildTimeline(trigger, jobs, at(0), at(30), at(20));
    expect(labels(timeline.items)).toEqual(['0:succeeded', '1:failed', '2:coalesced', '3:coalesced', '4:coalesced', '5:succeeded', '6:running', '7:missed', '8:missed', '9:missed']);
    expect(timeline.items[2]).toMatchObject({ jobId: 'j5', source: null });
    expect(timeline.items[1]).toMatchObject({ jobId: 'j1', reason: 'note 1', source: 'schedule' });
    expect(timeline.truncated).toBe(false);
  });

  it('gaps before an on-time job (paused, then resumed) are missed even under run-once', () => {
    const trigger = everyMinute({ misfire: 'run-once' });
    const timeline = buildTimeline(trigger, [slotJob(0, 'succeeded'), slotJob(4, 'succeeded')], at(0), at(4), at(20));
    expect(labels(timeline.items)).toEqual(['0:succeeded', '1:missed', '2:missed', '3:missed', '4:succeeded']);
  });

  it('a paused trigger lists slots up to now; skip policy gaps are missed; manual jobs keep their source', () => {
    const trigger = everyMinute({ misfire: 'skip', status: 'paused', nextRunAt: at(1) });
    const manual = makeJob({ id: 'm', source: 'manual', scheduledFor: new Date(T + 90_000), status: 'succeeded', createdAt: new Date(T + 90_000) });
    const timeline = buildTimeline(trigger, [slotJob(0, 'succeeded', 0.5), manual], at(0), at(3), at(3));
    expect(labels(timeline.items)).toEqual(['0:succeeded', '1:missed', '1.5:succeeded', '2:missed', '3:missed']);
    expect(timeline.items[2]).toMatchObject({ jobId: 'm', source: 'manual' });
    expect(timeline.items[1]?.reason).toContain('misfire: skip');
  });

  it('leaves out slots before the trigger existed, and truncates long windows', () => {
    const trigger = everyMinute({ createdAt: at(5), nextRunAt: null, status: 'active' });
    expect(labels(buildTimeline(trigger, [], at(0), at(7), at(7)).items)).toEqual(['5:missed', '6:missed', '7:missed']);
    const long = buildTimeline(everyMinute({ nextRunAt: null }), [], at(0), at(5000), at(5000));
    expect(long.items).toHaveLength(MAX_TIMELINE_ITEMS);
    expect(long.truncated).toBe(true);
  });
});
