/**
 * Round trips of lease renewals. The engine renews a lease a margin before it runs out; on a slow
 * store that margin has to grow with what a renewal takes now, or a live instance's lease runs
 * out while its renewal is still on its way. Kept as a small ring of recent samples: cheap to
 * record on every renewal, and `health()` reads its percentiles.
 */

/** Percentiles of the recent renewal round trips (see `HealthReport.leaseRenewal`). */
export interface RenewalSummary {
  /** Renewals the figures cover (the most recent, at most 256). */
  samples: number;
  /** Median round trip in ms. */
  p50Ms: number;
  /** 99th percentile round trip in ms. */
  p99Ms: number;
  /** Longest round trip in ms. */
  maxMs: number;
}

const SAMPLES = 256;
/** How many of the latest samples decide the margin: recent enough to follow a store that slows down. */
const RECENT = 32;

/** A ring of the latest renewal round trips. */
export class RenewalTimes {
  readonly #samples = new Float64Array(SAMPLES);
  #count = 0;
  #next = 0;

  /** Note one renewal's round trip. */
  record(ms: number): void {
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % SAMPLES;
    if (this.#count < SAMPLES) this.#count += 1;
  }

  /** The longest of the latest renewals (0 before any). */
  recentMax(): number {
    let max = 0;
    const n = Math.min(this.#count, RECENT);
    for (let i = 1; i <= n; i++) max = Math.max(max, this.#samples[(this.#next - i + SAMPLES) % SAMPLES]!);
    return max;
  }

  /** Percentiles of the kept samples, or `null` before the first renewal. */
  summary(): RenewalSummary | null {
    if (this.#count === 0) return null;
    const sorted = Array.from(this.#samples.subarray(0, this.#count)).sort((a, b) => a - b);
    const at = (q: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
    return { samples: this.#count, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: Math.round(sorted[sorted.length - 1]!) };
  }
}

/**
 * How long before a lease runs out its renewal starts: with two thirds of the lease left (a
 * renewal every third of it) while renewals are quick, and three of the latest slowest round
 * trips ahead once they are not, but never so early that renewals follow each other more often
 * than every tenth of the lease.
 */
export function renewalMargin(leaseMs: number, recentMaxMs: number): number {
  return Math.min(Math.floor(leaseMs * 0.9), Math.max(Math.floor((leaseMs * 2) / 3), Math.ceil(3 * recentMaxMs)));
}
