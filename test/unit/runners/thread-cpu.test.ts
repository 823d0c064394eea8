import { describe, expect, it } from 'vitest';
import { createCpuMeter } from '../../../src/runners/thread-cpu.js';

describe('createCpuMeter', () => {
  it.skipIf(process.platform !== 'linux')('measures this thread on Linux', () => {
    const meter = createCpuMeter();
    expect(meter.scope).toBe('thread');
    const t0 = performance.now();
    const stop = meter.start();
    const end = Date.now() + 120;
    let x = 0;
    while (Date.now() < end) x += Math.sqrt(x + 1);
    const cpu = stop();
    const wallMs = performance.now() - t0;
    // All of the 120 ms on an idle machine, less when other processes share the cores; never more
    // than one thread can use in the wall time (which a process-wide figure could exceed).
    expect(cpu.userMs + cpu.systemMs).toBeGreaterThan(10);
    expect(cpu.userMs + cpu.systemMs).toBeLessThan(wallMs * 1.1 + 15);
    expect(cpu.systemMs).toBeGreaterThanOrEqual(0);
  });

  it('reports sub-tick intervals without negative numbers', () => {
    const stop = createCpuMeter().start();
    const cpu = stop();
    expect(cpu.userMs).toBeGreaterThanOrEqual(0);
    expect(cpu.systemMs).toBeGreaterThanOrEqual(0);
  });
});
