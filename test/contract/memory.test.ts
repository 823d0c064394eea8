/**
 * The backend contract on the memory backend, through the published kit as a third-party store
 * runs it: `@intellibrowse/scheduler/testing` (resolved to `src/testing/` by vitest.config.ts).
 */
import * as vitest from 'vitest';
import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '@intellibrowse/scheduler';
import { runBackendContract } from '@intellibrowse/scheduler/testing';

runBackendContract(
  'memory',
  async () => ({
    triggerStore: new MemoryTriggerStore(),
    jobStore: new MemoryJobStore(),
    lockManager: new MemoryLockManager(),
    cleanup: async () => undefined,
  }),
  vitest,
);
