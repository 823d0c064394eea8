/**
 * Scheduler-level contract of `upsertTrigger` (triggers declared in code at every start): what it
 * writes, what it leaves alone, and instances declaring the same trigger at once. Manual clocks.
 */
import { InvalidTriggerConfigError, ManualClock, Scheduler } from '@intellibrowse/scheduler';
import type { Job, Trigger, TriggerInput } from '@intellibrowse/scheduler';
import { advance, eventually } from '../wait.js';
import type { BackendUnderTest } from '../fixtures.js';
import type { ContractRunner } from '../runner.js';
import { contractInstance } from './instance.js';

const START = Date.UTC(2026, 2, 1, 10, 0, 0);

function make(backend: BackendUnderTest, clock: ManualClock, instanceId: string): Scheduler {
  return contractInstance(backend, clock, instanceId, 'declared');
}

/** The trigger events a scheduler emitted, as `event:id`. */
function recordEvents(scheduler: Scheduler): string[] {
  const seen: string[] = [];
  for (const event of ['trigger:added', 'trigger:updated', 'trigger:paused', 'trigger:resumed'] as const) {
    scheduler.on(event, (trigger: Trigger) => void seen.push(`${event}:${trigger.id}`));
  }
  return seen;
}

async function jobsOf(scheduler: Scheduler, triggerId: string): Promise<Job[]> {
  return (await scheduler.listJobs({ triggerId, limit: 1000 })).items;
}

