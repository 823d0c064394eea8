/**
 * OpenTelemetry and Prometheus: spans of every job (a `send` span where it is created, a
 * `process` span per attempt, linked through the job's stored traceparent) printed to the
 * console, the same metrics on an OpenTelemetry meter, and the Prometheus text of `GET /metrics`.
 * Runs for about three seconds and exits.
 *
 *   npm install @opentelemetry/api @opentelemetry/sdk-trace-base @opentelemetry/sdk-metrics prom-client
 *   npx tsx examples/otel.ts
 *
 * In a service, pass your SDK's providers (or set the global ones and use `opentelemetry: true`)
 * and export with OTLP instead of the console.
 */
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Scheduler } from '../src/index.js';

const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] });
const reader = new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: 60_000 });
const meterProvider = new MeterProvider({ readers: [reader] });

const scheduler = new Scheduler({
  pollIntervalMs: 250,
  logger: console,
  telemetry: { metrics: true, tracerProvider, meterProvider },
});

scheduler.register('reports.render', async (ctx) => {
  if (ctx.attempt === 1) throw new Error('renderer busy');
  return { pages: 3 };
});
scheduler.on('trigger:late', (late) => console.warn(`late: ${late.triggerId} missed ${late.slot.toISOString()} by ${late.lateByMs} ms`));

await scheduler.start();
await scheduler.addTrigger({
  id: 'render-every-second',
  handler: 'reports.render',
  schedule: { every: '1s' },
  retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 200 } },
  alertAfterMs: 60_000,
});

await new Promise((resolve) => setTimeout(resolve, 3000));
await scheduler.stop();

const { body } = await scheduler.metrics();
console.log(body.split('\n').filter((line) => line.startsWith('scheduler_jobs_total') || line.startsWith('scheduler_schedule_lag_seconds_count')).join('\n'));
await reader.forceFlush();
await meterProvider.shutdown();
