/**
 * Backpressure: an adaptive limit on the attempts this instance holds, below `concurrency` while
 * the store answers slowly. An instance that takes more work than the store can serve makes every
 * call slower (its own lease renewals and job writes among them), until leases are lost and jobs
 * run twice; taking less new work instead lets the cluster get later, never collapse.
 *
 * The limit follows the round trips of the calls that bring in and keep work (job inserts, lease
 * renewals) against a target of a tenth of `leaseMs` (at least 100 ms): a round trip above it
 * cuts the limit by a quarter (once per target-long window, so a burst of slow answers to one
 * batch counts once); a window whose round trips all stayed under half the target raises it by a
 * tenth (at least one), back up to `concurrency`. Slots are claimed in waves (`claimWindow`),
 * smaller while overloaded. Running attempts are never touched: only what
 * starts next waits. `health().overload` and the `overload:started` / `overload:ended` events
 * say when the limit is below `concurrency`, and why.
 */
import type { EngineContext } from './context.js';

/** Least target round trip, in ms. */
const MIN_TARGET_MS = 100;
/** Share of the limit kept after a slow round trip. */
const CUT = 0.75;
/** Share of the limit added after a calm window. */
const GROWTH = 0.1;
/**
 * Most slots being claimed (job inserts and trigger advances on their way) at once while the
 * store keeps up, and while it is overloaded: a herd of slots due together is claimed in waves,
 * so that each wave's round trip is measured before the next one adds to the store's queue, and
 * a lease renewal never waits behind a whole herd's claims and first writes.
 */
const CLAIM_WINDOW = 256;
const CLAIM_WINDOW_OVERLOADED = 64;

/** What `health().overload` says while the instance takes less work than `concurrency`. */
export interface OverloadReport {
  /** Why, in words (the slow round trip against the target). */
  reason: string;
  /** Attempts this instance holds at most now (below `concurrency`). */
  limit: number;
  /** Since when (local clock). */
  since: Date;
}

/** The adaptive in-flight limit. */
export class StorePressure {
  readonly #ctx: EngineContext;
  readonly #targetMs: number;
  #limit: number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #windowMaxMs = 0;
  #cutInWindow = false;
  #overload: OverloadReport | null = null;
  readonly #onRoom: () => void;

  /** @param onRoom called when the limit grows: work parked for lack of room may go on */
  constructor(ctx: EngineContext, onRoom: () => void) {
    this.#ctx = ctx;
    this.#onRoom = onRoom;
    this.#limit = ctx.o.concurrency;
    this.#targetMs = Math.max(MIN_TARGET_MS, Math.floor(ctx.o.leaseMs / 10));
  }

  /** Attempts this instance may hold now: `concurrency`, or less while the store is slow. */
  limit(): number {
    return this.#limit;
  }

  /** Slots that may be in the middle of being claimed at once. */
  claimWindow(): number {
    return this.#overload === null ? CLAIM_WINDOW : CLAIM_WINDOW_OVERLOADED;
  }

  /** Whether the limit is below `concurrency` now (`overload` without the copy). */
  get overloaded(): boolean {
    return this.#overload !== null;
  }

  /** The overload, while there is one. */
  get overload(): OverloadReport | null {
    return this.#overload === null ? null : { ...this.#overload, since: new Date(this.#overload.since.getTime()) };
  }

  /** Note the round trip (ms) of a call that brought in or kept work. */
  record(roundTripMs: number): void {
    const now = this.#ctx.o.clock.now();
    if (now - this.#windowStart >= this.#targetMs) {
      // A window closed: calm throughout, the limit grows back.
      if (Number.isFinite(this.#windowStart) && !this.#cutInWindow && this.#windowMaxMs * 2 < this.#targetMs) this.#grow();
      this.#windowStart = now;
      this.#windowMaxMs = 0;
      this.#cutInWindow = false;
    }
    this.#windowMaxMs = Math.max(this.#windowMaxMs, roundTripMs);
    if (roundTripMs > this.#targetMs && !this.#cutInWindow) {
      this.#cutInWindow = true;
      this.#cut(roundTripMs);
    }
  }

  #cut(roundTripMs: number): void {
    const { o } = this.#ctx;
    this.#limit = Math.max(1, Math.floor(this.#limit * CUT));
    const reason = `store round trips of ${Math.round(roundTripMs)} ms, above the ${this.#targetMs} ms target (a tenth of leaseMs): taking at most ${this.#limit} of ${o.concurrency} jobs`;
    if (this.#overload) {
      this.#overload.reason = reason;
      this.#overload.limit = this.#limit;
      return;
    }
    this.#overload = { reason, limit: this.#limit, since: new Date(o.clock.now()) };
    o.logger.warn({ roundTripMs, targetMs: this.#targetMs, limit: this.#limit }, 'store overloaded: taking less new work');
    this.#ctx.emit('overload:started', { reason, limit: this.#limit, concurrency: o.concurrency, roundTripMs, targetMs: this.#targetMs });
  }

  #grow(): void {
    const { o } = this.#ctx;
    if (this.#limit >= o.concurrency) return;
    this.#limit = Math.min(o.concurrency, this.#limit + Math.max(1, Math.ceil(this.#limit * GROWTH)));
    this.#onRoom();
    if (this.#overload && this.#limit < o.concurrency) {
      this.#overload.limit = this.#limit;
      return;
    }
    const since = this.#overload?.since ?? new Date(o.clock.now());
    this.#overload = null;
    o.logger.info({ limit: this.#limit }, 'store overload over: taking work up to concurrency again');
    this.#ctx.emit('overload:ended', { since, durationMs: o.clock.now() - since.getTime() });
  }
}
