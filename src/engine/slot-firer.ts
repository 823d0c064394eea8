/**
 * Firing a batch of due slots, the hot path of a schedule. The job record is the claim: each
 * slot's job is inserted first, under the slot's unique key (in one store call where the store
 * can), and only then is the trigger advanced past the slot (again in one call), as a hint that
 * any instance may repair. An instance that dies between the two leaves a job (recovered as a
 * stall) and a trigger still at the slot, which the next instance to fire it finds taken and
 * advances: no slot is lost, whatever the instant of the crash. Occurrences that need more (a
 * window, a concurrency permit, no room here) go through `Admission` one by one, in order.
 */
import { StoreError } from '../errors.js';
import type { SlotClaim } from '../ports.js';
import type { Job, Trigger } from '../types.js';
import { cloneJson } from '../util/clone.js';
import type { Admission } from './admission.js';
import type { AttemptRunner } from './attempt-runner.js';
import type { EngineContext } from './context.js';
import type { Handlers, Place, Run } from './handlers.js';
import { startingJob, type JobDraft } from './job-records.js';
import { misfirePlan, type MisfirePlan } from './misfire.js';
import { toError } from './outcome.js';
import { asClaimed } from './running-job.js';
import type { SlotClaims } from './slot-claims.js';
import type { SlotEntry, Timeline } from './timeline.js';

/** The collaborators the firer hands on to. */
export interface SlotFirerParts {
  handlers: Handlers;
  runner: AttemptRunner;
  claims: SlotClaims;
  admission: Admission;
  timeline: Timeline;
}

/** Takes due slots and starts their jobs. */
export class SlotFirer {
  readonly #ctx: EngineContext;
  readonly #p: SlotFirerParts;

  constructor(ctx: EngineContext, parts: SlotFirerParts) {
    this.#ctx = ctx;
    this.#p = parts;
  }

  /** Fire a batch of due slots (each marked in flight in the timeline). */
  async fire(entries: SlotEntry[]): Promise<void> {
    try {
      await this.#takeSlots(entries);
    } catch (error) {
      // Not a store answer (those are handled per slot): a bug or a corrupt record. Report it and
      // let the next poll bring the slots again.
      for (const entry of entries) this.#p.timeline.clearInFlight(entry.trigger.id);
      this.#ctx.fail(new StoreError(`firing ${entries.length} slots failed: ${toError(error).message}`, { cause: error }));
    }
  }

