/**
 * The metrics recorder hands each sink one label object per distinct set of values, the same one
 * for every record (sinks key their series by it: OtelMetrics keeps its counters' sums that way),
 * and never a job id.
 */
import { describe, expect, it } from 'vitest';
import type { InstrumentKey, Labels, MetricsSink } from '../../src/telemetry/instruments.js';
import { recordEvents } from '../../src/telemetry/recorder.js';
import type { Job } from '../../src/types.js';

function job(id: string, handler: string, durationMs: number): Job {
  const at = new Date(Date.UTC(2026, 0, 1));
  return { id, handler, source: 'schedule', attempts: 1, stalls: 0, scheduledFor: at, startedAt: new Date(at.getTime() + 5), metrics: { durationMs }, history: [] } as unknown as Job;
}

describe('recordEvents', () => {
  it('hands the same label object for the same values, and a new one for new values', () => {
    const seen: Array<{ key: InstrumentKey; labels: Labels; value: number }> = [];
    const sink: MetricsSink = {
      add: (key, labels, value) => seen.push({ key, labels, value }),
      record: (key, labels, value) => seen.push({ key, labels, value }),
    };
    const listeners = recordEvents([sink]);
    for (const [id, handler] of [['j1', 'a'], ['j2', 'a'], ['j3', 'b']] as const) {
      listeners['job:started']?.(job(id, handler, 2));
      listeners['job:succeeded']?.(job(id, handler, 2));
    }
    listeners['job:failed']?.(job('j4', 'a', 3));
    const of = (key: InstrumentKey, handler: string, outcome?: string): Labels[] =>
      seen.filter((s) => s.key === key && s.labels['handler'] === handler && (outcome === undefined || s.labels['outcome'] === outcome)).map((s) => s.labels);
    const [first, second] = of('jobs', 'a', 'succeeded');
    expect(first).toEqual({ handler: 'a', source: 'schedule', outcome: 'succeeded' });
    expect(second).toBe(first);
    expect(of('jobs', 'b')[0]).not.toBe(first);
    expect(of('jobs', 'a', 'failed')[0]).toEqual({ handler: 'a', source: 'schedule', outcome: 'failed' });
    expect(of('lag', 'a')).toHaveLength(2);
    expect(of('lag', 'a')[1]).toBe(of('lag', 'a')[0]);
    expect(of('duration', 'a', 'succeeded')[1]).toBe(of('duration', 'a', 'succeeded')[0]);
    expect(seen.find((s) => s.key === 'lag')?.value).toBe(0.005);
    // No label carries a job id.
    expect(seen.filter((s) => s.key === 'jobs')).toHaveLength(4);
    expect(seen.every((s) => !Object.values(s.labels).some((v) => v.startsWith('j')))).toBe(true);
  });
});
