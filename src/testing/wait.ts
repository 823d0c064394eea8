/**
 * Waiting helpers for schedulers on a manual clock, used by the contract suite and exported by the
 * kit. Store calls may do real I/O (a database), so after moving time these wait for the work it
 * started to land, by condition rather than by time.
 */
import type { ManualClock } from '@intellibrowse/scheduler';

/**
 * Yield to I/O once: one real timer turn of 1 ms, so callbacks of finished I/O run.
 *
 * @example
 * await tick();
 */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * Wait until `condition` holds (re-checked after each I/O turn), or throw after `timeoutMs` of real
 * time. Manual clocks passed in move on by `stepMs` on every turn: work that finished after real
 * I/O may have armed timers that are already due (a manual clock fires those only when advanced),
 * and a store error's retry backoff needs time to pass.
 *
 * @param condition re-checked after each turn; may be async
 * @param timeoutMs real time to wait before throwing `timed out waiting for <what>` (default 10000)
 * @param what named in the timeout error (default 'condition')
 * @param clocks manual clocks moved on by `stepMs` each turn (default [])
 * @param stepMs manual time per turn (default 10)
 * @example
 * await eventually(async () => (await scheduler.listJobs({ status: 'succeeded' })).items.length === 3, 10_000, 'three successes', [clock]);
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

/**
 * Advance one or more manual clocks together in steps of `stepMs`, letting I/O settle after each
 * step (one real turn, then the clocks' `settle()`).
 *
 * @param clocks one clock or several moved together
 * @param totalMs manual time to move on
 * @param stepMs manual time per step (default 100)
 * @example
 * await advance([clockA, clockB], 5_000);
 */
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