  async #takeSlots(entries: SlotEntry[]): Promise<void> {
    const { o } = this.#ctx;
    const { handlers, admission, timeline } = this.#p;
    const now = this.#ctx.now();
    const expiresAt = this.#ctx.leaseExpiry();
    const ready: Run[] = [];
    const skips: Array<{ trigger: Trigger; claim: SlotClaim }> = [];
    let slot = new Date(Number.NaN);
    for (const entry of entries) {
      const { trigger } = entry;
      // Slots of a batch mostly share their instant (a herd): they share its Date too.
      if (slot.getTime() !== entry.slot) slot = new Date(entry.slot);
      let plan: MisfirePlan;
      try {
        plan = misfirePlan(trigger, slot, now, o.misfireGraceMs, o.maxMisfireRuns);
      } catch (error) {
        timeline.clearInFlight(trigger.id);
        this.#ctx.fail(new StoreError(`firing ${trigger.id} at ${slot.toISOString()} failed: ${toError(error).message}`, { cause: error }));
        continue;
      }
      const fireFor = plan.fireFor;
      const claim: SlotClaim = {
        id: trigger.id,
        slot,
        expectedVersion: trigger.version,
        update: { nextRunAt: plan.next, lastRunAt: fireFor ?? slot, status: plan.next === null ? 'completed' : 'active', updatedAt: now },
      };
      if (fireFor === null) {
        // Skipped as a misfire: nothing to run, so nothing to lose; the advance alone decides.
        skips.push({ trigger, claim });
        continue;
      }
      // Keyed by the slot taken, not the one fired for (a late slot may fire for a later one):
      // every instance taking this slot, whenever, tries the same key. Its own copy of the
      // payload: the trigger copy is kept for the next slot, and a handler may change its payload.
      const draft: JobDraft = { source: 'schedule', key: this.#p.claims.slotKey(claim.id, slot), scheduledFor: fireFor, runAt: fireFor, payload: cloneJson(trigger.payload), event: null, upstream: null };
      const registration = admission.registrationToStartNow(trigger, 'schedule', fireFor);
      const place = registration ? handlers.take(registration) : null;
      if (place) {
        // Owned by the batch from here (see `#insertAndAdvance`) until its attempt starts.
        ready.push(this.#newRun(trigger, place, draft, claim, entry.at, now, expiresAt));
        continue;
      }
      this.#ctx.track(
        admission.admit(asClaimed(trigger, claim), draft, claim).catch((error: unknown) => {
          timeline.clearInFlight(claim.id);
          this.#ctx.fail(new StoreError(`firing ${claim.id} at ${fireFor.toISOString()} failed: ${toError(error).message}`, { cause: error }));
        }),
      );
    }
    await Promise.all([this.#insertAndAdvance(ready), this.#skipSlots(skips)]);
  }

  /**
   * The attempt of a won slot that can start here: its job record, running with a lease. A slot
   * claimed ahead (`startAt` still to come) is prepared: its job says it starts at `startAt`, and
   * it waits in the runner until then.
   */
  #newRun(trigger: Trigger, place: Place, draft: JobDraft, claim: SlotClaim, startAt: number, now: Date, expiresAt: Date): Run {
    const ahead = startAt > now.getTime();
    const startsAt = !ahead ? now : startAt === draft.scheduledFor.getTime() ? draft.scheduledFor : new Date(startAt);
    const run = this.#p.runner.newRun(startingJob(this.#ctx.o, trigger, place.registration, draft, now, expiresAt, startsAt), place, trigger, null, claim);
    if (ahead) run.startAt = startAt;
    return run;
  }

  /**
   * The slots whose jobs start here: insert the jobs (the claims), advance their triggers, then
   * start them (or queue those prepared ahead). A slot found taken is someone else's: its trigger
   * is advanced for them if it still stands at the slot. The batch owns the places of its runs:
   * whatever did not start by the end, on any path, errors included, gives its place back.
   */
  async #insertAndAdvance(runs: Run[]): Promise<void> {
    if (runs.length === 0) return;
    try {
      await this.#claimAndLaunch(runs);
    } finally {
      for (const run of runs) run.place.releaseUnlessHandedOver();
    }
  }

