/**
 * What the contract suite runs on and with: the backend a store author hands in, and valid trigger
 * and job records to store (exported, so a store's own tests can build records the same way).
 */
import type { Job, JobStore, LockManager, Trigger, TriggerStore } from '@intellibrowse/scheduler';

/**
 * Fresh, empty stores of one backend, plus the cleanup that gives back what they hold (a
 * database, a connection). The suite calls `cleanup` after every case, failed cases included.
 *
 * @example
 * const backend: BackendUnderTest = {
 *   triggerStore: new PgTriggerStore(pool, schema),
 *   jobStore: new PgJobStore(pool, schema),
 *   lockManager: new PgLockManager(pool, schema),
 *   cleanup: () => pool.query(`DROP SCHEMA ${schema} CASCADE`).then(() => undefined),
 * };
 */
export interface BackendUnderTest {
  /** The trigger store under test, empty. */
  triggerStore: TriggerStore;
  /** The job store under test, empty. */
  jobStore: JobStore;
  /** The lock manager under test, holding no lock. */
  lockManager: LockManager;
  /** Give back what the stores hold; called once after each case. */
  cleanup(): Promise<void>;
}

/**
 * Makes a fresh backend for one case. Cases of a file run one after another, each on its own
 * backend; some cases put several schedulers (instances) on the one backend they get.
 *
 * @example
 * const factory: BackendFactory = async () => ({ ...createMyStores(await freshSchema()), cleanup: dropSchema });
 */
export type BackendFactory = () => Promise<BackendUnderTest>;

/** The instant the records below are dated from: 2026-03-01T10:00:00Z. */
export const FIXTURE_T0 = new Date('2026-03-01T10:00:00.000Z');

/** `FIXTURE_T0` plus `offsetMs`. */
export function fixtureAt(offsetMs: number): Date {
  return new Date(FIXTURE_T0.getTime() + offsetMs);
}

/**
 * A valid trigger record, as the scheduler writes one (id `t1`, handler `h`, every second from
 * `FIXTURE_T0`, due then), with `overrides` applied on top.
 *
 * @example
 * await triggerStore.insert(makeTrigger({ id: 'paused', status: 'paused' }));
 */
export function makeTrigger(overrides: Partial<Trigger> = {}): Trigger {
  return {
    id: 't1',
    name: 't1',
    handler: 'h',
    schedule: { kind: 'every', every: 1000, startAt: FIXTURE_T0, endAt: null },
    payload: { n: 1 },
    status: 'active',
    nextRunAt: fixtureAt(0),
    lastRunAt: null,
    createdAt: FIXTURE_T0,
    updatedAt: FIXTURE_T0,
    retry: null,
    timeoutMs: null,
    maxStalls: null,
    misfire: 'run-once',
    overlap: 'allow',
    maxConcurrent: null,
    window: null,
    jitterMs: 0,
    priority: 0,
    startAt: null,
    endAt: null,
    tags: [],
    alertAfterMs: null,
    version: 1,
    ...overrides,
  };
}

/**
 * A valid pending job record of trigger `t1` (id `j1`, key `slot:t1:<id>`, due at `FIXTURE_T0`),
 * with `overrides` applied on top.
 *
 * @example
 * await jobStore.insert(makeJob({ id: 'j2', key: 'k2', status: 'running', fence: 1 }));
 */
export function makeJob(overrides: Partial<Job> = {}): Job {
  const id = overrides.id ?? 'j1';
  return {
    id,
    key: `slot:t1:${id}`,
    triggerId: 't1',
    handler: 'h',
    payload: { n: 1 },
    source: 'schedule',
    scheduledFor: fixtureAt(0),
    runAt: fixtureAt(0),
    status: 'pending',
    priority: 0,
    attempts: 0,
    maxAttempts: 1,
    stalls: 0,
    maxStalls: 1,
    timeoutMs: null,
    backoff: null,
    permitLimit: null,
    nextAttemptAt: null,
    result: null,
    error: null,
    metrics: { queuedMs: null, durationMs: null, cpuUserMs: null, cpuSystemMs: null, heapUsedBytes: null, threadWaitMs: null },
    history: [{ status: 'pending', at: fixtureAt(0), instanceId: 'i1', reason: 'test' }],
    instanceId: null,
    lease: null,
    fence: 0,
    event: null,
    upstream: null,
    gate: null,
    traceparent: null,
    cancelRequested: false,
    dependentsFired: false,
    createdAt: fixtureAt(0),
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}
