/**
 * docs/observability.md is the public contract of the OpenTelemetry output: every span, span
 * attribute, span event and metric it lists, with its labels, is what a scheduler with the SDK's
 * in-memory exporters produces. The tables are read from the document, so a change to either
 * side that the other does not follow fails here.
 */
import { readFileSync } from 'node:fs';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import { INSTRUMENTS, otelName } from '../../src/telemetry/instruments.js';
import { registerSampleHandlers, T0 } from '../helpers/setup.js';
import { advance, eventually } from '../helpers/time.js';

const DOC = readFileSync(new URL('../../docs/observability.md', import.meta.url), 'utf8');

/** The rows of the first table after `heading` (cells trimmed), header and rule left out. */
function table(heading: string): string[][] {
  const at = DOC.indexOf(heading);
  if (at < 0) throw new Error(`docs/observability.md has no "${heading}"`);
  const lines = DOC.slice(at).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split(' | ').map((cell) => cell.trim()));
  }
  return rows;
}

/** The `code` names in a cell, before any parenthesis (which gives examples of values). */
const names = (cell: string): string[] => [...(cell.split(' (')[0] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** The attribute names of an events-table cell: the first `code` of each comma-separated part (`name` = `value`, `name` (note)). */
const attributeNames = (cell: string): string[] =>
  cell
    .replace(/\([^)]*\)/g, '')
    .split(', ')
    .map((part) => /`([^`]+)`/.exec(part)?.[1] ?? '');

/** The spans, events and metrics of one run that exercises every documented path it can. */
async function run(): Promise<{ spans: ReadableSpan[]; metrics: Map<string, Array<Record<string, unknown>>> }> {
  const clock = new ManualClock(T0);
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const scheduler = new Scheduler({ clock, pollIntervalMs: 200, lookaheadMs: 1000, telemetry: { tracerProvider, meterProvider } });
  scheduler.on('error', () => undefined);
  registerSampleHandlers(scheduler);
  await scheduler.start();
  await scheduler.addTrigger({ id: 'tick', handler: 'ok', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
  await scheduler.addTrigger({ id: 'flaky', handler: 'flaky', schedule: { at: new Date(T0 + 1500) }, retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 100 } } });
  await scheduler.addTrigger({ id: 'stuck', handler: 'slow', schedule: { every: 1000, startAt: new Date(T0 + 1000) }, overlap: 'skip' });
  await scheduler.addTrigger({ id: 'late', handler: 'ok', schedule: { every: 60_000, startAt: new Date(T0 + 1000) }, misfire: 'skip' });
  await advance(clock, 2500, 100);
  await eventually(async () => (await scheduler.listJobs({ triggerId: 'flaky' })).items.some((j) => j.status === 'failed'), 10_000, 'the flaky job to fail', [clock]);
  await scheduler.stop({ graceful: false });
  await clock.advance(120_000);
  await scheduler.start();
  await advance(clock, 500, 100);
  await scheduler.stop({ graceful: false });
  await reader.forceFlush();
  const metrics = new Map<string, Array<Record<string, unknown>>>();
  for (const batch of metricExporter.getMetrics()) {
    for (const scope of batch.scopeMetrics) for (const metric of scope.metrics) metrics.set(metric.descriptor.name, metric.dataPoints.map((p) => p.attributes));
  }
  await meterProvider.shutdown();
  return { spans: spanExporter.getFinishedSpans(), metrics };
}

describe('docs/observability.md: the OpenTelemetry contract', async () => {
  const { spans, metrics } = await run();
  const jobSend = spans.filter((s) => s.kind === SpanKind.PRODUCER && s.attributes['messaging.message.id'] !== undefined);
  const misfireSend = spans.filter((s) => s.kind === SpanKind.PRODUCER && s.events.some((e) => e.name === 'scheduler.misfire'));
  const processes = spans.filter((s) => s.kind === SpanKind.CONSUMER);
  const spansOn: Record<string, ReadableSpan[]> = {
    all: [...jobSend, ...misfireSend, ...processes],
    "jobs'": [...jobSend, ...processes],
    process: processes,
    'process, misfire send': [...processes, ...misfireSend],
  };

  it('the run made every kind of span the tables name', () => {
    expect(jobSend.length).toBeGreaterThan(0);
    expect(misfireSend.length).toBeGreaterThan(0);
    expect(processes.length).toBeGreaterThan(0);
    const names = new Set(spans.map((s) => s.name));
    for (const name of ['send ok', 'process ok', 'send flaky', 'process flaky', 'process slow']) expect(names).toContain(name);
    for (const span of spans) expect(span.name).toMatch(/^(send|process) (ok|flaky|slow)$/);
  });

  it('every attribute of the table is on the spans it names, with a value of the documented form', () => {
    const rows = table('Attributes:');
    expect(rows.length).toBe(10);
    for (const [cell, on] of rows) {
      const [name] = names(cell!);
      const targets = spansOn[on!.replaceAll('`', '')];
      expect(targets, `"on" column "${on}" of ${name}`).toBeDefined();
      for (const span of targets!) expect(span.attributes, `${name} on ${span.name}`).toHaveProperty([name!]);
    }
    for (const span of spansOn.all!) {
      expect(span.attributes['messaging.system']).toBe('intellibrowse-scheduler');
      expect(span.attributes['messaging.destination.name']).toBe(span.name.split(' ')[1]);
      expect(span.attributes['scheduler.slot']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    for (const span of processes) {
      expect(span.attributes['messaging.operation.type']).toBe('process');
      expect(span.attributes['messaging.operation.name']).toBe('process');
      expect(['succeeded', 'failed', 'cancelled', 'retrying', 'skipped', 'fenced']).toContain(span.attributes['scheduler.outcome']);
    }
    for (const span of jobSend) expect(span.attributes['messaging.operation.type']).toBe('send');
    expect(new Set(processes.map((s) => s.attributes['scheduler.outcome']))).toEqual(new Set(['succeeded', 'retrying', 'failed', 'skipped']));
    expect(processes.filter((s) => s.attributes['scheduler.outcome'] === 'failed').every((s) => s.status.code === SpanStatusCode.ERROR)).toBe(true);
    expect(processes.find((s) => s.attributes['scheduler.outcome'] === 'retrying')?.attributes['scheduler.attempt']).toBe(1);
    expect(processes.find((s) => s.attributes['scheduler.outcome'] === 'failed')?.attributes['scheduler.attempt']).toBe(2);
  });

  it('the decision events carry the attributes of the events table', () => {
    const rows = table('Span events:');
    const byEvent = new Map(rows.flatMap(([events, , attributes]) => names(events!).map((event) => [event, attributeNames(attributes!)] as const)));
    for (const event of ['scheduler.overlap', 'scheduler.misfire']) {
      const found = spans.flatMap((s) => s.events).find((e) => e.name === event);
      expect(found, event).toBeDefined();
      expect(Object.keys(found!.attributes ?? {}).sort()).toEqual([...byEvent.get(event)!].sort());
    }
  });

  it('every per-process metric of the table is an instrument with those labels, and the run recorded them on the meter', () => {
    const rows = table('### Per-process metrics');
    const documented = new Map(rows.map(([metric, , labels]) => [names(metric!)[0]!, names(labels!)]));
    const defined = new Map(Object.values(INSTRUMENTS).map((def) => [def.name, [...def.labels]]));
    expect(documented).toEqual(defined);
    // Those this run produces: each data point has exactly the documented labels.
    for (const key of ['jobs', 'duration', 'lag', 'missed', 'retries', 'store'] as const) {
      const def = INSTRUMENTS[key];
      const points = metrics.get(otelName(def));
      expect(points?.length, otelName(def)).toBeGreaterThan(0);
      for (const attributes of points!) expect(Object.keys(attributes).sort(), otelName(def)).toEqual([...def.labels].sort());
    }
    expect(new Set(metrics.get('scheduler.jobs')!.map((a) => a['outcome']))).toEqual(new Set(['succeeded', 'retrying', 'failed', 'skipped']));
    expect(new Set(metrics.get('scheduler.slots.missed')!.map((a) => a['reason']))).toEqual(new Set(['overlap', 'misfire']));
  });

  it('the cluster gauges named in "Metrics on the meter" are exported', () => {
    const section = DOC.slice(DOC.indexOf('### Metrics on the meter'));
    for (const name of ['scheduler.cluster.jobs', 'scheduler.trigger.last_success_timestamp', 'scheduler.trigger.late', 'scheduler.trigger.failing']) {
      expect(section).toContain(`\`${name}\``);
    }
    expect(metrics.get('scheduler.cluster.jobs')?.some((a) => a['scheduler.trigger.id'] === 'tick' && a['scheduler.job.status'] === 'pending')).toBe(true);
    expect(metrics.get('scheduler.trigger.last_success_timestamp')?.some((a) => a['scheduler.trigger.id'] === 'tick')).toBe(true);
  });
});
