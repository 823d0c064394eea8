/**
 * A scheduler on the memory backend and a manual clock, with event recording.
 */
import { ManualClock } from '../../src/clock.js';
import { PermanentJobError } from '../../src/errors.js';
import type { SchedulerOptions } from '../../src/engine/options.js';
import type { SchedulerEvents } from '../../src/events.js';
import { Scheduler } from '../../src/scheduler.js';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import type { Job } from '../../src/types.js';

/** 2026-03-02T09:00:00Z, a Monday. */
export const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);

/** What `setup` returns. */
export interface TestRig {
  scheduler: Scheduler;
  clock: ManualClock;
  triggerStore: MemoryTriggerStore;
  jobStore: MemoryJobStore;
  lockManager: MemoryLockManager;
  events: Array<{ name: keyof SchedulerEvents; job?: Job; error?: Error }>;
  jobsOf(triggerId: string): Promise<Job[]>;
}

/** Build a rig; the scheduler is not started. */
export function setup(options: SchedulerOptions = {}, start: number = T0): TestRig {
  const clock = new ManualClock(start);
  const triggerStore = new MemoryTriggerStore();
  const jobStore = new MemoryJobStore();
  const lockManager = new MemoryLockManager();
  const scheduler = new Scheduler({
    triggerStore,
    jobStore,
    lockManager,
    clock,
    instanceId: 'test',
    pollIntervalMs: 1000,
    lookaheadMs: 5000,
    leaseMs: 30_000,
    ...options,
  });
  const events: TestRig['events'] = [];
  const jobEvents = [
    'job:scheduled',
    'job:started',
    'job:succeeded',
    'job:failed',
    'job:retrying',
    'job:cancelled',
    'job:skipped',
    'job:timeout',
  ] as const;
  for (const name of jobEvents) scheduler.on(name, (job: Job) => events.push({ name, job }));
  scheduler.on('error', (error) => events.push({ name: 'error', error }));
  return {
    scheduler,
    clock,
    triggerStore,
    jobStore,
    lockManager,
    events,
    jobsOf: async (triggerId) => (await scheduler.listJobs({ triggerId, limit: 1000 })).items.reverse(),
  };
}

/**
 * The handlers the metrics tests share: `ok` returns, `flaky` fails its first attempt then gives
 * up for good (`PermanentJobError`), `slow` never settles.
 */
export function registerSampleHandlers(scheduler: Scheduler): void {
  scheduler.register('ok', () => 'done');
  let calls = 0;
  scheduler.register('flaky', () => {
    calls += 1;
    if (calls === 1) throw new Error('first attempt fails');
    throw new PermanentJobError('then it gives up');
  });
  scheduler.register('slow', () => new Promise<void>(() => undefined));
}
