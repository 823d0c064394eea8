export { MemoryTriggerStore } from './trigger-store.js';
export { MemoryJobStore } from './job-store.js';
export { MemoryLockManager } from './lock-manager.js';
