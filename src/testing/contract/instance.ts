/**
 * One scheduler instance on a backend under test, as every scheduler-level contract file makes
 * them: the manual clock, quick polls, and store errors printed under a label so a slow or
 * failing run can be read.
 */
import { Scheduler } from '@intellibrowse/scheduler';
import type { ManualClock, SchedulerOptions } from '@intellibrowse/scheduler';
import type { BackendUnderTest } from '../fixtures.js';

/** A scheduler named `instanceId` on `backend`, its errors printed as `[label instanceId]`. */
export function contractInstance(backend: BackendUnderTest, clock: ManualClock, instanceId: string, label: string, extra: SchedulerOptions = {}): Scheduler {
  const scheduler = new Scheduler({
    triggerStore: backend.triggerStore,
    jobStore: backend.jobStore,
    lockManager: backend.lockManager,
    clock,
    instanceId,
    pollIntervalMs: 200,
    lookaheadMs: 1000,
    // Long enough that slow store I/O (a loaded CI machine) never outlives a lease while the tests
    // move the manual clock on; a test that needs a short lease passes it in `extra`.
    leaseMs: 30_000,
    ...extra,
  });
  // Store errors are retried by the engine; print them so a slow or failing run can be read.
  scheduler.on('error', (error) => console.error(`[${label} ${instanceId}] ${error.message}`));
  return scheduler;
}