  async #claimAndLaunch(runs: Run[]): Promise<void> {
    const { claims } = this.#p;
    let stored: Array<Job | null>;
    let tries = 0;
    try {
      stored = await this.#ctx.retryStore(() => {
        tries += 1;
        return claims.insertJobs(runs.map((run) => run.job));
      });
    } catch (error) {
      // Nothing is known to be written: the triggers still stand at their slots for the next poll.
      for (const run of runs) this.#dropUnclaimed(run);
      this.#ctx.fail(new StoreError(`could not insert ${runs.length} jobs: ${toError(error).message}`, { cause: error }));
      return;
    }
    const held: Run[] = [];
    const taken: Array<Promise<void>> = [];
    const others: Run[] = [];
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      if (stored[i]) held.push(run);
      else if (tries === 1) others.push(run);
      else taken.push(this.#keyTaken(run, held));
    }
    if (others.length > 0) taken.push(this.#takenByOthers(others));
    if (taken.length > 0) await Promise.all(taken);
    if (held.length === 0) return;
    const won = await claims.claimSlots(held.map((run) => run.claim!));
    const lost: Array<Promise<void>> = [];
    for (let i = 0; i < held.length; i++) {
      const run = held[i]!;
      const answer = won[i];
      if (answer === true) this.#hold(run, asClaimed(run.trigger!, run.claim!));
      // The job is the claim: it runs. Its trigger stands at the slot until the next instance to
      // fire it finds the key taken and advances it.
      else if (answer instanceof Error) this.#hold(run, null);
      else lost.push(this.#confirmLostAdvance(run));
    }
    if (lost.length > 0) await Promise.all(lost);
  }

  /**
   * A batch insert found a job's key taken: an earlier try of this very insert was stored but its
   * answer lost (then the job is ours and `held` gets it), or the slot is someone else's (then
   * its trigger is advanced for them, if it still stands there).
   */
  async #keyTaken(run: Run, held: Run[]): Promise<void> {
    const { claims, timeline } = this.#p;
    try {
      const { existing, ours } = await claims.ownEarlierInsert(run.job);
      if (ours && existing) {
        // The stored record takes the run's place with it.
        const stored = this.#p.runner.newRun(existing, run.place, run.trigger, null, run.claim);
        stored.startAt = run.startAt;
        held.push(stored);
        return;
      }
      if (existing) await claims.advanceForOther(run.trigger!, run.claim!, existing);
      else timeline.clearInFlight(run.claim!.id);
    } catch (error) {
      this.#dropUnclaimed(run);
      this.#ctx.fail(new StoreError(`reading job ${run.job.key} failed: ${toError(error).message}`, { cause: error }));
    }
  }

  /**
   * Keys taken at the first try of the insert: no earlier try of ours exists, so the jobs stored
   * under them are other instances', for the same slots. Their triggers are advanced for them
   * (in one batch) without reading those jobs first (a read by key is a scan of the whole
   * collection on FerretDB, and under load every slot a late owner and a taker both fire costs one).
   */
  async #takenByOthers(runs: Run[]): Promise<void> {
    await this.#p.claims.advanceAllForOthers(runs.map((run) => ({ trigger: run.trigger!, claim: run.claim!, scheduledFor: run.job.scheduledFor })));
  }

  /** An attempt whose slot was not taken after all: its trigger left for the next poll (its place goes back with the batch). */
  #dropUnclaimed(run: Run): void {
    if (run.claim) this.#p.timeline.clearInFlight(run.claim.id);
  }

  /**
   * A slot is held (its job stored, its trigger advanced, or left for repair when `claimed` is
   * `null`): queue the trigger's next slot and start the attempt. A slot claimed ahead queues
   * its successor once it starts (one slot ahead at a time); meanwhile the in-flight marker holds
   * the trigger as the claim left it, so a poll does not queue that slot either.
   */
  #hold(run: Run, claimed: Trigger | null): void {
    const { timeline } = this.#p;
    if (claimed && claimed.nextRunAt !== null && run.startAt > 0) {
      run.successor = claimed;
      timeline.holdInFlight(claimed as Trigger & { nextRunAt: Date });
    } else {
      // Not queued (its next slot is beyond the window, or it has none): the next polls bring it.
      if (claimed && claimed.nextRunAt !== null) timeline.enqueue(claimed, 'successor');
      timeline.clearInFlight(run.job.triggerId);
    }
    this.#p.runner.launch(run);
  }

  /** The advance of a slot whose job is stored here was refused: find out why, and run or withdraw the job. */
  async #confirmLostAdvance(run: Run): Promise<void> {
    const outcome = await this.#p.claims.advance(run.trigger!, run.claim!, run.job.scheduledFor, true);
    if (outcome.won) {
      this.#hold(run, outcome.trigger);
      return;
    }
    this.#dropUnclaimed(run);
    await this.#p.claims.withdraw(run.job, outcome.why);
  }

  /** Slots skipped as misfires: the advance alone. */
  async #skipSlots(skips: Array<{ trigger: Trigger; claim: SlotClaim }>): Promise<void> {
    if (skips.length === 0) return;
    const { timeline } = this.#p;
    const won = await this.#p.claims.claimSlots(skips.map((skip) => skip.claim));
    for (let i = 0; i < skips.length; i++) {
      const { trigger, claim } = skips[i]!;
      timeline.clearInFlight(claim.id);
      if (won[i] !== true) continue;
      if (claim.update.nextRunAt !== null) timeline.enqueue(asClaimed(trigger, claim), 'successor');
      this.#ctx.o.logger.info({ triggerId: claim.id, slot: claim.slot, skippedTo: claim.update.nextRunAt }, 'misfired slot skipped');
      this.#ctx.emit('slot:missed', { triggerId: claim.id, handler: trigger.handler, slot: claim.slot, count: 1, reason: 'misfire' });
    }
  }
}
