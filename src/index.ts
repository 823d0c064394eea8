/**
 * @intellibrowse/scheduler — an embeddable job scheduler for Node services.
 *
 * Create a `Scheduler`, `register` handlers, `addTrigger`s and `start()`. The in-memory backend is
 * the default; `createMongoBackend` shares the work between instances on one MongoDB.
 */
export { Scheduler } from './scheduler.js';
export type { HandlerOptions, HealthReport, SchedulerStats, StopOptions, TriggerStats, ClusterSnapshot, MetricsText } from './scheduler.js';
export type { SchedulerOptions, TelemetryOptions } from './engine/options.js';
export type { LateTrigger } from './engine/alerts.js';
export type { RenewalSummary } from './engine/renewal-times.js';
export type { UnhandledWork } from './engine/unhandled.js';
export type { OverloadReport } from './engine/store-pressure.js';
export { MAX_PAYLOAD_BYTES } from './engine/json.js';
export { nextFireTimes, MIN_EVERY_MS } from './schedule/index.js';
export { retryOfKey } from './util/retry-key.js';
export { SystemClock, ManualClock, MAX_TIMER_DELAY_MS } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { silentLogger, consoleLogger } from './logger.js';
export type { Logger, LogFields } from './logger.js';
export type { LoggerLike, LogMethodLike } from './logger-adapter.js';
export * from './errors.js';
export type * from './events.js';
export type * from './types.js';
export type {
  TriggerStore,
  JobStore,
  LockManager,
  Lease,
  InstanceLease,
  InstanceLeases,
  ExpiredLeaseFilter,
  JobRunner,
  JobContext,
  HandlerFunction,
  ModuleHandler,
  RunRequest,
  RunOutcome,
  RunMetrics,
  SlotClaim,
  SlotClaimUpdate,
  JobPatch,
  JobCondition,
  JobWrite,
  ClaimPendingOptions,
  JobStatsSummary,
  HandlerCount,
} from './ports.js';
export { MemoryTriggerStore, MemoryJobStore, MemoryLockManager } from './stores/memory/index.js';
export * from './stores/mongo/index.js';
export * from './runners/index.js';
export * from './webhook/index.js';
export * from './management/index.js';
export * from './dashboard/index.js';
