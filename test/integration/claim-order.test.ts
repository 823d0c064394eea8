/**
 * The job record is the slot's claim (issue 10): the job is inserted first, the trigger advanced
 * after. These tests put writes of "another instance" (or of a user) between the two, through a
 * trigger store whose slot claims run a hook first, and check what the scheduler makes of it.
 */
import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { MemoryJobStore, MemoryTriggerStore } from '../../src/stores/memory/index.js';
import { Scheduler } from '../../src/scheduler.js';
import type { SlotClaim, SlotClaimUpdate, TriggerFields } from '../../src/ports.js';
import type { Trigger } from '../../src/types.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

/** A memory trigger store whose next slot claim (one or a batch) first runs `beforeClaim`. */
class InterposingTriggerStore extends MemoryTriggerStore {
  beforeClaim: (() => Promise<void>) | null = null;
  /** `update` calls after which the stored status is put back as it was (a lost update on a non-atomic server). */
  undoUpdates = 0;
  updates = 0;

  async #interpose(): Promise<void> {
    const hook = this.beforeClaim;
    this.beforeClaim = null;
    if (hook) await hook();
  }

  override async claimSlot(id: string, slot: Date, expectedVersion: number, update: SlotClaimUpdate): Promise<Trigger | null> {
    await this.#interpose();
    return super.claimSlot(id, slot, expectedVersion, update);
  }

  override async claimSlots(claims: SlotClaim[]): Promise<boolean[]> {
    await this.#interpose();
    return super.claimSlots(claims);
  }

  override async update(id: string, expectedVersion: number, fields: TriggerFields): Promise<Trigger | null> {
    this.updates += 1;
    const before = await this.get(id);
    const written = await super.update(id, expectedVersion, fields);
    if (written && before && this.undoUpdates > 0) {
      this.undoUpdates -= 1;
      // A racing whole-document write that read the trigger before this update lands after it.
      await super.replace({ ...before, version: written.version + 1 }, written.version);
    }
    return written;
  }
}

async function setUp(leadMs = 0): Promise<{ clock: ManualClock; store: InterposingTriggerStore; jobs: MemoryJobStore; scheduler: Scheduler; runs: number[] }> {
  const clock = new ManualClock(T0);
  const store = new InterposingTriggerStore();
  const jobs = new MemoryJobStore();
  const scheduler = new Scheduler({ triggerStore: store, jobStore: jobs, clock, pollIntervalMs: 1000, lookaheadMs: 2000, leadMs });
  const runs: number[] = [];
  scheduler.register('work', (ctx) => void runs.push(ctx.job.scheduledFor.getTime()));
  await scheduler.start();
  await scheduler.addTrigger({ id: 'tick', handler: 'work', schedule: { every: 1000, startAt: new Date(T0 + 1000) } });
  return { clock, store, jobs, scheduler, runs };
}

