/**
 * `GET /metrics`: Prometheus text with this instance's counters and histograms (jobs by outcome,
 * run time, schedule lag, missed slots by reason, retries, store call latency) and the cluster's
 * figures from the store, behind a scope of its own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import { registerSampleHandlers, T0 } from '../helpers/setup.js';
import { advance, eventually } from '../helpers/time.js';
import { JWT_SECRET, closeAll, onClose, serve, token } from './helpers.js';

afterEach(closeAll);

/** The value of one sample line, `null` when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => found.includes(`${k}="${v}"`))) return Number(match[3]);
  }
  return null;
}

async function rig(): Promise<{ scheduler: Scheduler; clock: ManualClock }> {
  const clock = new ManualClock(T0);
  const scheduler = new Scheduler({ clock, pollIntervalMs: 200, lookaheadMs: 1000, telemetry: { metrics: true } });
  scheduler.on('error', () => undefined);
  registerSampleHandlers(scheduler);
  onClose(() => scheduler.stop({ graceful: false }));
  await scheduler.start();
  return { scheduler, clock };
}

describe('GET /metrics', () => {
  it('serves per-process counters and histograms and the cluster figures in the text format', async () => {
    const { scheduler, clock } = await rig();
    await scheduler.addTrigger({ id: 'tick', handler: 'ok', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await scheduler.addTrigger({ id: 'flaky', handler: 'flaky', schedule: { at: new Date(T0 + 1500) }, retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 100 } } });
    await scheduler.addTrigger({ id: 'stuck', handler: 'slow', schedule: { every: 1000, startAt: new Date(T0 + 1000) }, overlap: 'skip' });
    await scheduler.addTrigger({ id: 'missed', handler: 'ok', schedule: { every: 60_000, startAt: new Date(T0 - 600_000) }, misfire: 'skip', paused: true });
    await advance(clock, 3200, 100);
    await eventually(async () => (await scheduler.stats({ triggerId: 'flaky' })).triggers.flaky!.failed === 1, 10_000, 'flaky to fail', [clock]);
    const api = await serve(scheduler);
    const reply = await api.call('GET', '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = reply.text;
    expect(sample(text, 'scheduler_jobs_total', { handler: 'ok', source: 'schedule', outcome: 'succeeded' })).toBe(3);
    expect(sample(text, 'scheduler_jobs_total', { handler: 'flaky', outcome: 'retrying' })).toBe(1);
    expect(sample(text, 'scheduler_jobs_total', { handler: 'flaky', outcome: 'failed' })).toBe(1);
    expect(sample(text, 'scheduler_job_retries_total', { handler: 'flaky' })).toBe(1);
    expect(sample(text, 'scheduler_slots_missed_total', { handler: 'slow', reason: 'overlap' })).toBe(2);
    expect(sample(text, 'scheduler_schedule_lag_seconds_count', { handler: 'ok', source: 'schedule' })).toBe(3);
    expect(sample(text, 'scheduler_schedule_lag_seconds_bucket', { handler: 'ok', le: '+Inf' })).toBe(3);
    expect(sample(text, 'scheduler_job_duration_seconds_count', { handler: 'ok', outcome: 'succeeded' })).toBe(3);
    expect(sample(text, 'scheduler_store_call_duration_seconds_count', { operation: 'job.insertMany' })).toBeGreaterThan(0);
    // Cluster figures, from the store.
    expect(sample(text, 'scheduler_cluster_jobs', { trigger: 'stuck', status: 'running' })).toBe(1);
    expect(sample(text, 'scheduler_cluster_jobs', { trigger: 'flaky', status: 'failed' })).toBe(1);
    expect(sample(text, 'scheduler_trigger_failing', { trigger: 'flaky' })).toBe(1);
    expect(sample(text, 'scheduler_trigger_last_success_timestamp_seconds', { trigger: 'tick' })).toBeGreaterThanOrEqual((T0 + 3000) / 1000);
    expect(text).not.toMatch(/job_id|jobId/);
  });

  it('counts misfire skips as missed slots', async () => {
    const { scheduler, clock } = await rig();
    await scheduler.addTrigger({ id: 'late', handler: 'ok', schedule: { every: 60_000, startAt: new Date(T0 + 1000) }, misfire: 'skip' });
    // Stop polling long enough for the slot to misfire, then come back.
    await scheduler.stop();
    await clock.advance(120_000);
    await scheduler.start();
    await advance(clock, 1000, 100);
    const text = (await (await serve(scheduler)).call('GET', '/metrics')).text;
    expect(sample(text, 'scheduler_slots_missed_total', { handler: 'ok', reason: 'misfire' })).toBe(1);
  });

  it('needs the metrics scope, and the metrics scope alone reads nothing else', async () => {
    const { scheduler } = await rig();
    const api = await serve(scheduler, { auth: { jwt: { secret: JWT_SECRET, algorithms: ['HS256'] } } });
    const as = async (scope: string) => ({ Authorization: `Bearer ${await token(scope)}` });
    expect((await api.call('GET', '/metrics', { headers: await as('scheduler:read') })).status).toBe(403);
    expect((await api.call('GET', '/metrics', { headers: await as('scheduler:metrics') })).status).toBe(200);
    expect((await api.call('GET', '/health', { headers: await as('scheduler:metrics') })).status).toBe(403);
    expect((await api.call('GET', '/metrics')).status).toBe(401);
  });

  it('refuses a bad telemetry option, naming the field', () => {
    expect(() => new Scheduler({ telemetry: { metrics: 'yes' as unknown as boolean } })).toThrow(expect.objectContaining({ field: 'telemetry.metrics' }));
    expect(() => new Scheduler({ telemetry: { traces: true } as never })).toThrow(expect.objectContaining({ field: 'telemetry.traces' }));
  });
});
