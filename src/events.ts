/**
 * Typed event map of the scheduler. Listeners receive copies of records, never live state.
 */
import type { Job, Trigger } from './types.js';

/**
 * Every reason of a `lease:lost` event:
 * - `expired`: a renewal found the lease gone: another instance took this instance (or the job)
 *   for dead and fenced it, and recovers the job;
 * - `fenced`: the attempt's end write was refused by its fencing token: the job was taken over
 *   before its end was written (the result is dropped, the new holder's run counts);
 * - `renewal-overdue`: no renewal came back before the lease ran out, so this instance let the job
 *   go itself (the attempt is aborted and handed back) before another could take it.
 */
export const LEASE_LOST_REASONS = Object.freeze(['expired', 'fenced', 'renewal-overdue'] as const);

/** Why a lease was lost (one of `LEASE_LOST_REASONS`). */
export type LeaseLostReason = (typeof LEASE_LOST_REASONS)[number];

/** Payload of `lease:lost`. */
export interface LeaseLostEvent {
  /** The job whose lease was lost. */
  jobId: string;
  /** The token that no longer holds. */
  token: number;
  /** Why (see `LEASE_LOST_REASONS`). */
  reason: LeaseLostReason;
}

/** Payload of `lease:renewal-slow`. */
export interface LeaseRenewalSlowEvent {
  /** How long the slow renewal took to be answered, in ms. */
  roundTripMs: number;
  /** The lease length it is measured against. */
  leaseMs: number;
  /** Jobs whose leases that round of renewals covered. */
  jobs: number;
}

/** Payload of `overload:started`. */
export interface OverloadStartedEvent {
  /** Why, in words. */
  reason: string;
  /** Attempts the instance holds at most now. */
  limit: number;
  /** Its `concurrency`, the limit while the store keeps up. */
  concurrency: number;
  /** The slow round trip that started it, in ms. */
  roundTripMs: number;
  /** The round trip the store is measured against (a tenth of `leaseMs`, at least 100 ms). */
  targetMs: number;
}

/** Payload of `overload:ended`. */
export interface OverloadEndedEvent {
  /** When the overload started. */
  since: Date;
  /** How long it lasted, in ms. */
  durationMs: number;
}

/** Payload of `scheduler:started` and `scheduler:stopped`. */
export interface LifecycleEvent {
  /** This instance. */
  instanceId: string;
  /** When. */
  at: Date;
}

/** Payload of `clock:skew`. */
export interface ClockSkewEvent {
  /** Measured offset of the store's clock minus this instance's clock, in ms. */
  offsetMs: number;
  /** The tolerance it exceeded. */
  toleranceMs: number;
}

/** Payload of `trigger:late`: a trigger whose next slot has not started `alertAfterMs` after its time. */
export interface TriggerLateEvent {
  /** The trigger. */
  triggerId: string;
  /** Its handler. */
  handler: string;
  /** The slot that has not started. */
  slot: Date;
  /** How long past the slot it was when seen, in ms. */
  lateByMs: number;
  /** The trigger's threshold. */
  alertAfterMs: number;
}

/** Payload of `slot:missed`: slots a trigger's misfire policy skipped. */
export interface SlotMissedEvent {
  /** The trigger. */
  triggerId: string;
  /** Its handler. */
  handler: string;
  /** The first slot skipped. */
  slot: Date;
  /** How many slots were skipped (at least 1). */
  count: number;
  /** Why: `misfire` (later than `misfireGraceMs`, with `misfire: 'skip'`). */
  reason: 'misfire';
}

/** Every event and the arguments its listeners receive. */
export interface SchedulerEvents {
  'trigger:added': [trigger: Trigger];
  'trigger:updated': [trigger: Trigger];
  'trigger:removed': [trigger: Trigger];
  'trigger:paused': [trigger: Trigger];
  'trigger:resumed': [trigger: Trigger];
  /**
   * A trigger's next slot has not started `alertAfterMs` after its time (its instance died, no live
   * instance has its handler, or the cluster is too busy). Raised once per late slot, by the one
   * instance doing the maintenance pass.
   */
  'trigger:late': [event: TriggerLateEvent];
  /** Slots skipped by the misfire policy (no job is written for them); overlap and window skips are `job:skipped`. */
  'slot:missed': [event: SlotMissedEvent];
  'job:scheduled': [job: Job];
  'job:started': [job: Job];
  'job:succeeded': [job: Job];
  'job:failed': [job: Job];
  'job:retrying': [job: Job];
  'job:cancelled': [job: Job];
  'job:skipped': [job: Job];
  'job:timeout': [job: Job];
  /**
   * A job's instance died while running it (its lease ran out): the job is `pending` to run again,
   * or `failed` with `ERR_STALLED` once past its `maxStalls` (then `job:failed` follows).
   */
  'job:stalled': [job: Job];
  'lease:lost': [event: LeaseLostEvent];
  /** A lease renewal took more than half of `leaseMs` to be answered: the store is too slow for the lease. */
  'lease:renewal-slow': [event: LeaseRenewalSlowEvent];
  'clock:skew': [event: ClockSkewEvent];
  /**
   * The store answers too slowly for the work this instance holds: it takes less new work (an
   * adaptive limit below `concurrency`) until round trips are quick again. Running jobs go on.
   */
  'overload:started': [event: OverloadStartedEvent];
  /** Round trips are quick again: the instance takes work up to `concurrency` again. */
  'overload:ended': [event: OverloadEndedEvent];
  'scheduler:started': [event: LifecycleEvent];
  'scheduler:stopped': [event: LifecycleEvent];
  error: [error: Error];
}

/** Name of a scheduler event. */
export type SchedulerEventName = keyof SchedulerEvents;
