/**
 * What users ask of jobs and occurrences outside the schedule: run a trigger now, publish an
 * event, cancel a job, retry a failed one. Each new occurrence goes through `Admission`, so it
 * runs here when this instance has the handler and room, else waits `pending` for one that has.
 */
import { JobNotFoundError, JobNotRetryableError, StoreError } from '../errors.js';
import { isFinalJobStatus, type Job, type JsonValue } from '../types.js';
import { newId } from '../util/id.js';
import { cloneJson } from '../util/clone.js';
import { retryKey } from '../util/retry-key.js';
import type { Admission } from './admission.js';
import type { EngineContext } from './context.js';
import { assertTransition, historyEntry } from './job-state.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { matchesFilter } from './outcome.js';
import type { TriggerWriter } from './trigger-writer.js';

/** Manual runs, events, cancels and retries. */
export class JobCommands {
  readonly #ctx: EngineContext;
  readonly #admission: Admission;
  readonly #leases: LeaseKeeper;
  readonly #triggers: TriggerWriter;

  constructor(ctx: EngineContext, admission: Admission, leases: LeaseKeeper, triggers: TriggerWriter) {
    this.#ctx = ctx;
    this.#admission = admission;
    this.#leases = leases;
    this.#triggers = triggers;
  }

  /**
   * A manual run of a trigger, with its own payload or (`undefined`) the trigger's. Keyed by
   * `runId` when given, so a repeat makes no second job.
   */
  async runTrigger(id: string, payload: JsonValue | undefined, runId?: string): Promise<Job> {
    const trigger = await this.#triggers.require(id);
    const now = this.#ctx.now();
    return this.#admission.admit(trigger, {
      source: 'manual',
      key: runId === undefined ? `manual:${newId()}` : `manual:${trigger.id}:${runId}`,
      scheduledFor: now,
      runAt: now,
      payload: payload === undefined ? trigger.payload : payload,
      event: null,
      upstream: null,
    });
  }

  /** A job for every active trigger of the event whose filter matches; keyed by the event id, so a repeat makes none. */
  async publish(event: string, payload: JsonValue, eventId: string): Promise<Job[]> {
    const triggers = await this.#ctx.store(() => this.#ctx.o.triggerStore.findByEvent(event), 'find event triggers');
    const now = this.#ctx.now();
    const jobs: Job[] = [];
    for (const trigger of triggers) {
      if (trigger.schedule.kind !== 'event' || !matchesFilter(trigger.schedule.filter, payload)) continue;
      jobs.push(
        await this.#admission.admit(trigger, {
          source: 'event',
          key: `event:${trigger.id}:${eventId}`,
          scheduledFor: now,
          runAt: now,
          payload,
          event: { name: event, id: eventId },
          upstream: null,
        }),
      );
    }
    return jobs;
  }

  /**
   * Cancel a job: a pending one at once, one running here by aborting it, one running elsewhere by
   * a flag its holder reads at its next renewal (on the job, and in the holder's instance lease). Retried while the job changes under the call.
   */
  async cancel(id: string): Promise<Job> {
    const { o } = this.#ctx;
    for (let attempt = 0; attempt < 5; attempt++) {
      const job = await this.#ctx.store(() => o.jobStore.get(id), 'get job');
      if (!job) throw new JobNotFoundError(id);
      if (isFinalJobStatus(job.status)) return job;
      const local = this.#leases.find(id);
      if (local) {
        local.abort({ kind: 'cancel' });
        await local.done;
        return (await o.jobStore.get(id)) ?? job;
      }
      if (job.status === 'pending') {
        assertTransition('pending', 'cancelled', id);
        const now = this.#ctx.now();
        const written = await this.#ctx.store(
          () =>
            o.jobStore.update(
              id,
              { status: ['pending'] },
              { status: 'cancelled', finishedAt: now, dependentsFired: true, gate: null },
              [historyEntry('cancelled', now, o.instanceId, 'cancelled by request')],
            ),
          'cancel job',
        );
        if (written) {
          this.#ctx.emit('job:cancelled', written);
          return written;
        }
        continue;
      }
      const flagged = await this.#ctx.store(() => o.jobStore.update(id, { status: ['running'] }, { cancelRequested: true }), 'flag job for cancel');
      if (flagged) {
        // A holder whose leases hang on its instance lease reads no job at renewal: tell it there.
        const holder = flagged.lease?.owner;
        const instances = this.#leases.registration.store;
        if (instances && holder !== undefined) await this.#ctx.store(() => instances.requestCancel(holder, id), 'ask the holder to cancel');
        return flagged;
      }
    }
    throw new StoreError(`job "${id}" kept changing while being cancelled`);
  }

  /** A failed or cancelled job again, as a new manual job of its trigger with the original's payload. */
  async retry(id: string): Promise<Job> {
    const original = await this.#ctx.store(() => this.#ctx.o.jobStore.get(id), 'get job');
    if (!original) throw new JobNotFoundError(id);
    if (original.status !== 'failed' && original.status !== 'cancelled') throw new JobNotRetryableError(id, original.status);
    const trigger = await this.#triggers.require(original.triggerId);
    const now = this.#ctx.now();
    return this.#admission.admit(trigger, {
      source: 'manual',
      key: retryKey(id, newId()),
      scheduledFor: now,
      runAt: now,
      payload: cloneJson(original.payload),
      event: null,
      upstream: null,
    });
  }
}
