/**
 * Store call latency: a store wrapped so that each call's time to settle is recorded by
 * operation (`job.insertMany`, `trigger.claimSlots`, `lock.renew`, …). Installed only when
 * `telemetry.metrics` is on, so an unmeasured scheduler calls its stores directly.
 */
import { performance } from 'node:perf_hooks';
import type { MetricsSink } from './instruments.js';

/** `store` with every method timed into `sinks` (read when each call settles, so sinks may come later). */
export function timedStore<S extends object>(store: S, prefix: 'trigger' | 'job' | 'lock', sinks: readonly MetricsSink[]): S {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
      let timed = wrapped.get(property);
      if (timed === undefined) {
        const labels = { operation: `${prefix}.${property}` };
        const done = (started: number): void => {
          const seconds = (performance.now() - started) / 1000;
          for (const sink of sinks) sink.record('store', labels, seconds);
        };
        timed = function (this: unknown, ...args: unknown[]): unknown {
          const started = performance.now();
          // Called on the store itself: its methods may use private fields, which a proxy lacks.
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (result instanceof Promise) return result.finally(() => done(started));
          done(started);
          return result;
        };
        wrapped.set(property, timed);
      }
      return timed;
    },
  });
}
