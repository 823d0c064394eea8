/**
 * The shared backend contract (test/contract) on the MongoDB backend: each factory call gets its
 * own database, indexed as a deployment would be, and dropped by `cleanup`.
 */
import { afterAll } from 'vitest';
import { createMongoBackend } from '../../src/stores/mongo/index.js';
import { runBackendContract } from '../contract/index.js';
import { stopSharedMongo, withTestDb } from '../helpers/mongo.js';

runBackendContract('mongodb', async () => {
  const t = await withTestDb('contract');
  const backend = createMongoBackend({ db: t.db });
  await backend.ensureIndexes();
  return {
    triggerStore: backend.triggerStore,
    jobStore: backend.jobStore,
    lockManager: backend.lockManager,
    cleanup: () => t.close(),
  };
});

afterAll(async () => {
  await stopSharedMongo();
});