describe('the job record is the claim', () => {
  it('a trigger paused between the job insert and the advance: the job is withdrawn as skipped and never runs', async () => {
    const { clock, store, scheduler, runs } = await setUp();
    store.beforeClaim = async () => {
      const current = (await store.get('tick'))!;
      await store.update('tick', current.version, { status: 'paused' });
    };
    await clock.advance(1000);
    await clock.advance(10);
    const jobs = (await scheduler.listJobs({ triggerId: 'tick' })).items;
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.status).toBe('skipped');
    expect(jobs[0]?.attempts).toBe(0);
    expect(jobs[0]?.history.at(-1)?.reason).toContain('slot withdrawn: the trigger was paused');
    expect(runs).toEqual([]);
    await clock.advance(3000);
    expect(runs).toEqual([]);
    expect((await store.get('tick'))?.status).toBe('paused');
    await scheduler.stop();
  });

  it('a trigger edited between the insert and the advance (still at the slot): the advance is retried on the new version and the slot runs', async () => {
    const { clock, store, scheduler, runs } = await setUp();
    store.beforeClaim = async () => {
      const current = (await store.get('tick'))!;
      await store.update('tick', current.version, { payload: { edited: true } });
    };
    await clock.advance(1000);
    await clock.advance(10);
    expect(runs).toEqual([T0 + 1000]);
    const stored = await store.get('tick');
    expect(stored?.nextRunAt?.getTime()).toBe(T0 + 2000);
    expect(stored?.payload).toEqual({ edited: true });
    await clock.advance(1000);
    expect(runs).toEqual([T0 + 1000, T0 + 2000]);
    await scheduler.stop();
  });

  it('a trigger another instance advanced past the slot for this very job (a repair): the slot is ours and runs once', async () => {
    const { clock, store, scheduler, runs } = await setUp();
    store.beforeClaim = async () => {
      const current = (await store.get('tick'))!;
      // What `#advanceForOther` writes: past the slot, lastRunAt = the stored job's slot.
      await store.claimSlot('tick', new Date(T0 + 1000), current.version, {
        nextRunAt: new Date(T0 + 2000),
        lastRunAt: new Date(T0 + 1000),
        status: 'active',
        updatedAt: new Date(T0 + 1000),
      });
    };
    await clock.advance(1000);
    await clock.advance(10);
    expect(runs).toEqual([T0 + 1000]);
    await clock.advance(2000);
    expect(runs).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);
    const slots = (await scheduler.listJobs({ triggerId: 'tick' })).items.map((job) => job.scheduledFor.getTime());
    expect(new Set(slots).size).toBe(slots.length);
    await scheduler.stop();
  });

  it('a slot whose job key is taken (another instance holds it) is not run here, and the trigger is advanced for its holder', async () => {
    const { clock, store, jobs, scheduler, runs } = await setUp();
    // Another instance inserted the slot's job and died before advancing the trigger.
    const existing = await jobs.insert({
      ...(await import('../../src/testing/fixtures.js')).makeJob({ id: 'theirs', key: `slot:tick:${new Date(T0 + 1000).toISOString()}`, triggerId: 'tick', handler: 'work' }),
      scheduledFor: new Date(T0 + 1000),
      runAt: new Date(T0 + 1000),
      status: 'running',
      attempts: 1,
      fence: 1,
      lease: { owner: 'dead', token: 1, expiresAt: new Date(T0 + 60_000) },
    });
    expect(existing).not.toBeNull();
    const byKey = vi.spyOn(jobs, 'getByKey');
    await clock.advance(1000);
    await clock.advance(10);
    expect(runs).toEqual([]);
    // Taken at the first try of the insert: another instance's for sure, so not read back (a read
    // by key is a scan of the collection on FerretDB).
    expect(byKey).not.toHaveBeenCalled();
    expect((await store.get('tick'))?.nextRunAt?.getTime()).toBe(T0 + 2000);
    expect((await store.get('tick'))?.lastRunAt?.getTime()).toBe(T0 + 1000);
    await clock.advance(1000);
    expect(runs).toEqual([T0 + 2000]);
    await scheduler.stop();
  });

  it('pauseTrigger writes only its own fields and reads back: a change a racing write undid is written again before the call returns', async () => {
    const { store, scheduler } = await setUp();
    store.undoUpdates = 1;
    const paused = await scheduler.pauseTrigger('tick');
    expect(paused.status).toBe('paused');
    expect(store.updates).toBe(2);
    expect((await store.get('tick'))?.status).toBe('paused');
    await scheduler.stop();
  });

  it('pauseTrigger fails loudly, rather than answer success, when the change never sticks', async () => {
    const { store, scheduler } = await setUp();
    store.undoUpdates = 100;
    await expect(scheduler.pauseTrigger('tick')).rejects.toMatchObject({ code: 'ERR_STORE' });
    expect((await store.get('tick'))?.status).toBe('active');
    await scheduler.stop();
  });
});
