/**
 * Dependent triggers (`schedule: { after }`): which triggers wait on which, kept from the store's
 * dependency edges at every poll and from local changes at once; firing them when an upstream
 * job ends; and the check that a new dependency names a trigger that exists and closes no cycle.
 */
import { InvalidTriggerConfigError } from '../errors.js';
import type { Job, Trigger } from '../types.js';
import type { Admission } from './admission.js';
import type { EngineContext } from './context.js';
import { addTo, conditionMet } from './outcome.js';

/** The dependency index and the firing of dependents. */
export class Dependents {
  readonly #ctx: EngineContext;
  readonly #admission: Admission;
  // upstream trigger id -> ids of the triggers that run after it
  readonly #byUpstream = new Map<string, Set<string>>();

  constructor(ctx: EngineContext, admission: Admission) {
    this.#ctx = ctx;
    this.#admission = admission;
  }

  /** Whether some trigger runs after this one's jobs. */
  has(triggerId: string): boolean {
    return (this.#byUpstream.get(triggerId)?.size ?? 0) > 0;
  }

  /** Reload the index from the store's edges (at every full poll: other instances add dependents too). */
  async refresh(): Promise<void> {
    const edges = await this.#ctx.o.triggerStore.dependencyEdges();
    this.#byUpstream.clear();
    for (const edge of edges) addTo(this.#byUpstream, edge.after, edge.id);
  }

  /** A trigger was added or changed here. */
  note(trigger: Trigger): void {
    if (trigger.schedule.kind === 'after') addTo(this.#byUpstream, trigger.schedule.after, trigger.id);
  }

  /** A trigger was removed here, or its schedule changed away from this dependency. */
  forget(trigger: Trigger): void {
    if (trigger.schedule.kind === 'after') this.#byUpstream.get(trigger.schedule.after)?.delete(trigger.id);
  }

  /** Fire the triggers that run after `upstream`'s trigger when its end meets their condition, then mark it fired. */
  async fire(upstream: Job): Promise<void> {
    const dependents = await this.#ctx.o.triggerStore.findDependents(upstream.triggerId);
    const now = this.#ctx.now();
    for (const trigger of dependents) {
      if (trigger.schedule.kind !== 'after' || !conditionMet(trigger.schedule.on, upstream.status)) continue;
      await this.#admission.admit(trigger, {
        source: 'dependency',
        key: `after:${trigger.id}:${upstream.id}`,
        scheduledFor: now,
        runAt: now,
        payload: trigger.payload,
        event: null,
        upstream: { jobId: upstream.id, triggerId: upstream.triggerId, status: upstream.status },
      });
    }
    await this.#ctx.o.jobStore.update(upstream.id, {}, { dependentsFired: true });
  }

  /** Ended jobs whose dependents were never fired (their instance died first): fire them now. */
  async fireUnfired(now: number): Promise<void> {
    const jobs = await this.#ctx.o.jobStore.findUnfiredDependents(new Date(now - this.#ctx.o.leaseMs), 100);
    for (const job of jobs) await this.fire(job);
  }

  /** Reject an `after` dependency on a missing trigger or one that closes a cycle. */
  async assertValid(trigger: Trigger): Promise<void> {
    if (trigger.schedule.kind !== 'after') return;
    const store = this.#ctx.o.triggerStore;
    const upstream = trigger.schedule.after;
    if (upstream === trigger.id) throw new InvalidTriggerConfigError('schedule.after', 'a trigger cannot depend on itself');
    const exists = await this.#ctx.store(() => store.get(upstream), 'get trigger');
    if (!exists) throw new InvalidTriggerConfigError('schedule.after', `trigger "${upstream}" does not exist`);
    const edges = await this.#ctx.store(() => store.dependencyEdges(), 'read dependencies');
    const parentOf = new Map<string, string>();
    for (const edge of edges) if (edge.id !== trigger.id) parentOf.set(edge.id, edge.after);
    parentOf.set(trigger.id, upstream);
    const seen = new Set<string>();
    for (let cursor: string | undefined = trigger.id; cursor !== undefined; cursor = parentOf.get(cursor)) {
      if (seen.has(cursor)) {
        throw new InvalidTriggerConfigError('schedule.after', `depending on "${upstream}" would make a cycle: ${[...seen, cursor].join(' -> ')}`);
      }
      seen.add(cursor);
    }
  }
}
