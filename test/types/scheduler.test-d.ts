/**
 * Type tests of the core API: what a user's code compiles against. Checked by `tsc` (`npm run
 * typecheck`, which CI runs before the suite; tsconfig.json includes `test/`), and by
 * `npm run test:types` (vitest's typecheck mode, which reports each assertion). A changed
 * signature, event payload or union fails here before it reaches a user; `@ts-expect-error`
 * lines pin what must NOT compile (an unused one is itself an error).
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  Scheduler,
  nextFireTimes,
  type AfterSchedule,
  type AtSchedule,
  type ClockSkewEvent,
  type CronSchedule,
  type EventSchedule,
  type EverySchedule,
  type HandlerFunction,
  type HealthReport,
  type Job,
  type JobContext,
  type JobStatus,
  type JsonValue,
  type LeaseLostEvent,
  type LifecycleEvent,
  type Logger,
  type ManualSchedule,
  type MetricsText,
  type ModuleHandler,
  type Page,
  type Schedule,
  type SchedulerEventName,
  type SchedulerEvents,
  type SchedulerOptions,
  type SchedulerStats,
  type SlotMissedEvent,
  type StopOptions,
  type Trigger,
  type TriggerInput,
  type TriggerLateEvent,
  type TriggerPatch,
  type TriggerStatus,
} from '../../src/index.js';

declare const scheduler: Scheduler;

describe('Scheduler', () => {
  it('takes only optional options', () => {
    expectTypeOf(Scheduler).constructorParameters.toEqualTypeOf<[options?: SchedulerOptions]>();
    expectTypeOf<SchedulerOptions['concurrency']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<SchedulerOptions['ownership']>().toEqualTypeOf<'rendezvous' | 'race' | undefined>();
    expectTypeOf<SchedulerOptions['remoteHandlers']>().toEqualTypeOf<readonly string[] | 'any' | undefined>();
    // @ts-expect-error: an unknown option is a type error (and refused at run time)
    new Scheduler({ concurency: 4 });
    // @ts-expect-error: durations are numbers of ms
    new Scheduler({ pollIntervalMs: '1s' });
  });

  it('has the lifecycle methods', () => {
    expectTypeOf<Scheduler['start']>().toEqualTypeOf<() => Promise<void>>();
    expectTypeOf<Scheduler['stop']>().parameters.toEqualTypeOf<[options?: StopOptions]>();
    expectTypeOf<Scheduler['stop']>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<StopOptions>().toEqualTypeOf<{ graceful?: boolean; timeoutMs?: number }>();
    expectTypeOf<Scheduler['instanceId']>().toEqualTypeOf<string>();
    expectTypeOf<Scheduler['state']>().toEqualTypeOf<'idle' | 'starting' | 'running' | 'stopping' | 'stopped'>();
  });

  it('registers handlers by name, chainable, with a typed payload', () => {
    expectTypeOf(scheduler.register('a', () => undefined)).toEqualTypeOf<Scheduler>();
    scheduler.register<{ to: string }>('mail', (ctx) => {
      expectTypeOf(ctx.payload).toEqualTypeOf<{ to: string }>();
      return { sent: ctx.payload.to };
    });
    scheduler.register('report', { module: new URL('file:///jobs/report.js'), exportName: 'run' });
    scheduler.register('limited', async () => undefined, { concurrency: 2, timeoutMs: 1000, retryOn: (error, attempt) => attempt < 3 && error instanceof Error });
    // @ts-expect-error: a handler returns JSON, not a function
    scheduler.register('bad', () => () => 1);
    // @ts-expect-error: a module handler needs its module
    scheduler.register('bad', { exportName: 'run' });
  });

  it('adds, changes and reads triggers', () => {
    expectTypeOf<Scheduler['addTrigger']>().parameters.toEqualTypeOf<[input: TriggerInput]>();
    expectTypeOf<Scheduler['addTrigger']>().returns.toEqualTypeOf<Promise<Trigger>>();
    expectTypeOf<Scheduler['upsertTrigger']>().returns.toEqualTypeOf<Promise<Trigger>>();
    expectTypeOf<Scheduler['updateTrigger']>().parameters.toEqualTypeOf<[id: string, patch: TriggerPatch]>();
    expectTypeOf<Scheduler['removeTrigger']>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<Scheduler['pauseTrigger']>().returns.toEqualTypeOf<Promise<Trigger>>();
    expectTypeOf<Scheduler['resumeTrigger']>().returns.toEqualTypeOf<Promise<Trigger>>();
    expectTypeOf<Scheduler['getTrigger']>().returns.toEqualTypeOf<Promise<Trigger | null>>();
    expectTypeOf<Scheduler['listTriggers']>().returns.toEqualTypeOf<Promise<Page<Trigger>>>();
    expectTypeOf<Page<Trigger>>().toEqualTypeOf<{ items: Trigger[]; nextCursor: string | null }>();
    // @ts-expect-error: a trigger needs a handler
    void scheduler.addTrigger({ schedule: { cron: '* * * * *' } });
    // @ts-expect-error: the id cannot be patched
    void scheduler.updateTrigger('t', { id: 'other' });
    // @ts-expect-error: no such status
    void scheduler.listTriggers({ status: 'running' });
  });

  it('runs, publishes and reads jobs', () => {
    expectTypeOf<Scheduler['runTrigger']>().parameters.toEqualTypeOf<[id: string, options?: { payload?: JsonValue; runId?: string }]>();
    expectTypeOf<Scheduler['runTrigger']>().returns.toEqualTypeOf<Promise<Job>>();
    expectTypeOf<Scheduler['publish']>().parameters.toEqualTypeOf<[event: string, payload?: JsonValue, options?: { eventId?: string }]>();
    expectTypeOf<Scheduler['publish']>().returns.toEqualTypeOf<Promise<Job[]>>();
    expectTypeOf<Scheduler['getJob']>().returns.toEqualTypeOf<Promise<Job | null>>();
    expectTypeOf<Scheduler['listJobs']>().returns.toEqualTypeOf<Promise<Page<Job>>>();
    expectTypeOf<Scheduler['cancelJob']>().returns.toEqualTypeOf<Promise<Job>>();
    expectTypeOf<Scheduler['retryJob']>().returns.toEqualTypeOf<Promise<Job>>();
    void scheduler.listJobs({ status: ['failed', 'cancelled'], from: new Date(), to: '2026-01-01', omit: ['payload'] });
    // @ts-expect-error: a payload is JSON
    void scheduler.publish('e', { at: () => 1 });
    // @ts-expect-error: no such job status
    void scheduler.listJobs({ status: 'done' });
  });

  it('reports health, stats and metrics', () => {
    expectTypeOf<Scheduler['health']>().returns.toEqualTypeOf<Promise<HealthReport>>();
    expectTypeOf<HealthReport['status']>().toEqualTypeOf<'ok' | 'degraded' | 'starting' | 'stopping' | 'stopped' | 'idle'>();
    expectTypeOf<Scheduler['stats']>().parameters.toEqualTypeOf<[filter?: { triggerId?: string }]>();
    expectTypeOf<Scheduler['stats']>().returns.toEqualTypeOf<Promise<SchedulerStats>>();
    expectTypeOf<Scheduler['metrics']>().returns.toEqualTypeOf<Promise<MetricsText>>();
  });

  it('previews fire times', () => {
    expectTypeOf(nextFireTimes).returns.toEqualTypeOf<Date[]>();
    expectTypeOf(nextFireTimes).toBeCallableWith({ cron: '0 9 * * *', timezone: 'Europe/Berlin' }, { count: 3 });
  });
});

describe('events', () => {
  it('types each payload', () => {
    expectTypeOf<SchedulerEvents['job:succeeded']>().toEqualTypeOf<[job: Job]>();
    expectTypeOf<SchedulerEvents['trigger:added']>().toEqualTypeOf<[trigger: Trigger]>();
    expectTypeOf<SchedulerEvents['trigger:late']>().toEqualTypeOf<[event: TriggerLateEvent]>();
    expectTypeOf<SchedulerEvents['slot:missed']>().toEqualTypeOf<[event: SlotMissedEvent]>();
    expectTypeOf<SchedulerEvents['lease:lost']>().toEqualTypeOf<[event: LeaseLostEvent]>();
    expectTypeOf<SchedulerEvents['clock:skew']>().toEqualTypeOf<[event: ClockSkewEvent]>();
    expectTypeOf<SchedulerEvents['scheduler:started']>().toEqualTypeOf<[event: LifecycleEvent]>();
    expectTypeOf<SchedulerEvents['error']>().toEqualTypeOf<[error: Error]>();
    expectTypeOf<LeaseLostEvent>().toHaveProperty('jobId').toEqualTypeOf<string>();
    expectTypeOf<LeaseLostEvent>().toHaveProperty('token').toEqualTypeOf<number>();
    expectTypeOf<LeaseLostEvent['reason']>().toEqualTypeOf<'expired' | 'fenced' | 'renewal-overdue'>();
    expectTypeOf<TriggerLateEvent>().toMatchObjectType<{ triggerId: string; handler: string; slot: Date; lateByMs: number; alertAfterMs: number }>();
    expectTypeOf<SlotMissedEvent['reason']>().toEqualTypeOf<'misfire'>();
  });

  it('has every event of the contract', () => {
    expectTypeOf<
      | 'trigger:added'
      | 'trigger:updated'
      | 'trigger:removed'
      | 'trigger:paused'
      | 'trigger:resumed'
      | 'job:scheduled'
      | 'job:started'
      | 'job:succeeded'
      | 'job:failed'
      | 'job:retrying'
      | 'job:cancelled'
      | 'job:skipped'
      | 'job:timeout'
      | 'lease:lost'
      | 'scheduler:started'
      | 'scheduler:stopped'
      | 'error'
    >().toExtend<SchedulerEventName>();
  });

  it('types the listener from the event name', () => {
    scheduler.on('job:failed', (job) => {
      expectTypeOf(job).toEqualTypeOf<Job>();
    });
    scheduler.on('overload:started', (event) => {
      expectTypeOf(event.limit).toEqualTypeOf<number>();
    });
    // @ts-expect-error: no such event
    scheduler.on('job:done', () => undefined);
    // @ts-expect-error: a job event's listener gets a job, not a trigger
    scheduler.on('job:started', (job: Trigger) => job);
  });
});

describe('trigger input', () => {
  it('accepts each kind of schedule, and only one', () => {
    expectTypeOf<Schedule>().toEqualTypeOf<CronSchedule | EverySchedule | AtSchedule | ManualSchedule | EventSchedule | AfterSchedule>();
    expectTypeOf<{ cron: '0 9 * * MON-FRI'; timezone: 'Europe/Berlin' }>().toExtend<Schedule>();
    expectTypeOf<{ every: '30s' }>().toExtend<Schedule>();
    expectTypeOf<{ every: 30_000; startAt: Date; endAt: string }>().toExtend<Schedule>();
    expectTypeOf<{ at: Date }>().toExtend<Schedule>();
    expectTypeOf<{ manual: true }>().toExtend<Schedule>();
    expectTypeOf<{ event: 'testrun.finished'; filter: { suite: 'smoke' } }>().toExtend<Schedule>();
    expectTypeOf<{ after: 'upstream'; on: 'completion' }>().toExtend<Schedule>();
    expectTypeOf<AfterSchedule['on']>().toEqualTypeOf<'success' | 'failure' | 'completion' | undefined>();
    expectTypeOf<{ manual: false }>().not.toExtend<Schedule>();
    expectTypeOf<{ after: 'x'; on: 'done' }>().not.toExtend<Schedule>();
    expectTypeOf<{ event: 'e'; filter: { nested: { a: 1 } } }>().not.toExtend<Schedule>();
  });

  it('types the policies', () => {
    expectTypeOf<TriggerInput['misfire']>().toEqualTypeOf<'run-once' | 'skip' | 'run-all' | undefined>();
    expectTypeOf<TriggerInput['overlap']>().toEqualTypeOf<'allow' | 'skip' | 'queue' | undefined>();
    expectTypeOf<NonNullable<TriggerInput['retry']>>().toEqualTypeOf<{
      attempts: number;
      backoff?: { type: 'fixed' | 'linear' | 'exponential'; delayMs: number; maxDelayMs?: number; jitter?: 'none' | 'full' | 'equal' };
    }>();
    const input: TriggerInput = {
      handler: 'reports.daily',
      schedule: { cron: '0 9 * * MON-FRI', timezone: 'Europe/Berlin' },
      retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000, jitter: 'full' } },
      window: { days: ['MON', 1], between: ['09:00', '17:00'] },
      misfire: 'skip',
      overlap: 'queue',
      tags: ['reports'],
    };
    expectTypeOf(input).toExtend<TriggerInput>();
    // @ts-expect-error: no such backoff
    const badBackoff: TriggerInput['retry'] = { attempts: 2, backoff: { type: 'random', delayMs: 1 } };
    // @ts-expect-error: days are names or 0-6
    const badDay: TriggerInput['window'] = { days: ['MONDAY'] };
    void badBackoff;
    void badDay;
  });

  it('pins the statuses', () => {
    expectTypeOf<TriggerStatus>().toEqualTypeOf<'active' | 'paused' | 'completed'>();
    expectTypeOf<JobStatus>().toEqualTypeOf<'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'skipped'>();
    expectTypeOf<Job['status']>().toEqualTypeOf<JobStatus>();
    expectTypeOf<Trigger['status']>().toEqualTypeOf<TriggerStatus>();
  });
});

describe('handler context', () => {
  it('gives the handler its payload, signal, attempt, records, log and heartbeat', () => {
    expectTypeOf<JobContext<{ n: number }>['payload']>().toEqualTypeOf<{ n: number }>();
    expectTypeOf<JobContext['payload']>().toEqualTypeOf<JsonValue>();
    expectTypeOf<JobContext['signal']>().toEqualTypeOf<AbortSignal>();
    expectTypeOf<JobContext['attempt']>().toEqualTypeOf<number>();
    expectTypeOf<JobContext['job']>().toEqualTypeOf<Readonly<Job>>();
    expectTypeOf<JobContext['trigger']>().toEqualTypeOf<Readonly<Trigger> | null>();
    expectTypeOf<JobContext['log']>().toEqualTypeOf<Logger>();
    expectTypeOf<JobContext['heartbeat']>().toEqualTypeOf<() => Promise<void>>();
    expectTypeOf<HandlerFunction>().returns.toEqualTypeOf<Promise<JsonValue | void> | JsonValue | void>();
    expectTypeOf<ModuleHandler>().toEqualTypeOf<{ module: string | URL; exportName?: string }>();
  });

  it('keeps the context read-only', () => {
    const handler: HandlerFunction = (ctx) => {
      // @ts-expect-error: the context's fields are read-only
      ctx.attempt = 2;
      // @ts-expect-error: so is the job it sees
      ctx.job.maxAttempts = 10;
    };
    void handler;
  });
});
