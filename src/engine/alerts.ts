/**
 * A quiet schedule raises its hand: which triggers have a slot not started `alertAfterMs` after its
 * time (late), and which ones' recent jobs all failed (failing). Late slots are read from the
 * store, so the slots of an instance that died (or of a handler no live instance has) are seen
 * too; `check` runs in the maintenance pass, which one instance of the cluster does per period, so
 * each late slot raises `trigger:late` once, not once per instance.
 */
import type { TriggerLateEvent } from '../events.js';
import type { JobStatsSummary } from '../ports.js';
import type { Trigger } from '../types.js';
import type { EngineContext } from './context.js';

/** Most late triggers read per check. */
const LATE_LIMIT = 1000;
/** How many of a trigger's latest finished jobs must all have failed for it to count as failing. */
export const FAILING_AFTER = 3;

/** A trigger whose next slot has not started `alertAfterMs` after its time. */
export type LateTrigger = TriggerLateEvent;

/** Whether a trigger's latest finished jobs all failed: its last `FAILING_AFTER` (or all, when fewer ran). */
export function isFailing(figures: Pick<JobStatsSummary['byTrigger'][string], 'runs' | 'failedInRow'>): boolean {
  return figures.runs > 0 && figures.failedInRow >= Math.min(FAILING_AFTER, figures.runs);
}

/** Whether a trigger's next slot is late at `now` by its own `alertAfterMs`. */
export function isLate(trigger: Trigger, now: number): boolean {
  return (
    trigger.status === 'active' && trigger.alertAfterMs !== null && trigger.nextRunAt !== null && trigger.nextRunAt.getTime() + trigger.alertAfterMs <= now
  );
}

/** Late triggers, from the store; `trigger:late` for each newly late slot. */
export class Alerts {
  readonly #ctx: EngineContext;
  /** The slot last reported late per trigger, so each late slot is reported once by this instance. */
  readonly #reported = new Map<string, number>();

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /** The triggers late now, oldest slot first. */
  async late(now: number = this.#ctx.o.clock.now()): Promise<LateTrigger[]> {
    const store = this.#ctx.o.triggerStore;
    const at = new Date(now);
    const triggers = store.findLate ? await store.findLate(at, LATE_LIMIT) : await this.#scan(now);
    return triggers.map((trigger) => ({
      triggerId: trigger.id,
      handler: trigger.handler,
      slot: trigger.nextRunAt!,
      lateByMs: now - trigger.nextRunAt!.getTime(),
      alertAfterMs: trigger.alertAfterMs!,
    }));
  }

  /** Emit `trigger:late` for every late slot not reported yet (called by the maintenance pass). */
  async check(now: number): Promise<void> {
    const late = await this.late(now);
    const seen = new Set<string>();
    for (const entry of late) {
      seen.add(entry.triggerId);
      const slot = entry.slot.getTime();
      if (this.#reported.get(entry.triggerId) === slot) continue;
      this.#reported.set(entry.triggerId, slot);
      this.#ctx.o.logger.warn({ triggerId: entry.triggerId, slot: entry.slot.toISOString(), lateByMs: entry.lateByMs }, 'a trigger is late: its slot has not started');
      this.#ctx.emit('trigger:late', entry);
    }
    for (const id of [...this.#reported.keys()]) if (!seen.has(id)) this.#reported.delete(id);
  }

  /** For a store without `findLate`: every active trigger, page by page. */
  async #scan(now: number): Promise<Trigger[]> {
    const store = this.#ctx.o.triggerStore;
    const late: Trigger[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ status: 'active', limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
      for (const trigger of page.items) if (isLate(trigger, now)) late.push(trigger);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && late.length < LATE_LIMIT);
    return late.sort((a, b) => a.nextRunAt!.getTime() - b.nextRunAt!.getTime()).slice(0, LATE_LIMIT);
  }
}
