/**
 * Type tests of the ports a backend or runner implements, the shipped backends and runners, the
 * error classes and the HTTP front ends (see scheduler.test-d.ts for how these run).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db, MongoClient } from 'mongodb';
import { describe, expectTypeOf, it } from 'vitest';
import {
  HandlerNotFoundError,
  IllegalTransitionError,
  InlineJobRunner,
  InvalidTriggerConfigError,
  JobNotFoundError,
  JobTimeoutError,
  MemoryJobStore,
  MemoryLockManager,
  MemoryTriggerStore,
  PermanentJobError,
  Scheduler,
  SchedulerError,
  SchedulerStoppedError,
  StoreError,
  TriggerNotFoundError,
  WorkerPoolJobRunner,
  type InstanceLeases,
  type Job,
  type JobRunner,
  type JobStore,
  type Lease,
  type LockManager,
  type Page,
  type RunOutcome,
  type RunRequest,
  type SchedulerErrorCode,
  type Trigger,
  type TriggerStore,
} from '../../src/index.js';
import { createMongoBackend, MongoJobStore, MongoLockManager, MongoTriggerStore, type MongoBackend } from '../../src/stores/mongo/index.js';
import { createDashboard, type DashboardOptions } from '../../src/dashboard/index.js';
import { createManagementApi, type ManagementApi } from '../../src/management/index.js';
import { createWebhookHandler, type WebhookHandler, type WebhookOptions } from '../../src/webhook/index.js';

describe('store ports', () => {
  it('types the trigger store', () => {
    expectTypeOf<TriggerStore['get']>().toEqualTypeOf<(id: string) => Promise<Trigger | null>>();
    expectTypeOf<TriggerStore['insert']>().toEqualTypeOf<(trigger: Trigger) => Promise<void>>();
    expectTypeOf<TriggerStore['replace']>().toEqualTypeOf<(trigger: Trigger, expectedVersion: number) => Promise<boolean>>();
    expectTypeOf<TriggerStore['list']>().returns.toEqualTypeOf<Promise<Page<Trigger>>>();
    expectTypeOf<TriggerStore['findByEvent']>().toEqualTypeOf<(event: string) => Promise<Trigger[]>>();
    // Optional: a store without it gets the engine's fallback.
    expectTypeOf<TriggerStore['claimSlots']>().toExtend<((...args: never[]) => Promise<boolean[]>) | undefined>();
  });

  it('types the job store', () => {
    expectTypeOf<JobStore['insert']>().toEqualTypeOf<(job: Job) => Promise<Job | null>>();
    expectTypeOf<JobStore['getByKey']>().toEqualTypeOf<(key: string) => Promise<Job | null>>();
    expectTypeOf<JobStore['renewLease']>().toEqualTypeOf<(id: string, token: number, expiresAt: Date) => Promise<Job | null>>();
    expectTypeOf<JobStore['purge']>().toEqualTypeOf<(finishedBefore: Date) => Promise<number>>();
    expectTypeOf<JobStore['insertMany']>().toEqualTypeOf<((jobs: Job[]) => Promise<Array<Job | null>>) | undefined>();
  });

  it('types the lock manager and instance leases', () => {
    expectTypeOf<LockManager['acquire']>().toEqualTypeOf<(key: string, owner: string, ttlMs: number, now: Date) => Promise<Lease | null>>();
    expectTypeOf<LockManager['release']>().toEqualTypeOf<(lease: Lease) => Promise<boolean>>();
    expectTypeOf<InstanceLeases['renewInstance']>().returns.toEqualTypeOf<Promise<{ cancels: string[] } | null>>();
  });

  it('has both backends implement every port', () => {
    expectTypeOf<MemoryTriggerStore>().toExtend<TriggerStore>();
    expectTypeOf<MemoryJobStore>().toExtend<JobStore>();
    expectTypeOf<MemoryLockManager>().toExtend<LockManager & InstanceLeases>();
    expectTypeOf<MongoTriggerStore>().toExtend<TriggerStore>();
    expectTypeOf<MongoJobStore>().toExtend<JobStore>();
    expectTypeOf<MongoLockManager>().toExtend<LockManager & InstanceLeases>();
  });

  it('builds the MongoDB backend from a Db or a client and a name, and spreads into the options', () => {
    expectTypeOf(createMongoBackend).returns.toEqualTypeOf<MongoBackend>();
    expectTypeOf(createMongoBackend).toBeCallableWith({ db: {} as Db, collectionPrefix: 'x_' });
    expectTypeOf(createMongoBackend).toBeCallableWith({ client: {} as MongoClient, dbName: 'app' });
    const backend = createMongoBackend({ db: {} as Db });
    expectTypeOf(new Scheduler({ ...backend })).toEqualTypeOf<Scheduler>();
    // @ts-expect-error: a client needs its database name
    createMongoBackend({ client: {} as MongoClient });
    // @ts-expect-error: no such mode
    createMongoBackend({ db: {} as Db, claimMarkers: 'sometimes' });
  });
});

describe('job runners', () => {
  it('types the runner port', () => {
    expectTypeOf<JobRunner['run']>().toEqualTypeOf<(request: RunRequest) => Promise<RunOutcome>>();
    expectTypeOf<JobRunner['close']>().toEqualTypeOf<(options?: { timeoutMs?: number }) => Promise<void>>();
    expectTypeOf<Extract<RunOutcome, { ok: false }>>().toEqualTypeOf<{ ok: false; error: unknown; metrics: RunOutcome['metrics'] }>();
  });

  it('has the shipped runners implement it', () => {
    expectTypeOf<InlineJobRunner>().toExtend<JobRunner>();
    expectTypeOf<WorkerPoolJobRunner>().toExtend<JobRunner>();
    expectTypeOf(WorkerPoolJobRunner).toBeConstructibleWith({ maxThreads: 2, resourceLimits: { maxOldGenerationSizeMb: 128 } });
    // @ts-expect-error: no such option
    new WorkerPoolJobRunner({ threads: 2 });
  });
});

describe('errors', () => {
  it('gives every error a stable code', () => {
    expectTypeOf<SchedulerError['code']>().toEqualTypeOf<SchedulerErrorCode>();
    for (const error of [
      new InvalidTriggerConfigError('f', 'r'),
      new HandlerNotFoundError('h'),
      new TriggerNotFoundError('t'),
      new JobNotFoundError('j'),
      new JobTimeoutError(1),
      new IllegalTransitionError('a', 'b'),
      new StoreError('s'),
      new PermanentJobError('p'),
      new SchedulerStoppedError(),
    ]) {
      expectTypeOf(error).toExtend<SchedulerError>();
      expectTypeOf(error.code).toEqualTypeOf<SchedulerErrorCode>();
    }
    expectTypeOf<
      | 'ERR_INVALID_TRIGGER_CONFIG'
      | 'ERR_HANDLER_NOT_FOUND'
      | 'ERR_TRIGGER_NOT_FOUND'
      | 'ERR_JOB_NOT_FOUND'
      | 'ERR_JOB_TIMEOUT'
      | 'ERR_ILLEGAL_TRANSITION'
      | 'ERR_STORE'
      | 'ERR_PERMANENT_JOB'
      | 'ERR_SCHEDULER_STOPPED'
    >().toExtend<SchedulerErrorCode>();
    expectTypeOf<'ERR_SOMETHING'>().not.toExtend<SchedulerErrorCode>();
  });

  it('names the field of bad input', () => {
    expectTypeOf<InvalidTriggerConfigError['field']>().toEqualTypeOf<string>();
    expectTypeOf<HandlerNotFoundError>().toHaveProperty('handler').toEqualTypeOf<string>();
    expectTypeOf<HandlerNotFoundError>().toHaveProperty('field').toEqualTypeOf<string>();
    const error: unknown = null;
    if (error instanceof SchedulerError) expectTypeOf(error.code).toEqualTypeOf<SchedulerErrorCode>();
  });
});

declare const scheduler: Scheduler;

describe('HTTP front ends', () => {
  it('makes node:http listeners', () => {
    expectTypeOf<WebhookHandler>().toEqualTypeOf<(req: IncomingMessage, res: ServerResponse) => void>();
    expectTypeOf(createWebhookHandler(scheduler, { auth: { none: true } })).toEqualTypeOf<WebhookHandler>();
    expectTypeOf(createManagementApi(scheduler, { auth: { hmac: { secret: 'x'.repeat(32) } } })).toEqualTypeOf<ManagementApi>();
    expectTypeOf<ManagementApi>().toExtend<(req: IncomingMessage, res: ServerResponse) => void>();
    expectTypeOf(createDashboard(scheduler, { auth: { none: true }, title: 'Jobs' })).toEqualTypeOf<(req: IncomingMessage, res: ServerResponse) => void>();
  });

  it('takes exactly one kind of auth', () => {
    expectTypeOf<{ auth: { jwt: { secret: string; algorithms: ['HS256'] } } }>().toExtend<WebhookOptions>();
    expectTypeOf<{ auth: { none: true } }>().toExtend<WebhookOptions>();
    expectTypeOf<{ auth: { none: false } }>().not.toExtend<WebhookOptions>();
    expectTypeOf<{ auth: { hmac: { secret: string }; none: true } }>().not.toExtend<WebhookOptions>();
    // The dashboard's page cannot sign requests: no HMAC.
    expectTypeOf<{ auth: { hmac: { secret: string } } }>().not.toExtend<DashboardOptions>();
    // @ts-expect-error: a JWT needs its algorithms
    createWebhookHandler(scheduler, { auth: { jwt: { secret: 's' } } });
    // @ts-expect-error: `none` is an explicit choice, not a default
    createWebhookHandler(scheduler, {});
  });
});
