/**
 * How late a slot of another instance is taken over: `takeoverMs`, plus three of the store's
 * current round trips (a live owner needs two after its timer fired, and a store that is slow for
 * this instance is slow for the owner too).
 */
import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { EngineContext } from '../../src/engine/context.js';
import { resolveOptions } from '../../src/engine/options.js';
import type { SchedulerEvents } from '../../src/events.js';

function context(options: { takeoverMs?: number; pollIntervalMs?: number }): EngineContext {
  return new EngineContext(resolveOptions({ clock: new ManualClock(0), ...options }), new EventEmitter<SchedulerEvents>());
}

describe('takeover delay', () => {
  it('is takeoverMs while the store answers at once', () => {
    expect(context({ pollIntervalMs: 200 }).takeoverAfterMs()).toBe(400);
    expect(context({ takeoverMs: 1234 }).takeoverAfterMs()).toBe(1234);
  });

  it('grows by three of the latest slowest store round trips', () => {
    const ctx = context({ pollIntervalMs: 200 });
    ctx.storeRoundTripMs = 500;
    expect(ctx.takeoverAfterMs()).toBe(1900);
    ctx.storeRoundTripMs = 0.4;
    expect(ctx.takeoverAfterMs()).toBe(403);
  });
});
