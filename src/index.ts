/**
 * @intellibrowse/scheduler — an embeddable job scheduler for Node services.
 *
 * Create a `Scheduler`, `register` handlers, `addTrigger`s and `start()`. This root entry is the
 * core: the scheduler, its ports and records, errors, clocks, loggers, runners and the in-memory
 * backend (the default). The MongoDB backend is `@intellibrowse/scheduler/mongo`; the webhook,
 * management API and dashboard are `@intellibrowse/scheduler/http`.
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
// The vocabularies as values (frozen), for a caller's own validation, CLI choices or UI.
export { JOB_STATUSES, FINAL_JOB_STATUSES, TRIGGER_STATUSES, isFinalJobStatus } from './types.js';
export { LEASE_LOST_REASONS } from './events.js';
// For a store of one's own that filters `findDue` on its caller's ownership buckets.
export { OWNERSHIP_BUCKETS, triggerBucket } from './util/ownership-bucket.js';
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
export * from './runners/index.js';
/**
 * The MongoDB backend's main names, still here because 0.1 code imports them from the root; their
 * home is `@intellibrowse/scheduler/mongo`, which also has the rest of the backend. Same classes
 * either way (one shared copy at runtime).
 */
export { createMongoBackend, MongoTriggerStore, MongoJobStore, MongoLockManager } from './stores/mongo/index.js';
export type { MongoBackend, MongoBackendOptions } from './stores/mongo/index.js';
