import { MemoryJobStore, MemoryLockManager, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import { runBackendContract } from './index.js';

runBackendContract('memory', async () => ({
  triggerStore: new MemoryTriggerStore(),
  jobStore: new MemoryJobStore(),
  lockManager: new MemoryLockManager(),
  cleanup: async () => undefined,
}));
