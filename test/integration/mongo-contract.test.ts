/**
 * The published backend contract (`@intellibrowse/scheduler/testing`) on the MongoDB backend: each
 * factory call gets its own database, indexed as a deployment would be, and dropped by `cleanup`.
 */
import * as vitest from 'vitest';
import { createMongoBackend } from '../../src/stores/mongo/index.js';
import { runBackendContract } from '@intellibrowse/scheduler/testing';
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
}, vitest);

vitest.afterAll(async () => {
  await stopSharedMongo();
});
