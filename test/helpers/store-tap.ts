/**
 * A store seen through a tap: every call is counted by method, and, while `delayMs` is set, takes
 * that much clock time (half on the way to the store, half on the way back), with at most
 * `poolSize` calls on their way at once (the rest wait in line, as behind a driver's connection
 * pool). Any port (trigger store, job store, lock manager), on the manual clock.
 */
import type { ManualClock } from '../../src/clock.js';

/** The tap's settings and counts, shared by the stores of one instance. */
export class StoreTap {
  /** Round trip each call takes, in clock ms (0: answered at once). */
  delayMs = 0;
  /** Most calls on their way at once while delayed. */
  poolSize = Number.POSITIVE_INFINITY;
  /** Calls per `store.method`. */
  readonly calls = new Map<string, number>();
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly clock: ManualClock) {}

  /** Calls of `store.method` so far. */
  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  /** Wrap `store`, naming its calls `name.method`. */
  wrap<T extends object>(store: T, name: string): T {
    return new Proxy(store, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const method = `${name}.${String(property)}`;
          this.calls.set(method, this.count(method) + 1);
          const call = (): unknown => Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
          return this.delayMs > 0 ? this.#slow(call) : call();
        };
      },
    });
  }

  async #slow(call: () => unknown): Promise<unknown> {
    if (this.#inFlight >= this.poolSize) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#inFlight += 1;
    try {
      const half = this.delayMs / 2;
      await this.#sleep(half);
      const answer = await call();
      await this.#sleep(half);
      return answer;
    } finally {
      this.#inFlight -= 1;
      this.#waiting.shift()?.();
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimer(resolve, ms));
  }
}
