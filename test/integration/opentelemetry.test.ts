/**
 * OpenTelemetry with the SDK's in-memory exporters: a `send` span where a job is created, a
 * `process` span per attempt on whichever instance runs it, parented through the job's stored
 * `traceparent`; span events for decisions; the same metrics as Prometheus on the meter.
 */
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SamplingDecision, SimpleSpanProcessor, type ReadableSpan, type Sampler } from '@opentelemetry/sdk-trace-base';
import { SpanKind, trace, type Attributes, type Context } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import { T0 } from '../helpers/setup.js';
import { advance, eventually } from '../helpers/time.js';

function tracing(): { provider: BasicTracerProvider; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  return { provider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }), exporter };
}

const named = (spans: ReadableSpan[], name: string): ReadableSpan[] => spans.filter((s) => s.name === name);

describe('OpenTelemetry', () => {
  it('links each attempt on another instance to the span that created its job, with the messaging attributes', async () => {
    const stores = { triggerStore: new MemoryTriggerStore(), jobStore: new MemoryJobStore(), lockManager: new MemoryLockManager() };
    const clock = new ManualClock(T0);
    const a = tracing();
    const b = tracing();
    const api = new Scheduler({ ...stores, clock, instanceId: 'api', telemetry: { tracerProvider: a.provider } });
    const worker = new Scheduler({ ...stores, clock, instanceId: 'worker', telemetry: { tracerProvider: b.provider } });
    api.register('api.only', () => undefined);
    let attempts = 0;
    worker.register('render', () => {
      attempts += 1;
      if (attempts === 1) throw new Error('first attempt fails');
      return 'ok';
    });
    await api.start();
    await worker.start();
    await worker.addTrigger({ id: 'render-now', handler: 'render', schedule: { manual: true }, retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 100 } } });
    const job = await api.runTrigger('render-now');
    expect(job.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await advance(clock, 1500);
    await eventually(async () => (await worker.getJob(job.id))?.status === 'succeeded', 10_000, 'the job to succeed', [clock]);
    const [send] = named(a.exporter.getFinishedSpans(), 'send render');
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'intellibrowse-scheduler',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'render',
      'messaging.message.id': job.id,
      'scheduler.trigger.id': 'render-now',
      'scheduler.slot': job.scheduledFor.toISOString(),
    });
    const processes = named(b.exporter.getFinishedSpans(), 'process render');
    expect(processes.map((s) => s.attributes['scheduler.attempt'])).toEqual([1, 2]);
    expect(processes.map((s) => s.attributes['scheduler.outcome'])).toEqual(['retrying', 'succeeded']);
    for (const span of processes) {
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.attributes['messaging.operation.type']).toBe('process');
      expect(span.attributes['messaging.message.id']).toBe(job.id);
      // Same trace as the producer on the other instance, its child, and linked to it.
      expect(span.spanContext().traceId).toBe(send!.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(send!.spanContext().spanId);
      expect(span.links[0]?.context.spanId).toBe(send!.spanContext().spanId);
    }
    await api.stop();
    await worker.stop();
  });

  it('records overlap and misfire decisions as span events, and the metrics on the meter', async () => {
    const clock = new ManualClock(T0);
    const t = tracing();
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const scheduler = new Scheduler({ clock, pollIntervalMs: 200, lookaheadMs: 1000, telemetry: { tracerProvider: t.provider, meterProvider } });
    scheduler.register('slow', () => new Promise<void>(() => undefined));
    scheduler.register('ok', () => undefined);
    await scheduler.start();
    await scheduler.addTrigger({ id: 'stuck', handler: 'slow', schedule: { every: 1000, startAt: new Date(T0 + 1000) }, overlap: 'skip' });
    await scheduler.addTrigger({ id: 'tick', handler: 'ok', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
    await scheduler.addTrigger({ id: 'late', handler: 'ok', schedule: { every: 60_000, startAt: new Date(T0 + 1000) }, misfire: 'skip' });
    await advance(clock, 2100, 100);
    await scheduler.stop({ graceful: false });
    await clock.advance(120_000);
    await scheduler.start();
    await advance(clock, 500, 100);
    const spans = t.exporter.getFinishedSpans();
    const overlap = spans.find((s) => s.events.some((e) => e.name === 'scheduler.overlap'));
    expect(overlap?.attributes['scheduler.outcome']).toBe('skipped');
    const misfire = spans.find((s) => s.events.some((e) => e.name === 'scheduler.misfire'));
    expect(misfire?.attributes['scheduler.trigger.id']).toBe('late');
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const byName = (name: string) => metrics.filter((m) => m.descriptor.name === name).at(-1);
    const jobs = byName('scheduler.jobs');
    expect(jobs?.dataPoints.find((p) => p.attributes.handler === 'ok' && p.attributes.outcome === 'succeeded')?.value).toBeGreaterThanOrEqual(2);
    const lag = byName('scheduler.schedule.lag');
    expect((lag?.dataPoints[0]?.value as { count: number } | undefined)?.count).toBeGreaterThanOrEqual(2);
    expect(byName('scheduler.slots.missed')?.dataPoints.map((p) => p.attributes.reason).sort()).toEqual(['misfire', 'overlap']);
    expect(byName('scheduler.store.call.duration')?.dataPoints.length).toBeGreaterThan(0);
    expect(byName('scheduler.cluster.jobs')?.dataPoints.some((p) => p.attributes['scheduler.trigger.id'] === 'tick')).toBe(true);
    await scheduler.stop({ graceful: false });
    await meterProvider.shutdown();
  });

  it('costs nothing without it: no traceparent, and refuses a provider that is not one, naming the field', async () => {
    const scheduler = new Scheduler({ clock: new ManualClock(T0) });
    scheduler.register('h', () => undefined);
    await scheduler.addTrigger({ id: 'm', handler: 'h', schedule: { manual: true } });
    expect((await scheduler.runTrigger('m')).traceparent).toBeNull();
    expect(() => new Scheduler({ telemetry: { tracerProvider: {} as never } })).toThrow(expect.objectContaining({ field: 'telemetry.tracerProvider' }));
  });

  it('gives a sampler the messaging attributes at creation, and passes a dropped send span on to the attempt as its parent', async () => {
    const seen: Array<{ name: string; attributes: Attributes; parent: string | undefined }> = [];
    const dropAll: Sampler = {
      shouldSample: (context: Context, _traceId: string, name: string, _kind: SpanKind, attributes: Attributes) => {
        seen.push({ name, attributes: { ...attributes }, parent: trace.getSpanContext(context)?.spanId });
        return { decision: SamplingDecision.NOT_RECORD };
      },
      toString: () => 'drop all',
    };
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ sampler: dropAll, spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const clock = new ManualClock(T0);
    const scheduler = new Scheduler({ clock, telemetry: { tracerProvider: provider } });
    scheduler.register('h', () => undefined);
    await scheduler.start();
    await scheduler.addTrigger({ id: 'm', handler: 'h', schedule: { manual: true } });
    const job = await scheduler.runTrigger('m');
    await eventually(async () => (await scheduler.getJob(job.id))?.status === 'succeeded', 10_000, 'the job to succeed', [clock]);
    // Not sampled, yet a valid context: the attempt's sampler sees it as the parent.
    expect(job.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(seen.map((s) => s.name)).toEqual(['send h', 'process h']);
    expect(seen[0]?.attributes).toEqual({ 'messaging.system': 'intellibrowse-scheduler', 'messaging.operation.type': 'send', 'messaging.operation.name': 'send', 'messaging.destination.name': 'h' });
    expect(seen[1]?.attributes).toEqual({ 'messaging.system': 'intellibrowse-scheduler', 'messaging.operation.type': 'process', 'messaging.operation.name': 'process', 'messaging.destination.name': 'h' });
    expect(seen[1]?.parent).toBe(job.traceparent?.split('-')[2]);
    expect(exporter.getFinishedSpans()).toEqual([]);
    await scheduler.stop();
  });

  it('counts every job on the meter exactly, cumulatively across collections', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const clock = new ManualClock(T0);
    const scheduler = new Scheduler({ clock, telemetry: { meterProvider } });
    scheduler.register('h', () => undefined);
    await scheduler.start();
    await scheduler.addTrigger({ id: 'm', handler: 'h', schedule: { manual: true } });
    const succeeded = async (): Promise<number | undefined> => {
      await reader.forceFlush();
      const metric = exporter
        .getMetrics()
        .at(-1)
        ?.scopeMetrics.flatMap((s) => s.metrics)
        .find((m) => m.descriptor.name === 'scheduler.jobs');
      return metric?.dataPoints.find((p) => p.attributes['handler'] === 'h' && p.attributes['source'] === 'manual' && p.attributes['outcome'] === 'succeeded')?.value as number | undefined;
    };
    const runs = async (n: number): Promise<void> => {
      const ids = await Promise.all(Array.from({ length: n }, async () => (await scheduler.runTrigger('m')).id));
      await eventually(async () => (await Promise.all(ids.map((id) => scheduler.getJob(id)))).every((j) => j?.status === 'succeeded'), 10_000, 'the runs to succeed', [clock]);
    };
    await runs(5);
    expect(await succeeded()).toBe(5);
    await runs(3);
    expect(await succeeded()).toBe(8);
    await scheduler.stop();
    await meterProvider.shutdown();
  });

  it('adds no listener to the scheduler: an app that removes all its listeners keeps its spans and metrics', async () => {
    const t = tracing();
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const clock = new ManualClock(T0);
    const scheduler = new Scheduler({ clock, telemetry: { tracerProvider: t.provider, meterProvider, metrics: true } });
    scheduler.register('h', () => undefined);
    await scheduler.start();
    await scheduler.metrics();
    for (const event of ['job:started', 'job:succeeded', 'job:failed', 'lease:lost', 'slot:missed', 'trigger:late'] as const) expect(scheduler.listenerCount(event), event).toBe(0);
    scheduler.removeAllListeners();
    await scheduler.addTrigger({ id: 'm', handler: 'h', schedule: { manual: true } });
    const job = await scheduler.runTrigger('m');
    await eventually(async () => (await scheduler.getJob(job.id))?.status === 'succeeded', 10_000, 'the job to succeed', [clock]);
    expect(named(t.exporter.getFinishedSpans(), 'process h').map((s) => s.attributes['scheduler.outcome'])).toEqual(['succeeded']);
    await reader.forceFlush();
    const jobs = exporter
      .getMetrics()
      .at(-1)
      ?.scopeMetrics.flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'scheduler.jobs');
    expect(jobs?.dataPoints.map((p) => p.value)).toEqual([1]);
    expect((await scheduler.metrics()).body).toMatch(/scheduler_jobs_total\{handler="h",source="manual",outcome="succeeded"\} 1/);
    await scheduler.stop();
    await meterProvider.shutdown();
  });
});
