/**
 * Job runners: where handler code executes. `InlineJobRunner` (same thread, the default) and
 * `WorkerPoolJobRunner` (worker threads, for module handlers). See docs/runners.md.
 */
export { InlineJobRunner } from './inline.js';
export {
  WorkerPoolJobRunner,
  type WorkerPoolJobRunnerOptions,
  type WorkerPoolResourceLimits,
  type WorkerPoolStats,
} from './worker-pool.js';
