/**
 * The last resort for errors nobody listens to: with no `error` listener and no logger, a failure
 * that has no caller (a store that keeps failing, a job's result that could not be recorded)
 * reaches stderr, once per kind per minute, with a count of the ones held back meanwhile.
 * An embedded scheduler thus never fails silently, and never floods the host's stderr either.
 */
import type { Clock } from '../clock.js';

/** Most one line per kind in this long (local clock). */
export const STDERR_REPORT_EVERY_MS = 60_000;

interface KindState {
  /** When its last line was written. */
  writtenAt: number;
  /** Reports held back since. */
  held: number;
}

/** Rate-limited stderr lines, one per kind per minute. */
export class StderrReport {
  readonly #clock: Clock;
  readonly #instanceId: string;
  readonly #write: (line: string) => void;
  readonly #kinds = new Map<string, KindState>();

  constructor(clock: Clock, instanceId: string, write: (line: string) => void = (line) => process.stderr.write(line)) {
    this.#clock = clock;
    this.#instanceId = instanceId;
    this.#write = write;
  }

  /** Write the error unless a line of its kind was written within the last minute. */
  report(kind: string, error: Error): void {
    const now = this.#clock.now();
    const state = this.#kinds.get(kind);
    if (state && now - state.writtenAt < STDERR_REPORT_EVERY_MS) {
      state.held++;
      return;
    }
    const held = state?.held ?? 0;
    this.#kinds.set(kind, { writtenAt: now, held: 0 });
    const more = held > 0 ? ` (${held} more of this kind in the last minute)` : '';
    this.#write(
      `[@intellibrowse/scheduler] ${new Date(now).toISOString()} instance ${this.#instanceId}: ${kind}: ${error.message}${more}. ` +
        `Listen to 'error' or pass a logger to handle these; this line repeats at most once a minute per kind.\n`,
    );
  }
}
