/**
 * The backend contract: one suite that every backend runs unchanged, ours and third parties'. A
 * backend's test file calls `runBackendContract(name, factory, runner)`; the factory returns
 * fresh, empty stores for each case.
 */
import type { BackendFactory, BackendUnderTest } from '../fixtures.js';
import type { ContractRunner } from '../runner.js';
import { runAddOnlyContract } from './add-only.js';
import { runAlertsContract } from './alerts.js';
import { runDeclaredTriggerContract } from './declared-triggers.js';
import { runInstanceLeaseContract } from './instance-leases.js';
import { runJobStoreContract } from './job-store.js';
import { runLockManagerContract } from './lock-manager.js';
import { runSchedulerContract } from './scheduler.js';
import { runStoreAlertsContract } from './store-alerts.js';
import { runTriggerStoreContract } from './trigger-store.js';

/**
 * Register the backend contract under `describe('backend contract: <name>')`: the store ports'
 * cases (`TriggerStore`, `JobStore`, `LockManager`, instance leases, alerts), then the same
 * cases through the `Scheduler` on manual clocks (slots fired once across instances, leases,
 * retries, declared triggers, processes that only add work, late-slot alerts). Each case asks
 * `factory` for a fresh backend and cleans it up afterwards, failed or not.
 *
 * The suite takes Vitest's functions from the caller (see `ContractRunner`), so it needs no global
 * mode and loading the kit loads no test framework. Cases on several instances run up to 60 s of
 * real time on a slow database.
 *
 * @param name shown in the suite's title
 * @param factory makes a fresh, empty backend for one case
 * @param runner Vitest's `describe`, `it`, `expect` and `afterEach` (`import * as vitest from 'vitest'`)
 * @example
 * // test/contract.test.ts of a PostgreSQL store
 * import * as vitest from 'vitest';
 * import { runBackendContract } from '@intellibrowse/scheduler/testing';
 * import { createPgBackend } from '../src/index.js';
 *
 * runBackendContract('postgres', async () => {
 *   const schema = await createTestSchema();
 *   const { triggerStore, jobStore, lockManager } = createPgBackend({ pool, schema });
 *   return { triggerStore, jobStore, lockManager, cleanup: () => dropSchema(schema) };
 * }, vitest);
 */
export function runBackendContract(name: string, factory: BackendFactory, runner: ContractRunner): void {
  const { describe, afterEach } = runner;
  describe(`backend contract: ${name}`, () => {
    let backend: BackendUnderTest | null = null;
    const fresh = async (): Promise<BackendUnderTest> => {
      backend = await factory();
      return backend;
    };
    afterEach(async () => {
      await backend?.cleanup();
      backend = null;
    });

    runTriggerStoreContract(fresh, runner);
    runJobStoreContract(fresh, runner);
    runStoreAlertsContract(fresh, runner);
    runLockManagerContract(fresh, runner);
    runInstanceLeaseContract(fresh, runner);
    runSchedulerContract(fresh, runner);
    runDeclaredTriggerContract(fresh, runner);
    runAddOnlyContract(fresh, runner);
    runAlertsContract(fresh, runner);
  });
}
