/**
 * The store side of taking a slot. The job record is the claim: a slot's job is inserted under
 * its unique key first, and the trigger is advanced past the slot after, as a hint any instance
 * may repair. These are the steps both the batch path (`SlotFirer`) and the one-by-one path
 * (`Admission`) share: advancing (and finding out why an advance was refused), repairing the
 * trigger of a slot someone else took, and withdrawing a job whose slot was paused away.
 */
import { StoreError } from '../errors.js';
import type { JobCondition, SlotClaim } from '../ports.js';
import type { Job, Trigger } from '../types.js';
import type { EngineContext } from './context.js';
import { runningCondition } from './job-records.js';
import { assertTransition, historyEntry } from './job-state.js';
import { toError } from './outcome.js';
import { asClaimed } from './running-job.js';
import type { Timeline } from './timeline.js';

/** What an advance found: the slot is this instance's (with the trigger to queue next, if any) or was withdrawn. */
export type AdvanceOutcome = { won: true; trigger: Trigger | null } | { won: false; why: string };

/** Slot-claim steps against the stores. */
export class SlotClaims {
  readonly #ctx: EngineContext;
  readonly #timeline: Timeline;
  #lastSlotIso = { at: Number.NaN, iso: '' };

  constructor(ctx: EngineContext, timeline: Timeline) {
    this.#ctx = ctx;
    this.#timeline = timeline;
  }

