/**
 * Helpers for driving schedulers on a manual clock. Store calls may do real I/O (MongoDB), so
 * after moving time we wait for the work it started to land, by condition rather than by time.
 */
import type { ManualClock } from '../../src/clock.js';

/** Yield to I/O once. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * Wait until `condition` holds (re-checked after each I/O turn), or throw after `timeoutMs` of real
 * time. Manual clocks passed in move on by `stepMs` on every turn: work that finished after real
 * I/O may have armed timers that are already due (a manual clock fires those only when advanced),
 * and a store error's retry backoff needs time to pass.
 */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
  clocks: ManualClock[] = [],
  stepMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    for (const clock of clocks) await clock.advance(stepMs);
    await tick();
  }
}

/** Advance one or more manual clocks together in steps, letting I/O settle after each step. */
export async function advance(clocks: ManualClock | ManualClock[], totalMs: number, stepMs = 100): Promise<void> {
  const list = Array.isArray(clocks) ? clocks : [clocks];
  let left = totalMs;
  while (left > 0) {
    const step = Math.min(stepMs, left);
    for (const clock of list) await clock.advance(step);
    await tick();
    for (const clock of list) await clock.settle();
    left -= step;
  }
}
