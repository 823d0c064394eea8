/**
 * OpenTelemetry through the API's global providers (`telemetry: { opentelemetry: true }`). With
 * no SDK registered the scheduler makes no spans and counts nothing for the meter, yet an SDK
 * registered after `start()` is traced from its next job on, and a job created where the active
 * context carries a span (a context manager without an SDK) still passes that span on, as the
 * API's no-op tracer does. This file registers globals: it runs alone in its worker.
 */
import { context, metrics, ROOT_CONTEXT, trace, TraceFlags, type Context, type ContextManager } from '@opentelemetry/api';
import * as api from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import { otelMeter, OtelTracing, parseTraceparent } from '../../src/telemetry/otel.js';
import type { Job } from '../../src/types.js';
import { T0 } from '../helpers/setup.js';
import { eventually } from '../helpers/time.js';

/** The smallest synchronous context manager: enough for `context.with` around a synchronous call. */
class StackContext implements ContextManager {
  #stack: Context[] = [];
  active(): Context {
    return this.#stack.at(-1) ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    this.#stack.push(ctx);
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.#stack.pop();
    }
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#stack = [];
    return this;
  }
}

afterEach(() => {
  trace.disable();
  context.disable();
  metrics.disable();
});

describe('OpenTelemetry through the global providers', () => {
  it('makes no spans while no SDK is registered, and traces the jobs after one is, without a restart', async () => {
    const clock = new ManualClock(T0);
    const scheduler = new Scheduler({ clock, telemetry: { opentelemetry: true } });
    scheduler.register('h', () => undefined);
    await scheduler.start();
    await scheduler.addTrigger({ id: 'm', handler: 'h', schedule: { manual: true } });
    const before = await scheduler.runTrigger('m');
    expect(before.traceparent).toBeNull();
    await eventually(async () => (await scheduler.getJob(before.id))?.status === 'succeeded', 10_000, 'the first job', [clock]);

    const exporter = new InMemorySpanExporter();
    expect(trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))).toBe(true);
    const after = await scheduler.runTrigger('m');
    expect(after.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await eventually(async () => (await scheduler.getJob(after.id))?.status === 'succeeded', 10_000, 'the second job', [clock]);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['process h', 'send h']);
    expect(spans.every((s) => s.attributes['messaging.message.id'] === after.id)).toBe(true);
    await scheduler.stop();
  });

  it('with no SDK, a job created in a context that carries a span takes that span as its traceparent', () => {
    context.setGlobalContextManager(new StackContext());
    const tracing = new OtelTracing(api, { tracerProvider: null, meterProvider: null });
    const job = { id: 'j', handler: 'h', triggerId: 't', source: 'manual', scheduledFor: new Date(T0), attempts: 1 } as Job;
    const upstream = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    expect(tracing.send(job)).toBeNull();
    const inside = context.with(trace.setSpanContext(ROOT_CONTEXT, upstream), () => tracing.send(job));
    expect(inside).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('counts nothing for the no-op meter, and uses a meter provider registered before start', () => {
    expect(otelMeter(api, { tracerProvider: null, meterProvider: null })).toBeNull();
    const given = new MeterProvider();
    expect(otelMeter(api, { tracerProvider: null, meterProvider: given })).not.toBeNull();
    expect(metrics.setGlobalMeterProvider(new MeterProvider())).toBe(true);
    expect(otelMeter(api, { tracerProvider: null, meterProvider: null })).not.toBeNull();
  });
});

describe('parseTraceparent', () => {
  it('reads the W3C form this library writes, and refuses any other shape', () => {
    expect(parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
    });
    for (const bad of ['', '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-zz', '00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-011']) {
      expect(parseTraceparent(bad), bad).toBeNull();
    }
    // Not hex: a context the API itself calls invalid, so the tracer takes it for no parent.
    const odd = parseTraceparent('00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01');
    expect(odd !== null && trace.isSpanContextValid(odd)).toBe(false);
  });
});