  /**
   * The job key of a trigger's slot. Slots that fire together mostly share their instant (a cron
   * herd, a backlog of one-shots), so the last instant's ISO form is kept rather than made again.
   */
  slotKey(triggerId: string, slot: Date): string {
    const at = slot.getTime();
    if (at !== this.#lastSlotIso.at) this.#lastSlotIso = { at, iso: slot.toISOString() };
    return `slot:${triggerId}:${this.#lastSlotIso.iso}`;
  }

  /** Insert jobs (in one store call where the store can); `null` for each whose key was taken. */
  async insertJobs(jobs: Job[]): Promise<Array<Job | null>> {
    const { jobStore: store, clock } = this.#ctx.o;
    const began = clock.now();
    const stored = await (store.insertMany ? store.insertMany(jobs) : Promise.all(jobs.map((job) => store.insert(job))));
    // The round trip that brings in new work: what backpressure measures the store by.
    this.#ctx.onRoundTrip(clock.now() - began);
    return stored;
  }

  /** Insert one job, retrying store errors a few times: its slot is being taken, so the job must land. */
  async insert(job: Job): Promise<Job | null> {
    try {
      return await this.#ctx.retryStore(() => this.#ctx.o.jobStore.insert(job));
    } catch (error) {
      throw new StoreError(`could not insert job ${job.key}: ${toError(error).message}`, { cause: error });
    }
  }

  /**
   * An insert found the job's key taken: another instance won the occurrence, or an earlier try of
   * this very insert was stored but its answer was lost. Returns the stored job with that key and
   * whether it is this job still waiting to run (same id, running under this lease): only then is
   * it ours to start rather than to leave for lease recovery.
   */
  async ownEarlierInsert(job: Job): Promise<{ existing: Job | null; ours: boolean }> {
    const existing = await this.#ctx.o.jobStore.getByKey(job.key);
    const ours = existing !== null && existing.id === job.id && existing.status === 'running' && existing.lease?.token === job.lease?.token;
    return { existing, ours };
  }

  /** Advance triggers past their slots (in one store call where the store can): whether each won, or the error that stopped it. */
  async claimSlots(claims: SlotClaim[]): Promise<Array<boolean | Error>> {
    const store = this.#ctx.o.triggerStore;
    if (store.claimSlots) {
      try {
        return await store.claimSlots(claims);
      } catch (error) {
        return claims.map(() => toError(error));
      }
    }
    const settled = await Promise.allSettled(claims.map((claim) => store.claimSlot(claim.id, claim.slot, claim.expectedVersion, claim.update)));
    return settled.map((result) => (result.status === 'fulfilled' ? result.value !== null : toError(result.reason)));
  }

  /**
   * Advance a trigger past a slot whose job this instance stored. Refused, the trigger is read
   * again: claimed past the slot already (another instance found the key taken and advanced it,
   * and maybe claimed later slots since) the slot is ours all the same; still at the slot
   * (changed meanwhile, say a payload edit) the advance is tried on the new version; moved
   * elsewhere, the job runs all the same; paused or removed, the slot was withdrawn before it was
   * taken. A store error leaves the trigger at the slot for repair, and the job stands.
   *
   * @param refusedOnce the first advance was already tried (in a batch) and refused
   */
  async advance(trigger: Trigger, claim: SlotClaim, fireFor: Date, refusedOnce: boolean): Promise<AdvanceOutcome> {
    const store = this.#ctx.o.triggerStore;
    let current = trigger;
    let attempt = claim;
    for (let round = 0; round < 4; round++) {
      try {
        if ((round > 0 || !refusedOnce) && (await store.claimSlot(attempt.id, attempt.slot, attempt.expectedVersion, attempt.update))) {
          return { won: true, trigger: asClaimed(current, attempt) };
        }
        const fresh = await store.get(claim.id);
        if (!fresh) return { won: false, why: 'removed' };
        // Claimed past this slot already: by an instance that found its key taken (a repair), and
        // maybe for later slots since. A user's change leaves `lastRunAt` where it was, before it.
        if (fresh.lastRunAt !== null && fresh.lastRunAt.getTime() >= fireFor.getTime()) {
          return { won: true, trigger: fresh.status === 'active' ? fresh : null };
        }
        if (fresh.status === 'paused') return { won: false, why: 'paused' };
        // Moved elsewhere by a change (a new schedule), or, on a server without atomic updates, by
        // a racing write undoing another: the slot was due when its job was written, so it runs
        // (as a slot claimed ahead does); only a pause or a removal withdraws it.
        if (fresh.status !== 'active' || fresh.nextRunAt?.getTime() !== claim.slot.getTime()) return { won: true, trigger: null };
        current = fresh;
        attempt = { ...claim, expectedVersion: fresh.version };
      } catch (error) {
        this.#ctx.o.logger.warn({ triggerId: claim.id, error: toError(error).message }, 'advancing a trigger past a taken slot failed; the next poll repairs it');
        return { won: true, trigger: null };
      }
    }
    return { won: true, trigger: null };
  }

  /**
   * Another instance holds this slot's job: advance the trigger past the slot for it, in case it
   * died before doing so (its job is recovered as a stall). A refused advance means it did.
   * `existing` is that job, or what is known of it without reading it (its id unknown).
   */
  async advanceForOther(trigger: Trigger, claim: SlotClaim, existing: Pick<Job, 'scheduledFor'> & { id: string | null }): Promise<void> {
    const { logger, triggerStore } = this.#ctx.o;
    const repair: SlotClaim = { ...claim, update: { ...claim.update, lastRunAt: existing.scheduledFor } };
    try {
      if (await triggerStore.claimSlot(repair.id, repair.slot, repair.expectedVersion, repair.update)) {
        logger.info({ triggerId: claim.id, slot: claim.slot.toISOString(), jobId: existing.id }, 'advanced a trigger past a slot another instance took');
        this.#timeline.clearInFlight(claim.id);
        if (repair.update.nextRunAt !== null) this.#timeline.enqueue(asClaimed(trigger, repair), 'successor');
        return;
      }
    } catch (error) {
      logger.warn({ triggerId: claim.id, error: toError(error).message }, 'advancing a trigger past a taken slot failed; the next poll tries again');
    }
    this.#timeline.clearInFlight(claim.id);
  }

  /**
   * `advanceForOther` for several slots whose keys were found taken at the first try of their
   * insert (so by another instance), in one `claimSlots` call where the store has it.
   */
  async advanceAllForOthers(taken: Array<{ trigger: Trigger; claim: SlotClaim; scheduledFor: Date }>): Promise<void> {
    if (taken.length === 0) return;
    const repairs = taken.map(({ claim, scheduledFor }): SlotClaim => ({ ...claim, update: { ...claim.update, lastRunAt: scheduledFor } }));
    const won = await this.claimSlots(repairs);
    for (let i = 0; i < taken.length; i++) {
      const repair = repairs[i]!;
      const answer = won[i];
      this.#timeline.clearInFlight(repair.id);
      if (answer instanceof Error) {
        this.#ctx.o.logger.warn({ triggerId: repair.id, error: answer.message }, 'advancing a trigger past a taken slot failed; the next poll tries again');
      } else if (answer) {
        this.#ctx.o.logger.info({ triggerId: repair.id, slot: repair.slot.toISOString(), jobId: null }, 'advanced a trigger past a slot another instance took');
        if (repair.update.nextRunAt !== null) this.#timeline.enqueue(asClaimed(taken[i]!.trigger, repair), 'successor');
      }
    }
  }

  /** A stored job whose slot was withdrawn before it was taken (the trigger was paused, changed or removed): recorded `skipped`, never run. */
  async withdraw(job: Job, why: string): Promise<Job | null> {
    if (job.status === 'skipped') return job;
    const at = this.#ctx.now();
    assertTransition(job.status, 'skipped', job.id);
    const condition: JobCondition = job.status === 'running' ? runningCondition(job.lease?.token ?? job.fence) : { status: [job.status] };
    try {
      const written = await this.#ctx.retryStore(() =>
        this.#ctx.o.jobStore.update(
          job.id,
          condition,
          { status: 'skipped', lease: null, attempts: 0, startedAt: null, finishedAt: at, dependentsFired: true, gate: null },
          [historyEntry('skipped', at, this.#ctx.o.instanceId, `slot withdrawn: the trigger was ${why} while its slot was being taken; not run`)],
        ),
      );
      if (written) this.#ctx.emit('job:skipped', written);
      return written;
    } catch (error) {
      // Left running under this lease, which nobody renews: recovered (and run) after it expires.
      this.#ctx.fail(new StoreError(`withdrawing job ${job.id} failed: ${toError(error).message}`, { cause: error }));
      return null;
    }
  }
}
