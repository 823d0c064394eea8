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
import type { Handlers } from '../../src/engine/handlers.js';
import type { Membership } from '../../src/engine/membership.js';
import { Timeline, type TimelineSink } from '../../src/engine/timeline.js';
import { makeTrigger } from '../../src/testing/fixtures.js';

function context(options: { takeoverMs?: number; pollIntervalMs?: number; lookaheadMs?: number }): EngineContext {
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

describe('taking over a slot another instance owns', () => {
  /** A timeline on a running context, its trigger always owned elsewhere unless `own`. */
  function timeline(ctx: EngineContext, own = false): Timeline {
    ctx.state = 'running';
    const handlers = { has: () => true } as unknown as Handlers;
    const membership = { owns: () => own } as unknown as Membership;
    const sink = { newTurn: () => undefined, fire: () => Promise.resolve(), wake: () => undefined } as unknown as TimelineSink;
    return new Timeline(ctx, handlers, membership, sink);
  }

  it('happens once the slot is overdue by the takeover delay, and not while this instance is overloaded', () => {
    const ctx = context({ takeoverMs: 2000 });
    const line = timeline(ctx);
    expect(line.takesOver(8000, 10_000)).toBe(true);
    expect(line.takesOver(8001, 10_000)).toBe(false);
    ctx.overloaded = () => true;
    expect(line.takesOver(1000, 10_000)).toBe(false);
  });

  it('not while this instance is itself behind by the delay with a slot of its own (measured at the poll)', () => {
    const ctx = context({ takeoverMs: 2000, lookaheadMs: 60_000 });
    const own = timeline(ctx, true);
    // A slot of its own, due at 1000 and waiting in the heap (nothing fires it: no timer runs here).
    own.enqueue(makeTrigger({ id: 'mine', nextRunAt: new Date(1000) }), 'poll');
    own.measureDelay(2500);
    expect(own.takesOver(0, 2500)).toBe(true);
    own.measureDelay(3000);
    expect(own.takesOver(0, 3000)).toBe(false);
  });
});
