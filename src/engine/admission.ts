/**
 * Turning one due occurrence into a job, by the trigger's policies: outside its window it is
 * recorded `skipped`; a capped trigger needs a permit (else `overlap` decides: skip, queue, or
 * wait as pending); with room here it starts at once under a lease, else it waits `pending` for
 * any instance. Manual runs, events, dependents and retries of jobs come this way, and so do the
 * scheduled slots the batch path (`SlotFirer`) cannot start at once.
 */
import type { Lease, SlotClaim } from '../ports.js';
import { isInWindow } from '../schedule/index.js';
import type { Job, JobSource, Trigger } from '../types.js';
import type { AttemptRunner } from './attempt-runner.js';
import type { EngineContext } from './context.js';
import type { Dispatcher } from './dispatcher.js';
import type { HandlerRegistration, Handlers, Place } from './handlers.js';
import { startingJob, waitingJob, type JobDraft } from './job-records.js';
import { historyEntry } from './job-state.js';
import { permitLimit, reasonFor } from './outcome.js';
import type { Permits } from './permits.js';
import type { SlotClaims } from './slot-claims.js';
import type { Timeline } from './timeline.js';

/** The collaborators admission hands on to. */
export interface AdmissionParts {
  handlers: Handlers;
  runner: AttemptRunner;
  dispatcher: Dispatcher;
  permits: Permits;
  claims: SlotClaims;
  timeline: Timeline;
}

/** Decides how an occurrence's job starts, and writes it. */
export class Admission {
  readonly #ctx: EngineContext;
  readonly #p: AdmissionParts;

  constructor(ctx: EngineContext, parts: AdmissionParts) {
    this.#ctx = ctx;
    this.#p = parts;
  }

