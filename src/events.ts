/**
 * Typed event map of the scheduler. Listeners receive copies of records, never live state.
 */
import type { Job, Trigger } from './types.js';

/** Payload of `lease:lost`. */
export interface LeaseLostEvent {
  /** The job whose lease was lost. */
  jobId: string;
  /** The token that no longer holds. */
  token: number;
  /** Why: `expired` (renewal came too late or another instance took over) or `store-error`. */
  reason: string;
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

/** Every event and the arguments its listeners receive. */
export interface SchedulerEvents {
  'trigger:added': [trigger: Trigger];
  'trigger:updated': [trigger: Trigger];
  'trigger:removed': [trigger: Trigger];
  'trigger:paused': [trigger: Trigger];
  'trigger:resumed': [trigger: Trigger];
  'job:scheduled': [job: Job];
  'job:started': [job: Job];
  'job:succeeded': [job: Job];
  'job:failed': [job: Job];
  'job:retrying': [job: Job];
  'job:cancelled': [job: Job];
  'job:skipped': [job: Job];
  'job:timeout': [job: Job];
  'lease:lost': [event: LeaseLostEvent];
  'clock:skew': [event: ClockSkewEvent];
  'scheduler:started': [event: LifecycleEvent];
  'scheduler:stopped': [event: LifecycleEvent];
  error: [error: Error];
}

/** Name of a scheduler event. */
export type SchedulerEventName = keyof SchedulerEvents;