/** `upsertTrigger` on a backend from `fresh()`. */
export function runDeclaredTriggerContract(fresh: () => Promise<BackendUnderTest>, { describe, it, expect }: ContractRunner): void {
  describe('upsertTrigger (triggers declared in code)', { timeout: 60_000 }, () => {
    it('adds a new trigger, and an unchanged declaration writes nothing and emits nothing, keeping the run state', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const scheduler = make(backend, clock, 'solo');
      const events = recordEvents(scheduler);
      scheduler.register('tick', () => 'ok');
      const declaration: TriggerInput = { id: 'daily', handler: 'tick', schedule: { every: '1s' }, payload: { team: 'qa', n: 1 }, tags: ['a'] };
      const added = await scheduler.upsertTrigger(declaration);
      expect(added).toMatchObject({ id: 'daily', status: 'active', version: 1, payload: { team: 'qa', n: 1 } });
      expect(added.nextRunAt?.getTime()).toBe(START);
      expect(events).toEqual(['trigger:added:daily']);

      await scheduler.start();
      await advance(clock, 2500);
      await eventually(async () => (await jobsOf(scheduler, 'daily')).filter((j) => j.status === 'succeeded').length >= 2, 30_000, 'two slots', [clock]);
      await scheduler.stop();
      const fired = (await scheduler.getTrigger('daily'))!;
      expect(fired.lastRunAt).not.toBeNull();

      // The next start declares it again (a later instant, keys in another order): nothing changes.
      clock.set(START + 60_000);
      const again = await scheduler.upsertTrigger({ payload: { n: 1, team: 'qa' }, tags: ['a'], schedule: { every: 1000 }, handler: 'tick', id: 'daily' });
      expect(again).toEqual(fired);
      expect(await scheduler.getTrigger('daily')).toEqual(fired);
      expect(events).toEqual(['trigger:added:daily']);
    });

    it('a changed schedule recomputes nextRunAt; another changed field keeps it; a field left out goes back to its default', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const scheduler = make(backend, clock, 'solo');
      const events = recordEvents(scheduler);
      scheduler.register('tick', () => 'ok');
      await scheduler.upsertTrigger({ id: 'report', handler: 'tick', schedule: { cron: '0 12 * * *' }, priority: 5 });
      clock.set(START + 1000);
      const moved = await scheduler.upsertTrigger({ id: 'report', handler: 'tick', schedule: { cron: '30 10 * * *' }, priority: 5 });
      expect(moved.nextRunAt?.toISOString()).toBe('2026-03-01T10:30:00.000Z');
      expect(moved.version).toBe(2);
      // Only the payload changes: the slot stays; priority was left out, so it is 0 again.
      const repaid = await scheduler.upsertTrigger({ id: 'report', handler: 'tick', schedule: { cron: '30 10 * * *' }, payload: { v: 2 } });
      expect(repaid).toMatchObject({ payload: { v: 2 }, priority: 0, version: 3 });
      expect(repaid.nextRunAt?.toISOString()).toBe('2026-03-01T10:30:00.000Z');
      expect(repaid.createdAt.getTime()).toBe(START);
      expect(events).toEqual(['trigger:added:report', 'trigger:updated:report', 'trigger:updated:report']);
      expect(await scheduler.getTrigger('report')).toEqual(repaid);
    });

    it('an operator\'s pause outlives declarations that leave paused out; paused: true / false in the declaration decide', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const scheduler = make(backend, clock, 'solo');
      scheduler.register('tick', () => 'ok');
      const declaration: TriggerInput = { id: 'sync', handler: 'tick', schedule: { cron: '*/5 * * * *' } };
      await scheduler.upsertTrigger(declaration);
      await scheduler.pauseTrigger('sync');
      expect((await scheduler.upsertTrigger(declaration)).status).toBe('paused');
      // A changed definition still leaves the status to the operator.
      const changed = await scheduler.upsertTrigger({ ...declaration, schedule: { cron: '*/10 * * * *' } });
      expect(changed).toMatchObject({ status: 'paused', schedule: { cron: '*/10 * * * *' } });
      clock.set(START + 7 * 60_000);
      const resumed = await scheduler.upsertTrigger({ ...declaration, schedule: { cron: '*/10 * * * *' }, paused: false });
      expect(resumed.status).toBe('active');
      // Slots missed while paused are not replayed: the next one after now.
      expect(resumed.nextRunAt?.toISOString()).toBe('2026-03-01T10:10:00.000Z');
      const paused = await scheduler.upsertTrigger({ ...declaration, schedule: { cron: '*/10 * * * *' }, paused: true });
      expect(paused.status).toBe('paused');
      expect((await scheduler.getTrigger('sync'))?.status).toBe('paused');
      // A new trigger declared paused is added paused.
      expect((await scheduler.upsertTrigger({ id: 'later', handler: 'tick', schedule: { manual: true }, paused: true })).status).toBe('paused');
    });

    it('an every without startAt keeps its anchor; a one-shot that already fired may be declared again, a moved one not into the past', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const scheduler = make(backend, clock, 'solo');
      scheduler.register('tick', () => 'ok');
      const first = await scheduler.upsertTrigger({ id: 'beat', handler: 'tick', schedule: { every: '1m' } });
      clock.set(START + 90_000);
      expect(await scheduler.upsertTrigger({ id: 'beat', handler: 'tick', schedule: { every: '1m' } })).toEqual(first);
      // A new interval keeps the phase of the stored anchor.
      const faster = await scheduler.upsertTrigger({ id: 'beat', handler: 'tick', schedule: { every: '30s' } });
      expect(faster.schedule).toEqual({ kind: 'every', every: 30_000, startAt: new Date(START), endAt: null });
      expect(faster.nextRunAt?.getTime()).toBe(START + 90_000);

      const once = { id: 'once', handler: 'tick', schedule: { at: new Date(START + 100_000) } };
      await scheduler.upsertTrigger(once);
      clock.set(START + 200_000);
      // Past now, but the same declaration: no error, nothing written.
      expect((await scheduler.upsertTrigger(once)).version).toBe(1);
      const moved = scheduler.upsertTrigger({ ...once, schedule: { at: new Date(START + 150_000) } });
      await expect(moved).rejects.toBeInstanceOf(InvalidTriggerConfigError);
      await expect(moved).rejects.toMatchObject({ field: 'schedule.at' });
      expect((await scheduler.getTrigger('once'))?.schedule).toEqual({ kind: 'at', at: new Date(START + 100_000) });
    });

    it('refuses a declaration without id or with a bad field, writing nothing', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const scheduler = make(backend, clock, 'solo');
      scheduler.register('tick', () => 'ok');
      await expect(scheduler.upsertTrigger({ handler: 'tick', schedule: { manual: true } })).rejects.toMatchObject({ code: 'ERR_INVALID_TRIGGER_CONFIG', field: 'id' });
      await scheduler.upsertTrigger({ id: 'x', handler: 'tick', schedule: { cron: '0 * * * *' } });
      await expect(scheduler.upsertTrigger({ id: 'x', handler: 'tick', schedule: { cron: '0 * * *' } })).rejects.toMatchObject({ field: 'schedule.cron' });
      await expect(scheduler.upsertTrigger({ id: 'x', handler: 'tick', schedule: { cron: '0 * * * *' }, overlap: 'sometimes' as 'skip' })).rejects.toMatchObject({ field: 'overlap' });
      expect((await scheduler.getTrigger('x'))?.version).toBe(1);
      expect((await scheduler.listTriggers()).items.map((t) => t.id)).toEqual(['x']);
    });

    it('instances declaring the same triggers at once: one trigger each, no error, each slot fired once', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const instances = ['a', 'b', 'c'].map((id) => make(backend, clock, id));
      const events = instances.map(recordEvents);
      const runs: string[] = [];
      for (const s of instances) s.register('work', (ctx) => void runs.push(`${ctx.job.triggerId}@${ctx.job.scheduledFor.getTime()}`));
      const declarations: TriggerInput[] = [0, 1, 2, 3].map((i) => ({ id: `job-${i}`, handler: 'work', schedule: { every: '1s' } }));
      // Every instance declares every trigger at the same moment, then starts: a deploy.
      const results = await Promise.all(instances.map((s) => Promise.all(declarations.map((d) => s.upsertTrigger(d)))));
      for (const r of results) expect(r.map((t) => t.id)).toEqual(declarations.map((d) => d.id));
      expect((await instances[0]!.listTriggers()).items.map((t) => t.id)).toEqual(['job-0', 'job-1', 'job-2', 'job-3']);
      // Each trigger was added once in the whole cluster, and nobody "updated" an unchanged one.
      const all = events.flat();
      expect(all.filter((e) => e.startsWith('trigger:added')).sort()).toEqual(declarations.map((d) => `trigger:added:${d.id}`));
      expect(all.filter((e) => !e.startsWith('trigger:added'))).toEqual([]);
      for (const s of instances) await s.start();
      await advance(clock, 5500);
      const wanted = declarations.flatMap((d) => [1, 2, 3, 4, 5].map((k) => `${d.id}@${START + k * 1000}`));
      await eventually(() => wanted.every((key) => runs.includes(key)), 30_000, 'slots 1..5 of every trigger', [clock]);
      for (const s of instances) await s.stop();
      expect(new Set(runs).size).toBe(runs.length);
      for (const d of declarations) {
        const slots = (await jobsOf(instances[0]!, d.id!)).map((j) => j.scheduledFor.getTime());
        expect(new Set(slots).size, `${d.id} has no duplicate slot`).toBe(slots.length);
      }

      // The next deploy changes one schedule; all three declare it at once: it is changed, no error.
      const changed = { ...declarations[0]!, schedule: { every: '2s' } };
      const answers = await Promise.all(instances.map((s) => s.upsertTrigger(changed)));
      for (const t of answers) expect(t.schedule).toMatchObject({ kind: 'every', every: 2000, startAt: new Date(START) });
      expect((await instances[1]!.getTrigger('job-0'))?.schedule).toMatchObject({ every: 2000 });
      expect(events.flat().filter((e) => e === 'trigger:updated:job-0').length).toBeGreaterThanOrEqual(1);
    });
  });
}