  /** The handler to start an occurrence with here and now, room aside: none when it needs a permit or its window refuses it. */
  registrationToStartNow(trigger: Trigger, source: JobSource, scheduledFor: Date): HandlerRegistration | undefined {
    if (this.#ctx.state !== 'running' || permitLimit(trigger) !== null) return undefined;
    if (source !== 'manual' && trigger.window && !isInWindow(trigger.window, scheduledFor)) return undefined;
    return this.#p.handlers.usable(trigger);
  }

  /**
   * Turn a due occurrence into a job: apply the window and the overlap/concurrency policy, insert
   * the record (running with a lease when this instance has room, else pending) and run it. With
   * `slot`, the occurrence is a scheduled slot and the insert is its claim (see `SlotClaims`).
   */
  async admit(trigger: Trigger, draft: JobDraft, slot: SlotClaim | null = null): Promise<Job> {
    const { permits } = this.#p;
    const now = this.#ctx.now();
    if (draft.source !== 'manual' && trigger.window && !isInWindow(trigger.window, draft.scheduledFor)) {
      return this.#insertSkipped(trigger, draft, now, 'outside the trigger window', slot);
    }
    const limit = permitLimit(trigger);
    let permit: Lease | null = null;
    if (limit !== null && this.#ctx.state === 'running') {
      permit = await permits.acquire(trigger.id, limit);
      if (!permit) {
        if (trigger.overlap === 'skip') return this.#insertSkipped(trigger, draft, now, 'overlap: previous run still active', slot);
        if (trigger.overlap === 'queue') {
          const active = await this.#ctx.o.jobStore.countActive(trigger.id);
          if (active.pending > 0) return this.#insertSkipped(trigger, draft, now, 'overlap: a run is already queued', slot);
        }
        return this.#insertPending(trigger, draft, now, trigger.id, slot);
      }
    }
    const started = await this.#startHere(trigger, draft, now, slot, permit);
    return started ?? this.#insertPending(trigger, draft, now, limit === null ? null : trigger.id, slot);
  }

  /**
   * Store the occurrence's job running here and start it, if this instance can run it now; `null`
   * when it cannot (it is then stored as pending by the caller). Owns `permit` and the place it
   * takes: both go back in its `finally` unless the attempt started (then the attempt owns them).
   */
  async #startHere(trigger: Trigger, draft: JobDraft, now: Date, slot: SlotClaim | null, permit: Lease | null): Promise<Job | null> {
    const { handlers, permits } = this.#p;
    let place: Place | null = null;
    try {
      const registration = handlers.usable(trigger);
      // A job never starts before its time: one not due yet (a slot claimed ahead) waits as pending.
      const due = draft.runAt.getTime() <= now.getTime();
      if (!registration || this.#ctx.state !== 'running' || !due) return null;
      place = handlers.take(registration);
      if (!place) return null;
      const job = startingJob(this.#ctx.o, trigger, registration, draft, now, this.#ctx.leaseExpiry());
      const stored = await this.#storeOccurrence(trigger, job, slot);
      if (!stored.ours) return stored.job;
      this.#ctx.emit('job:scheduled', stored.job);
      this.#p.runner.start(this.#p.runner.newRun(stored.job, place, trigger, permit, null));
      return stored.job;
    } finally {
      if (!place?.handedOver) {
        place?.release();
        if (permit) await permits.release(permit);
      }
    }
  }

  /**
   * Insert an occurrence's job. `ours`: this instance wrote it (or an earlier try of this very
   * insert was stored but its answer lost) and, for a slot, holds the slot: it is to be reported
   * and run here. Otherwise `job` is what stands under its key (another instance's), or the
   * withdrawn job.
   */
  async #storeOccurrence(trigger: Trigger, job: Job, slot: SlotClaim | null): Promise<{ job: Job; ours: boolean }> {
    const { claims, timeline } = this.#p;
    let stored = await claims.insert(job);
    if (!stored) {
      const { existing, ours } = await claims.ownEarlierInsert(job);
      if (!ours || !existing) {
        if (slot && existing) await claims.advanceForOther(trigger, slot, existing);
        else if (slot) timeline.clearInFlight(slot.id);
        return { job: existing ?? job, ours: false };
      }
      stored = existing;
    }
    if (!slot) return { job: stored, ours: true };
    const outcome = await claims.advance(trigger, slot, job.scheduledFor, false);
    timeline.clearInFlight(slot.id);
    if (outcome.won) {
      if (outcome.trigger && outcome.trigger.nextRunAt !== null) timeline.enqueue(outcome.trigger, 'successor');
      return { job: stored, ours: true };
    }
    return { job: (await claims.withdraw(stored, outcome.why)) ?? stored, ours: false };
  }

  async #insertSkipped(trigger: Trigger, draft: JobDraft, now: Date, reason: string, slot: SlotClaim | null): Promise<Job> {
    const { instanceId } = this.#ctx.o;
    const job = waitingJob(this.#ctx.o, trigger, this.#p.handlers.get(trigger.handler) ?? null, draft, now, {
      status: 'skipped',
      permitLimit: null,
      finishedAt: now,
      dependentsFired: true,
      history: [historyEntry('pending', now, instanceId, reasonFor(draft.source)), historyEntry('skipped', now, instanceId, reason)],
    });
    const stored = await this.#storeOccurrence(trigger, job, slot);
    if (stored.ours) this.#ctx.emit('job:skipped', stored.job);
    return stored.job;
  }

  async #insertPending(trigger: Trigger, draft: JobDraft, now: Date, gate: string | null, slot: SlotClaim | null): Promise<Job> {
    const job = waitingJob(this.#ctx.o, trigger, this.#p.handlers.get(trigger.handler) ?? null, draft, now, {
      status: 'pending',
      gate,
      history: [historyEntry('pending', now, this.#ctx.o.instanceId, reasonFor(draft.source) + (gate ? '; waiting for a concurrency permit' : ''))],
    });
    const { job: stored, ours } = await this.#storeOccurrence(trigger, job, slot);
    if (!ours) return stored;
    this.#ctx.emit('job:scheduled', stored);
    const { dispatcher } = this.#p;
    dispatcher.notePending();
    if (gate === null && draft.runAt.getTime() > now.getTime()) this.#p.timeline.wakeAt(draft.runAt.getTime());
    else dispatcher.kick();
    return stored;
  }
}
