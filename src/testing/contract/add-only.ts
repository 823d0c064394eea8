/**
 * Scheduler-level contract of processes that only add work (an API, a web app): with
 * `remoteHandlers` they add and declare triggers, run them, publish and retry without registering
 * the handlers that run elsewhere, and `health().unhandled` shows work that no live instance can
 * run. Manual clocks.
 */
import { HandlerNotFoundError, ManualClock, Scheduler } from '@intellibrowse/scheduler';
import type { SchedulerOptions } from '@intellibrowse/scheduler';
import { advance, eventually } from '../wait.js';
import type { BackendUnderTest } from '../fixtures.js';
import type { ContractRunner } from '../runner.js';
import { contractInstance } from './instance.js';

const START = Date.UTC(2026, 2, 1, 10, 0, 0);
/**
 * Instances whose member lock must stay live while the manual clock runs ahead of a slow store's
 * polls: a lock lasts three poll intervals.
 */
const STEADY: SchedulerOptions = { pollIntervalMs: 2000, lookaheadMs: 4000 };

function make(backend: BackendUnderTest, clock: ManualClock, instanceId: string, extra: SchedulerOptions = {}): Scheduler {
  return contractInstance(backend, clock, instanceId, 'add-only', extra);
}

/** `remoteHandlers` and `health().unhandled` on a backend from `fresh()`. */
export function runAddOnlyContract(fresh: () => Promise<BackendUnderTest>, { describe, it, expect }: ContractRunner): void {
  describe('processes that only add work', { timeout: 60_000 }, () => {
    it('with remoteHandlers: adds, declares, runs, publishes and retries without the handlers; a worker runs it all', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const api = make(backend, clock, 'api', { remoteHandlers: 'any' });
      await api.addTrigger({ id: 'render', handler: 'reports.render', schedule: { manual: true } });
      await api.upsertTrigger({ id: 'hourly', handler: 'reports.render', schedule: { cron: '0 3 * * *' } });
      await api.addTrigger({ id: 'on-request', handler: 'reports.render', schedule: { event: 'report.requested' } });
      const manual = await api.runTrigger('render', { payload: { n: 1 } });
      const [published] = await api.publish('report.requested', { n: 2 });
      const doomed = await api.runTrigger('render', { payload: { n: 3 } });
      const cancelled = await api.cancelJob(doomed.id);
      expect(cancelled.status).toBe('cancelled');
      const retried = await api.retryJob(doomed.id);
      expect([manual.status, published?.status, retried.status]).toEqual(['pending', 'pending', 'pending']);

      // Nobody runs "reports.render" yet: the api process says so, without ever starting.
      expect((await api.health()).unhandled).toEqual([{ handler: 'reports.render', activeTriggers: 3, pendingJobs: 3 }]);

      const worker = make(backend, clock, 'worker', STEADY);
      const ran: unknown[] = [];
      worker.register('reports.render', (ctx) => void ran.push(ctx.payload));
      await worker.start();
      await advance(clock, 1000);
      await eventually(() => ran.length === 3, 30_000, 'the worker to run the three jobs', [clock]);
      expect(ran).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }, { n: 3 }]));
      // The api's answer is reused for UNHANDLED_TTL_MS; a fresh look sees the worker.
      expect((await api.health()).unhandled).toEqual([{ handler: 'reports.render', activeTriggers: 3, pendingJobs: 3 }]);
      expect((await make(backend, clock, 'observer').health()).unhandled).toEqual([]);
      expect((await worker.health()).unhandled).toEqual([]);
      await worker.stop();
    });

    it('health().unhandled names a handler no live instance has; it clears once one that has it starts', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const worker = make(backend, clock, 'worker', { ...STEADY, remoteHandlers: ['emails.send'] });
      worker.register('reports.render', () => 'ok');
      await worker.start();
      // A typo on an instance that runs jobs is still refused; a listed remote handler is accepted.
      await expect(worker.addTrigger({ id: 'typo', handler: 'reports.rendr', schedule: { every: 60_000 } })).rejects.toBeInstanceOf(HandlerNotFoundError);
      await expect(worker.upsertTrigger({ id: 'typo', handler: 'reports.rendr', schedule: { every: 60_000 } })).rejects.toMatchObject({ field: 'handler' });
      await worker.addTrigger({ id: 'mail', handler: 'emails.send', schedule: { every: 60_000 } });
      await worker.addTrigger({ id: 'report', handler: 'reports.render', schedule: { every: 60_000 } });
      await worker.runTrigger('mail');
      const health = await worker.health();
      expect(health.status).toBe('ok');
      expect(health.unhandled).toEqual([{ handler: 'emails.send', activeTriggers: 1, pendingJobs: 1 }]);

      const mailer = make(backend, clock, 'mailer', STEADY);
      let sent = 0;
      mailer.register('emails.send', () => void (sent += 1));
      await mailer.start();
      await eventually(() => sent >= 1, 30_000, 'the mailer to run the pending job', [clock]);
      // A scheduler that never started asks too (an API process): it reads the live members.
      const look = async (name: string): Promise<unknown> => (await make(backend, clock, name).health()).unhandled;
      expect(await look('look-1')).toEqual([]);
      // The mailer stops (it leaves at once): its handler is unhandled again.
      await mailer.stop();
      expect(await look('look-2')).toEqual([{ handler: 'emails.send', activeTriggers: 1, pendingJobs: 0 }]);
      await worker.stop();
    });
  });
}
