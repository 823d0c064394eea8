/**
 * The adaptive limit of backpressure (`StorePressure`): cut by a quarter on a round trip above
 * the target (once per window), raised by a tenth after a calm window, back to `concurrency`;
 * the overload events and report follow, and claims go in smaller waves while overloaded.
 */
import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { EngineContext } from '../../src/engine/context.js';
import { resolveOptions } from '../../src/engine/options.js';
import { StorePressure } from '../../src/engine/store-pressure.js';
import type { SchedulerEvents } from '../../src/events.js';

describe('StorePressure', () => {
  it('cuts the limit on slow round trips, grows it back on calm ones, and says so', () => {
    const clock = new ManualClock(0);
    const emitter = new EventEmitter<SchedulerEvents>();
    const ctx = new EngineContext(resolveOptions({ clock, leaseMs: 5000, concurrency: 100 }), emitter);
    const events: string[] = [];
    emitter.on('overload:started', (e) => events.push(`started ${e.limit} ${e.roundTripMs} ${e.targetMs}`));
    emitter.on('overload:ended', (e) => events.push(`ended ${e.durationMs}`));
    let rooms = 0;
    const pressure = new StorePressure(ctx, () => (rooms += 1));
    expect(pressure.limit()).toBe(100);
    expect(pressure.claimWindow()).toBe(256);
    // Quick: nothing changes.
    for (let i = 0; i < 10; i++) {
      pressure.record(20);
      clock.set(clock.now() + 100);
    }
    expect(pressure.limit()).toBe(100);
    expect(pressure.overload).toBeNull();
    // Slow (target: a tenth of 5 s): cut once per 500 ms window, however many slow answers.
    pressure.record(2000);
    pressure.record(2000);
    expect(pressure.limit()).toBe(75);
    expect(events).toEqual(['started 75 2000 500']);
    expect(pressure.overload).toMatchObject({ limit: 75, since: new Date(1000) });
    expect(pressure.overload?.reason).toContain('2000 ms, above the 500 ms target');
    expect(pressure.claimWindow()).toBe(64);
    for (let i = 0; i < 5; i++) {
      clock.set(clock.now() + 500);
      pressure.record(2000);
    }
    expect(pressure.limit()).toBe(17);
    // Quick again: the limit grows back window by window, and the overload ends at 100.
    for (let i = 0; i < 60 && pressure.overload !== null; i++) {
      clock.set(clock.now() + 500);
      pressure.record(10);
    }
    expect(pressure.limit()).toBe(100);
    expect(pressure.overload).toBeNull();
    expect(events.at(-1)).toMatch(/^ended \d+$/);
    expect(rooms).toBeGreaterThan(5);
    // Never below one.
    for (let i = 0; i < 40; i++) {
      clock.set(clock.now() + 500);
      pressure.record(60_000);
    }
    expect(pressure.limit()).toBe(1);
  });
});
