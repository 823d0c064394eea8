import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_DELAY_MS, ManualClock, SystemClock } from '../../src/clock.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('SystemClock', () => {
  it('never hands Node a delay above 2^31-1 ms and fires long waits on time, in steps', () => {
    vi.useFakeTimers({ now: 0 });
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const clock = new SystemClock();
    const fired: number[] = [];
    const fortyDays = 40 * 24 * 3600 * 1000;
    clock.setTimer(() => fired.push(Date.now()), fortyDays);
    vi.advanceTimersByTime(fortyDays - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([fortyDays]);
    const delays = spy.mock.calls.map((call) => call[1] ?? 0);
    expect(delays.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
  });

  it('cancel stops a pending timer, also between steps', () => {
    vi.useFakeTimers({ now: 0 });
    const clock = new SystemClock();
    let fired = false;
    const handle = clock.setTimer(() => (fired = true), MAX_TIMER_DELAY_MS * 2);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 10);
    handle.cancel();
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS * 2);
    expect(fired).toBe(false);
  });
});

describe('ManualClock', () => {
  it('fires timers in due order (ties in creation order) and only when advanced past them', async () => {
    const clock = new ManualClock(1000);
    const order: string[] = [];
    clock.setTimer(() => order.push('b'), 20);
    clock.setTimer(() => order.push('a'), 10);
    clock.setTimer(() => order.push('c'), 20);
    const cancelled = clock.setTimer(() => order.push('x'), 5);
    cancelled.cancel();
    await clock.advance(9);
    expect(order).toEqual([]);
    expect(clock.now()).toBe(1009);
    await clock.advance(11);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(clock.now()).toBe(1020);
  });

  it('timers set while advancing fire within the same advance when due', async () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    clock.setTimer(() => {
      seen.push(clock.now());
      clock.setTimer(() => seen.push(clock.now()), 5);
    }, 10);
    await clock.advance(100);
    expect(seen).toEqual([10, 15]);
    expect(clock.pendingTimers).toBe(0);
  });
});
