/**
 * Time source of the scheduler. Everything that reads the time or waits goes through a `Clock`, so
 * tests can drive the whole engine with a `ManualClock` and never sleep for real.
 */

/** Handle of a pending timer. */
export interface TimerHandle {
  /** Cancel the timer; calling it twice is harmless. */
  cancel(): void;
}

/** The time port. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Call `fn` once after `ms` milliseconds (any non-negative length, even beyond 2^31-1). */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

/** Node's timers fire at once for delays above this; longer waits are re-armed in steps. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Wall clock with Node timers. Timers are `unref`'d: they never keep the process alive alone. */
export class SystemClock implements Clock {
  /** @inheritdoc */
  now(): number {
    return Date.now();
  }

  /** @inheritdoc */
  setTimer(fn: () => void, ms: number): TimerHandle {
    const due = Date.now() + Math.max(0, ms);
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      const remaining = due - Date.now();
      if (remaining > MAX_TIMER_DELAY_MS) {
        handle = setTimeout(arm, MAX_TIMER_DELAY_MS);
      } else {
        handle = setTimeout(() => {
          if (!cancelled) fn();
        }, Math.max(0, remaining));
      }
      handle.unref();
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        if (handle) clearTimeout(handle);
      },
    };
  }
}

interface ManualTimer {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. `advance` fires due timers in order of due time and lets
 * promise chains settle between them, so async work started by a timer completes "at" that time.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: ManualTimer[] = [];

  /** @param start initial time (default 2026-01-01T00:00:00Z) */
  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  /** @inheritdoc */
  now(): number {
    return this.#now;
  }

  /** @inheritdoc */
  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { due: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Number of timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Due time of the earliest pending timer, if any. */
  nextTimerAt(): number | null {
    let best: number | null = null;
    for (const t of this.#timers) if (!t.cancelled && (best === null || t.due < best)) best = t.due;
    return best;
  }

  /**
   * Let pending promise callbacks run without moving time. Each round is one macrotask turn, which
   * drains every microtask queued meanwhile; work waiting on real I/O may need more rounds.
   */
  async settle(rounds = 3): Promise<void> {
    for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  /** Move time to `target` (epoch ms or Date), firing due timers in order. */
  async advanceTo(target: number | Date): Promise<void> {
    const end = typeof target === 'number' ? target : target.getTime();
    await this.settle();
    for (;;) {
      const next = this.#takeNextDue(end);
      if (!next) break;
      this.#now = Math.max(this.#now, next.due);
      next.fn();
      await this.settle();
    }
    this.#now = Math.max(this.#now, end);
    await this.settle();
  }

  /** Set the time without firing timers (a wall-clock jump). */
  set(time: number | Date): void {
    this.#now = typeof time === 'number' ? time : time.getTime();
  }

  #takeNextDue(end: number): ManualTimer | null {
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    const found = this.#pick(end);
    if (found) this.#timers.splice(this.#timers.indexOf(found), 1);
    return found;
  }

  #pick(end: number): ManualTimer | null {
    let best: ManualTimer | null = null;
    for (const t of this.#timers) {
      if (t.cancelled || t.due > end) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
