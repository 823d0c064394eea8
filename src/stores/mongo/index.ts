/**
 * MongoDB backend of the scheduler (also works against FerretDB v1, with the differences listed in
 * docs/mongodb.md). `mongodb` is a peer dependency: install it next to the scheduler.
 */
export { createMongoBackend } from './backend.js';
export { measureClockOffset } from './clock.js';
export type { MongoBackend, MongoBackendOptions, MongoBackendTarget } from './backend.js';
export { MongoTriggerStore } from './trigger-store.js';
export type { MongoTriggerStoreOptions } from './trigger-store.js';
export { MongoJobStore } from './job-store.js';
export type { MongoJobStoreOptions } from './job-store.js';
export { MongoLockManager } from './lock-manager.js';
export type { MongoLockManagerOptions } from './lock-manager.js';
export { MongoInstanceLeases } from './instance-leases.js';
export type { IndexReport } from './indexes.js';
export type { ClaimMarkerMode } from './claims.js';
export type { BulkUpdateMode } from './batches.js';
export type { IdPushdownMode } from './id-pushdown.js';
export { DEFAULT_COLLECTION_PREFIX } from './documents.js';
export type { ClaimMarkerDocument, CounterDocument, InstanceDocument, JobDocument, LockDocument, StoredJobLease, TriggerDocument } from './documents.js';
