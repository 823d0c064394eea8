/**
 * Alert contract on every backend: a slot not started `alertAfterMs` after its time raises
 * `trigger:late` once, from another instance than the dead one, and shows in `health()` and
 * `stats()`; a trigger whose latest jobs all failed shows as failing.
 */
import { ManualClock, Scheduler } from '@intellibrowse/scheduler';
import type { SchedulerOptions, TriggerLateEvent } from '@intellibrowse/scheduler';
import { advance, eventually } from '../wait.js';
import type { BackendUnderTest } from '../fixtures.js';
import type { ContractRunner } from '../runner.js';

const START = Date.UTC(2026, 2, 1, 10, 0, 0);

function make(backend: BackendUnderTest, clock: ManualClock, instanceId: string, extra: SchedulerOptions = {}): Scheduler {
  const { triggerStore, jobStore, lockManager } = backend;
  const scheduler = new Scheduler({ triggerStore, jobStore, lockManager, clock, instanceId, pollIntervalMs: 200, lookaheadMs: 1000, leaseMs: 6000, ...extra });
  scheduler.on('error', (error) => console.error(`[alerts ${instanceId}] ${error.message}`));
  return scheduler;
}

/** Alert behaviour on a backend from `fresh()`. */
export function runAlertsContract(fresh: () => Promise<BackendUnderTest>, { describe, it, expect }: ContractRunner): void {
  describe('alerts on this backend', { timeout: 60_000 }, () => {
    it('a slot whose only instance died raises trigger:late once, on a live instance, and shows in health() and stats()', async () => {
      const backend = await fresh();
      const clocks = [new ManualClock(START), new ManualClock(START)];
      const dying = make(backend, clocks[0]!, 'dies');
      dying.register('only-there', () => undefined);
      await dying.start();
      await dying.addTrigger({ id: 'quiet', handler: 'only-there', schedule: { every: 60_000, startAt: new Date(START + 1000) }, alertAfterMs: 3000 });
      await dying.stop({ graceful: false });
      const watcher = make(backend, clocks[1]!, 'watcher');
      watcher.register('something-else', () => undefined);
      const late: TriggerLateEvent[] = [];
      watcher.on('trigger:late', (event) => late.push(event));
      await watcher.start();
      await advance(clocks[1]!, 3500, 250);
      // 500 ms late: not yet.
      expect(late).toEqual([]);
      await advance(clocks[1]!, 4000, 250);
      await eventually(() => late.length > 0, 30_000, 'trigger:late', [clocks[1]!], 250);
      expect(late[0]).toMatchObject({ triggerId: 'quiet', handler: 'only-there', slot: new Date(START + 1000), alertAfterMs: 3000 });
      expect(late[0]!.lateByMs).toBeGreaterThanOrEqual(3000);
      await advance(clocks[1]!, 10_000, 500);
      expect(late).toHaveLength(1);
      const health = await watcher.health();
      expect(health.lateTriggers?.map((t) => t.triggerId)).toEqual(['quiet']);
      const stats = await watcher.stats({ triggerId: 'quiet' });
      expect(stats.triggers.quiet).toMatchObject({ late: true, failing: false, runs: 0 });
      await watcher.stop();
    });

    it('a trigger whose latest jobs all failed shows as failing; one success clears it', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const scheduler = make(backend, clock, 'solo');
      let failing = true;
      scheduler.register('flaky', () => {
        if (failing) throw new Error('no');
      });
      await scheduler.start();
      await scheduler.addTrigger({ id: 'flaky', handler: 'flaky', schedule: { every: 1000, startAt: new Date(START + 1000) } });
      await advance(clock, 3000, 250);
      await eventually(async () => (await scheduler.stats({ triggerId: 'flaky' })).triggers.flaky!.failed >= 3, 30_000, 'three failures', [clock], 50);
      const stats = await scheduler.stats({ triggerId: 'flaky' });
      expect(stats.triggers.flaky).toMatchObject({ failing: true, late: false, lastSucceededAt: null });
      await advance(clock, 6000, 250);
      expect((await scheduler.health()).failingTriggers).toEqual(['flaky']);
      failing = false;
      await advance(clock, 1000, 250);
      await eventually(async () => (await scheduler.stats({ triggerId: 'flaky' })).triggers.flaky!.succeeded >= 1, 30_000, 'a success', [clock], 50);
      const after = await scheduler.stats({ triggerId: 'flaky' });
      expect(after.triggers.flaky!.failing).toBe(false);
      expect(after.triggers.flaky!.lastSucceededAt).toBeInstanceOf(Date);
      // health() reuses a job summary up to a minute old.
      await advance(clock, 61_000, 1000);
      expect((await scheduler.health()).failingTriggers).toEqual([]);
      await scheduler.stop();
    });

    it('refuses a bad alertAfterMs, naming the field, and writes nothing', async () => {
      const backend = await fresh();
      const scheduler = make(backend, new ManualClock(START), 'solo');
      scheduler.register('h', () => undefined);
      for (const bad of [0, -5, 1.5, '10s']) {
        await expect(
          scheduler.addTrigger({ id: 'bad', handler: 'h', schedule: { every: 1000 }, alertAfterMs: bad as number }),
        ).rejects.toMatchObject({ code: 'ERR_INVALID_TRIGGER_CONFIG', field: 'alertAfterMs' });
      }
      expect(await scheduler.getTrigger('bad')).toBeNull();
      const ok = await scheduler.addTrigger({ id: 'ok', handler: 'h', schedule: { every: 1000 }, alertAfterMs: 5000 });
      expect(ok.alertAfterMs).toBe(5000);
      expect((await scheduler.updateTrigger('ok', { alertAfterMs: null })).alertAfterMs).toBeNull();
    });
  });
}
