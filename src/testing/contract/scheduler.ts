/**
 * Scheduler-level contract: behaviour that must hold on every backend, driven on manual clocks.
 */
import { ManualClock, Scheduler } from '@intellibrowse/scheduler';
import type { Job, SchedulerOptions } from '@intellibrowse/scheduler';
import { advance, eventually } from '../wait.js';
import { makeJob, type BackendUnderTest } from '../fixtures.js';
import type { ContractRunner } from '../runner.js';
import { contractInstance } from './instance.js';

const START = Date.UTC(2026, 2, 1, 10, 0, 0);

function make(backend: BackendUnderTest, clock: ManualClock, instanceId: string, extra: SchedulerOptions = {}): Scheduler {
  return contractInstance(backend, clock, instanceId, 'contract', extra);
}

async function allJobs(scheduler: Scheduler, triggerId: string): Promise<Job[]> {
  const out: Job[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Job[]; nextCursor: string | null } = await scheduler.listJobs({
      triggerId,
      limit: 1000,
      ...(cursor ? { cursor } : {}),
    });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Scheduler behaviour on a backend from `fresh()`. */
export function runSchedulerContract(fresh: () => Promise<BackendUnderTest>, { describe, it, expect }: ContractRunner): void {
  describe('Scheduler on this backend', { timeout: 60_000 }, () => {
    it('fires every slot of an interval trigger once, and the jobs succeed', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const scheduler = make(backend, clock, 'solo');
      const seen: number[] = [];
      scheduler.register('tick', async (ctx) => {
        seen.push(ctx.job.scheduledFor.getTime());
        return { ok: true };
      });
      await scheduler.start();
      await scheduler.addTrigger({ id: 'every-second', handler: 'tick', schedule: { every: 1000, startAt: new Date(START + 1000) } });
      await advance(clock, 5000);
      const firstFive = (jobs: Job[]): Job[] => jobs.filter((j) => j.scheduledFor.getTime() <= START + 5000);
      await eventually(
        async () => firstFive(await allJobs(scheduler, 'every-second')).filter((j) => j.status === 'succeeded').length >= 5,
        30_000,
        'the first 5 slots to succeed',
        [clock],
      );
      await scheduler.stop();
      const jobs = await allJobs(scheduler, 'every-second');
      const slots = jobs.map((j) => j.scheduledFor.getTime()).sort((a, b) => a - b);
      expect(slots.slice(0, 5)).toEqual([1, 2, 3, 4, 5].map((k) => START + k * 1000));
      expect(new Set(slots).size).toBe(slots.length);
      expect(firstFive(jobs).every((j) => j.status === 'succeeded' && j.result !== null)).toBe(true);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('two instances sharing the backend fire each slot exactly once', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const a = make(backend, clock, 'a');
      const b = make(backend, clock, 'b');
      const runs: string[] = [];
      const record = (ctx: { trigger: { id: string } | null; job: Job }): void =>
        void runs.push(`${ctx.trigger?.id ?? ctx.job.triggerId}@${ctx.job.scheduledFor.getTime()}`);
      a.register('work', record);
      b.register('work', record);
      await a.start();
      await b.start();
      for (let i = 0; i < 5; i++) {
        await a.addTrigger({ id: `t${i}`, handler: 'work', schedule: { every: 1000, startAt: new Date(START + 1000) } });
      }
      const wanted: string[] = [];
      for (let i = 0; i < 5; i++) for (let k = 1; k <= 10; k++) wanted.push(`t${i}@${START + k * 1000}`);
      await advance(clock, 10_000);
      await eventually(() => wanted.every((key) => runs.includes(key)), 30_000, 'slots 1..10 of every trigger to run', [clock]);
      await a.stop();
      await b.stop();
      // No (trigger, slot) ran twice, and no slot has two job records.
      expect(new Set(runs).size).toBe(runs.length);
      for (let i = 0; i < 5; i++) {
        const slots = (await allJobs(a, `t${i}`)).map((j) => j.scheduledFor.getTime());
        expect(new Set(slots).size, `t${i} has no duplicate slot`).toBe(slots.length);
        for (let k = 1; k <= 10; k++) expect(slots, `t${i} slot ${k}`).toContain(START + k * 1000);
      }
    });

    it('recovers a job whose instance died (lease expired) and runs it on another instance', async () => {
      const backend = await fresh();
      const deadClock = new ManualClock(START);
      const liveClock = new ManualClock(START);
      const dying = make(backend, deadClock, 'dying', { leaseMs: 3000 });
      // Its own lease stays long; it sweeps for expired ones every third of it (10 s of clock time).
      const survivor = make(backend, liveClock, 'survivor');
      let dyingStarted = false;
      dying.register('job', async () => {
        dyingStarted = true;
        await new Promise(() => undefined);
      });
      survivor.register('job', async (ctx) => ({ recoveredOnAttempt: ctx.attempt }));
      await dying.start();
      const trigger = await dying.addTrigger({
        id: 'once',
        handler: 'job',
        schedule: { at: new Date(START + 100) },
        retry: { attempts: 3 },
      });
      await advance(deadClock, 200);
      await eventually(() => dyingStarted, 30_000, 'the dying instance to start the job', [deadClock]);
      // The dying instance's clock stops: it never renews its lease again.
      await survivor.start();
      await advance(liveClock, 11_000, 250);
      await eventually(async () => (await allJobs(survivor, trigger.id))[0]?.status === 'succeeded', 30_000, 'recovery', [liveClock]);
      const [job] = await allJobs(survivor, trigger.id);
      expect(job?.instanceId).toBe('survivor');
      // A stall, not a failed attempt: the re-run is attempt 1 again, and the stall is counted.
      expect(job?.attempts).toBe(1);
      expect(job?.stalls).toBe(1);
      expect(job?.result).toEqual({ recoveredOnAttempt: 1 });
      expect(job?.history.map((h) => h.status)).toEqual(['pending', 'running', 'pending', 'running', 'succeeded']);
      expect(job?.history[2]?.reason).toContain('stalled: instance dying stopped renewing its lease');
      expect(job?.history[2]?.instanceId).toBe('survivor');
      await survivor.stop();
      await dying.stop({ graceful: false });
    });

    it('a job that stalls more often than maxStalls fails with ERR_STALLED, naming the dead instance', async () => {
      const backend = await fresh();
      const clocks = [new ManualClock(START), new ManualClock(START)];
      const dying = make(backend, clocks[0]!, 'dies-first', { leaseMs: 3000, leaseGraceMs: 1000 });
      let started = 0;
      dying.register('job', () => {
        started += 1;
        return new Promise(() => undefined);
      });
      await dying.start();
      const trigger = await dying.addTrigger({ id: 'stalls', handler: 'job', schedule: { at: new Date(START + 100) }, maxStalls: 0 });
      await advance(clocks[0]!, 200);
      await eventually(() => started === 1, 30_000, 'the dying instance to start the job', [clocks[0]!]);
      const survivor = make(backend, clocks[1]!, 'survivor-1');
      let survivorRuns = 0;
      survivor.register('job', () => void (survivorRuns += 1));
      await survivor.start();
      await advance(clocks[1]!, 15_000, 250);
      await eventually(async () => (await allJobs(survivor, trigger.id))[0]?.status === 'failed', 30_000, 'the stalled job to fail', [clocks[1]!]);
      const [job] = await allJobs(survivor, trigger.id);
      expect(job?.error?.code).toBe('ERR_STALLED');
      expect(job?.error?.message).toContain('instance dies-first stopped renewing its lease');
      expect(job?.stalls).toBe(1);
      expect(job?.maxStalls).toBe(0);
      expect(survivorRuns).toBe(0);
      await survivor.stop();
      await dying.stop({ graceful: false });
    });

    it('an instance that dies between a slot\'s job insert and its trigger advance loses nothing: the slot runs once, elsewhere', async () => {
      const backend = await fresh();
      const clocks = [new ManualClock(START), new ManualClock(START)];
      // The dying instance's trigger advances never come back: it "dies" right after the insert.
      const hang = new Promise<never>(() => undefined);
      const dyingTriggers = new Proxy(backend.triggerStore, {
        get(target, name, receiver) {
          if (name === 'claimSlot' || name === 'claimSlots') return () => hang;
          const value: unknown = Reflect.get(target, name, receiver);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const dying = make({ ...backend, triggerStore: dyingTriggers }, clocks[0]!, 'dies-mid-claim', { leaseMs: 3000, leaseGraceMs: 1000, leadMs: 0 });
      let dyingRuns = 0;
      dying.register('job', () => void (dyingRuns += 1));
      await dying.start();
      const trigger = await dying.addTrigger({ id: 'every-2s', handler: 'job', schedule: { every: 2000, startAt: new Date(START + 2000) } });
      await advance(clocks[0]!, 2100);
      await eventually(async () => (await allJobs(dying, trigger.id)).length === 1, 30_000, 'the dying instance to insert the job', [clocks[0]!]);
      expect(dyingRuns).toBe(0);
      expect((await backend.triggerStore.get(trigger.id))?.nextRunAt?.getTime()).toBe(START + 2000);
      // The dying instance is gone; a survivor takes over the store on its own clock.
      const survivor = make(backend, clocks[1]!, 'survivor-2', { leaseMs: 3000, leaseGraceMs: 1000, leadMs: 0 });
      const ran: number[] = [];
      survivor.register('job', (ctx) => void ran.push(ctx.job.scheduledFor.getTime()));
      clocks[1]!.set(START + 2100);
      await survivor.start();
      await advance(clocks[1]!, 8000, 250);
      const firstJob = async (): Promise<Job | undefined> => (await allJobs(survivor, trigger.id)).find((j) => j.scheduledFor.getTime() === START + 2000);
      await eventually(async () => (await firstJob())?.status === 'succeeded', 30_000, 'the taken slot to run and succeed', [clocks[1]!]);
      // Slots after it fire on schedule (a slow store may need more turns of the clock for them).
      await eventually(
        async () => {
          const all = await allJobs(survivor, trigger.id);
          return all.length >= 4 && all.every((j) => j.status === 'succeeded');
        },
        30_000,
        'four slots to run and every job to end',
        [clocks[1]!],
        50,
      );
      const jobs = await allJobs(survivor, trigger.id);
      const slots = jobs.map((j) => j.scheduledFor.getTime()).sort((x, y) => x - y);
      // Every slot from the first to the last fired once: the one the dead instance took included.
      expect(new Set(slots).size).toBe(slots.length);
      for (let at = START + 2000; at <= slots[slots.length - 1]!; at += 2000) expect(slots).toContain(at);
      expect(slots.length).toBeGreaterThanOrEqual(4);
      expect(new Set(ran).size).toBe(ran.length);
      const first = jobs.find((j) => j.scheduledFor.getTime() === START + 2000);
      expect(first?.status).toBe('succeeded');
      expect(first?.stalls).toBe(1);
      expect(first?.history.some((h) => h.reason?.includes('instance dies-mid-claim stopped renewing') === true)).toBe(true);
      await survivor.stop();
      // The dead instance is left as it is: its clock never moves again and its advance never
      // comes back, so a stop would wait for that store call for ever.
    });

    it('a stale holder cannot overwrite the job after another instance took it over (fencing)', async () => {
      const backend = await fresh();
      const stale = await backend.jobStore.insert({
        ...makeJob({ status: 'running', fence: 1, lease: { owner: 'old', token: 1, expiresAt: new Date(START) } }),
      });
      expect(stale).not.toBeNull();
      const taken = await backend.jobStore.update('j1', { status: ['running'], leaseToken: 1 }, { status: 'pending', lease: null });
      expect(taken?.status).toBe('pending');
      const claimed = await backend.jobStore.claimPending(new Date(START + 10), {
        handlers: ['h'],
        owner: 'new',
        leaseExpiresAt: new Date(START + 30_000),
        history: { status: 'running', at: new Date(START + 10), instanceId: 'new', reason: 'claimed' },
        gate: null,
      });
      expect(claimed?.lease?.token).toBe(2);
      const lateWrite = await backend.jobStore.update('j1', { status: ['running'], leaseToken: 1 }, { status: 'succeeded' });
      expect(lateWrite).toBeNull();
      expect((await backend.jobStore.get('j1'))?.lease?.owner).toBe('new');
    });

    it('services with different handlers share the backend: jobs wait for an instance that has the handler', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const api = make(backend, clock, 'api');
      const worker = make(backend, clock, 'worker');
      api.register('api.only', () => undefined);
      const ran: string[] = [];
      worker.register('reports.render', (ctx) => void ran.push(`${ctx.job.source}:${ctx.job.instanceId}`));
      await api.start();
      await worker.start();
      await worker.addTrigger({ id: 'render', handler: 'reports.render', schedule: { event: 'report.requested' } });
      await worker.addTrigger({ id: 'render-now', handler: 'reports.render', schedule: { manual: true } });
      const [published] = await api.publish('report.requested', { id: 7 });
      const manual = await api.runTrigger('render-now');
      expect(published?.status).toBe('pending');
      expect(manual.status).toBe('pending');
      await advance(clock, 1000);
      await eventually(() => ran.length === 2, 30_000, 'the worker to run both jobs', [clock]);
      expect(ran.sort()).toEqual(['event:worker', 'manual:worker']);
      await api.stop();
      await worker.stop();
    });

    it('stores results as JSON.stringify writes them, and a result JSON cannot hold does not fail the job', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const scheduler = make(backend, clock, 'results');
      const cyclic: Record<string, unknown> = { name: 'loop' };
      cyclic.self = cyclic;
      const returns: Record<string, () => unknown> = {
        dated: () => ({ at: new Date(START), skipped: undefined, list: [1, undefined], nested: { when: new Date(0) } }),
        big: () => ({ count: 10n }),
        cyclic: () => cyclic,
        dollar: () => ({ $set: 1 }),
      };
      const jobs: Record<string, Job> = {};
      for (const [id, value] of Object.entries(returns)) {
        scheduler.register(id, () => value() as never);
        await scheduler.addTrigger({ id, handler: id, schedule: { manual: true } });
      }
      await scheduler.start();
      for (const id of Object.keys(returns)) jobs[id] = await scheduler.runTrigger(id);
      await eventually(async () => {
        for (const id of Object.keys(returns)) jobs[id] = (await scheduler.getJob(jobs[id]!.id))!;
        return Object.values(jobs).every((job) => job.status === 'succeeded');
      }, 30_000, 'every job to succeed', [clock]);
      expect(jobs.dated!.result).toEqual({ at: new Date(START).toISOString(), list: [1, null], nested: { when: '1970-01-01T00:00:00.000Z' } });
      expect(jobs.dated!.history.at(-1)!.reason).toBe('attempt 1 succeeded');
      for (const [id, why] of [['big', /BigInt/], ['cyclic', /circular/i], ['dollar', /must not start with "\$"/]] as const) {
        const job = jobs[id]!;
        expect(job, id).toMatchObject({ status: 'succeeded', result: null, error: null, attempts: 1 });
        expect(job.history.at(-1)!.reason, id).toMatch(/^attempt 1 succeeded; its result was not stored: /);
        expect(job.history.at(-1)!.reason, id).toMatch(why);
      }
      await scheduler.stop();
    });

    it('an event published twice with the same eventId fires each matching trigger once', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const scheduler = make(backend, clock, 'events');
      scheduler.register('on-run', async () => 'ok');
      await scheduler.start();
      await scheduler.addTrigger({ id: 'smoke', handler: 'on-run', schedule: { event: 'testrun.finished', filter: { suite: 'smoke' } } });
      await scheduler.addTrigger({ id: 'any', handler: 'on-run', schedule: { event: 'testrun.finished' } });
      const first = await scheduler.publish('testrun.finished', { suite: 'smoke' }, { eventId: 'e-1' });
      const again = await scheduler.publish('testrun.finished', { suite: 'smoke' }, { eventId: 'e-1' });
      const other = await scheduler.publish('testrun.finished', { suite: 'full' }, { eventId: 'e-2' });
      expect(first.map((j) => j.triggerId).sort()).toEqual(['any', 'smoke']);
      expect(again.map((j) => j.id).sort()).toEqual(first.map((j) => j.id).sort());
      expect(other.map((j) => j.triggerId)).toEqual(['any']);
      await eventually(async () => (await allJobs(scheduler, 'any')).every((j) => j.status === 'succeeded'), 30_000, 'event jobs', [clock]);
      expect(await allJobs(scheduler, 'smoke')).toHaveLength(1);
      expect(await allJobs(scheduler, 'any')).toHaveLength(2);
      await scheduler.stop();
    });

    it('a failed job keeps its error with the stack, trimmed; a thrown non-Error has none', async () => {
      const backend = await fresh();
      const clock = new ManualClock(START);
      const scheduler = make(backend, clock, 'errors');
      const deep = (n: number): never => {
        if (n === 0) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
        return deep(n - 1);
      };
      scheduler.register('deep', async () => deep(3));
      scheduler.register('long', async () => {
        const error = new Error('recursion');
        error.stack = ['RangeError: recursion', ...Array.from({ length: 200 }, (_, i) => `    at frame${i} (/app/src/walk.js:${i}:1)`)].join('\n');
        throw error;
      });
      scheduler.register('string', async () => {
        // A thrown string on purpose: there is no stack to keep.
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a handler that throws a non-Error is what this test is about
        throw 'not an error';
      });
      await scheduler.start();
      for (const id of ['deep', 'long', 'string']) await scheduler.addTrigger({ id, handler: id, schedule: { manual: true } });
      const jobs = [await scheduler.runTrigger('deep'), await scheduler.runTrigger('long'), await scheduler.runTrigger('string')];
      const ended = async (): Promise<Job[]> => Promise.all(jobs.map(async (j) => (await scheduler.getJob(j.id)) as Job));
      await eventually(async () => (await ended()).every((j) => j.status === 'failed'), 30_000, 'the jobs to fail', [clock]);
      const [real, long, thrownString] = await ended();
      expect(real?.error).toMatchObject({ name: 'Error', message: 'disk full', code: 'ENOSPC' });
      const stack = real?.error?.stack ?? '';
      expect(stack.startsWith('Error: disk full\n')).toBe(true);
      expect(stack).toContain('at deep');
      // 201 lines: cut to 30, and a last line says how much was cut.
      const lines = (long?.error?.stack ?? '').split('\n');
      expect(lines).toHaveLength(31);
      expect(lines[29]).toContain('at frame28 ');
      expect(lines[30]).toMatch(/^ {4}… \(\d+ more characters\)$/);
      expect(thrownString?.error).toEqual({ name: 'Error', message: 'not an error', code: null });
      // A list answer carries it too (the dashboard's jobs table reads lists).
      expect((await allJobs(scheduler, 'deep'))[0]?.error?.stack).toBe(stack);
      await scheduler.stop();
    });
  });
}
