/**
 * The store side of alerts: `TriggerStore.findLate` and the failure and running counts of
 * `JobStore.stats`, which `trigger:late`, `health()` and the failing-trigger view read.
 */
import { fixtureAt as at, makeJob, makeTrigger } from '../fixtures.js';
import type { BackendUnderTest } from '../fixtures.js';
import type { ContractRunner } from '../runner.js';

/** Store alert cases, on fresh stores from `fresh`. */
export function runStoreAlertsContract(fresh: () => Promise<BackendUnderTest>, { describe, it, expect }: ContractRunner): void {
  describe('alerts', () => {
    it('findLate returns the active triggers whose next slot is alertAfterMs overdue, oldest first', async () => {
      const { triggerStore } = await fresh();
      expect(typeof triggerStore.findLate).toBe('function');
      await triggerStore.insert(makeTrigger({ id: 'late', nextRunAt: at(0), alertAfterMs: 5000 }));
      await triggerStore.insert(makeTrigger({ id: 'later', nextRunAt: at(-1000), alertAfterMs: 5000 }));
      await triggerStore.insert(makeTrigger({ id: 'not-yet', nextRunAt: at(0), alertAfterMs: 60_000 }));
      await triggerStore.insert(makeTrigger({ id: 'no-alert', nextRunAt: at(-50_000) }));
      await triggerStore.insert(makeTrigger({ id: 'paused', nextRunAt: at(-50_000), alertAfterMs: 1000, status: 'paused' }));
      await triggerStore.insert(makeTrigger({ id: 'future', nextRunAt: at(60_000), alertAfterMs: 1000 }));
      expect((await triggerStore.findLate!(at(10_000), 10)).map((t) => t.id)).toEqual(['later', 'late']);
      expect((await triggerStore.findLate!(at(10_000), 1)).map((t) => t.id)).toEqual(['later']);
      expect(await triggerStore.findLate!(at(3999), 10)).toEqual([]);
      // A claimed slot moves nextRunAt on: no longer late.
      await triggerStore.claimSlot('late', at(0), 1, { nextRunAt: at(20_000), lastRunAt: at(0), status: 'active', updatedAt: at(10_000) });
      expect((await triggerStore.findLate!(at(10_000), 10)).map((t) => t.id)).toEqual(['later']);
      expect((await triggerStore.get('later'))?.alertAfterMs).toBe(5000);
      expect((await triggerStore.get('no-alert'))?.alertAfterMs).toBeNull();
    });

    it('stats count failures since the last success, and jobs running per trigger', async () => {
      const { jobStore } = await fresh();
      await jobStore.insert(makeJob({ id: 'a', key: 'a', status: 'succeeded', dependentsFired: true, finishedAt: at(1) }));
      for (const i of [2, 3, 4]) await jobStore.insert(makeJob({ id: `f${i}`, key: `f${i}`, status: 'failed', dependentsFired: true, finishedAt: at(i) }));
      await jobStore.insert(makeJob({ id: 'r', key: 'r', status: 'running', triggerId: 't2' }));
      await jobStore.insert(makeJob({ id: 'k', key: 'k', status: 'skipped', triggerId: 't2', dependentsFired: true, finishedAt: at(5) }));
      const stats = await jobStore.stats({});
      expect(stats.byTrigger.t1).toMatchObject({ runs: 4, failedInRow: 3, lastSucceededAt: at(1), running: 0 });
      expect(stats.byTrigger.t2).toMatchObject({ runs: 0, running: 1, pending: 0, skipped: 1, lastSucceededAt: null, failedInRow: 0, p95LagMs: null });
    });
  });

}
