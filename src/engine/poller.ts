/**
 * The poll loop: every `pollIntervalMs` (backing off while the store fails) it renews this
 * instance's membership, loads the slots due within the look-ahead window into the timeline
 * (most polls only the part of the window that is new, a full read once per window length or
 * when the trigger store's change token says a trigger was added, changed or removed),
 * takes over slots their owner left unclaimed, refreshes the dependency index (on a full read), starts jobs that
 * wait for a permit, runs the maintenance chores, and wakes dispatch for pending jobs.
 *
 * The questions whose answer is the same for every instance (are pending jobs due, do jobs wait
 * for a permit, are slots overdue whoever owns them) are shared out: with n live members, each
 * asks them on every n-th of its polls, at its own place in the turn, so the cluster asks them
 * about once per `pollIntervalMs` whatever its size, and more instances do not mean more load on
 * the store than the work brings. Its own slots (`findDue`), its membership and the dependency
 * index (which decides whether an ending job owes dependents a run) each instance reads itself.
 */
import type { TimerHandle } from '../clock.js';
import { StoreError } from '../errors.js';
import type { EngineContext } from './context.js';
import type { Dependents } from './dependents.js';
import type { Dispatcher } from './dispatcher.js';
import type { Handlers } from './handlers.js';
import type { Maintenance } from './maintenance.js';
import type { Membership } from './membership.js';
import { toError } from './outcome.js';
import type { Timeline } from './timeline.js';

const MAX_POLL_BACKOFF_MS = 30_000;
/** Poll answers are queued this many triggers per event-loop turn. */
const ENQUEUE_CHUNK = 1000;

/** The collaborators a poll feeds. */
export interface PollerParts {
  handlers: Handlers;
  membership: Membership;
  timeline: Timeline;
  dispatcher: Dispatcher;
  dependents: Dependents;
  maintenance: Maintenance;
}

/** Polls the store. */
export class Poller {
  readonly #ctx: EngineContext;
  readonly #p: PollerParts;
  #timer: TimerHandle | null = null;
  #polling = false;
  #failures = 0;
  /** Up to where the window was read (`null`: next poll reads it all). */
  #polledUntil: number | null = null;
  #pollsSinceFull = 0;
  /** The trigger store's change token as the last poll read it (`null`: not read yet). */
  #changeToken: string | null = null;
  /** Polls since start, for sharing out the cluster-wide questions. */
  #polls = 0;
  /** Last successful poll. */
  lastPollAt: Date | null = null;
  /** Message of the last poll error, cleared by a successful poll. */
  lastPollError: string | null = null;

  constructor(ctx: EngineContext, parts: PollerParts) {
    this.#ctx = ctx;
    this.#p = parts;
  }

  /** Poll now, and from then on every period; the next poll reads the whole window. */
  async start(): Promise<void> {
    this.#polledUntil = null;
    this.#polls = 0;
    await this.poll();
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }

  async poll(): Promise<void> {
    if (this.#polling || this.#ctx.state !== 'running') return;
    const { o } = this.#ctx;
    const { membership, dispatcher, dependents, maintenance, timeline } = this.#p;
    this.#polling = true;
    try {
      const now = o.clock.now();
      const handlers = this.#p.handlers.usableNames();
      await maintenance.measureClock(now);
      // The members changed: another instance's triggers may be ours now (or ours theirs), and
      // slots skipped as someone else's sit inside the window a delta poll would not read again.
      if (o.ownership === 'rendezvous' && (await membership.refresh(this.#ctx.storeNow()))) {
        this.#polledUntil = null;
        timeline.dropUnowned(now);
      }
      timeline.measureDelay(now);
      const full = await this.#loadDue(now, handlers);
      const shared = this.#asksShared();
      this.#polls += 1;
      // A full poll read the overdue slots already; a delta poll does not look behind its window.
      // An instance behind or overloaded takes over nothing (Timeline.takesOver): no query either.
      if (!full && shared && membership.members.length > 1 && timeline.takesOverAny()) await this.#takeOverOverdue(now, handlers);
      // The dependency index changes with the triggers: read again on a full poll (the change
      // token moved, or once per window length in case a stamp was lost), or on every poll where
      // the store has no change token.
      if (full || !o.triggerStore.changeToken) await dependents.refresh();
      if (shared) await dispatcher.dispatchGated(now, handlers);
      await maintenance.maybeRun(now);
      this.lastPollAt = new Date(now);
      this.lastPollError = null;
      this.#failures = 0;
      // Pending jobs (of other instances too) are looked for only when one is due or falls due
      // before the next poll: a poll with nothing pending costs no claim attempt.
      const nextPending = shared ? ((await o.jobStore.nextPendingAt(handlers))?.getTime() ?? null) : null;
      if (nextPending !== null && nextPending <= now) dispatcher.pendingNow();
      else if (nextPending !== null && nextPending < now + o.pollIntervalMs * this.#shareEvery()) timeline.wakeAt(nextPending);
    } catch (error) {
      this.#failures += 1;
      this.lastPollError = toError(error).message;
      this.#ctx.fail(new StoreError(`poll failed: ${toError(error).message}`, { cause: error }));
    } finally {
      this.#polling = false;
      const backoff = Math.min(MAX_POLL_BACKOFF_MS, o.pollIntervalMs * 2 ** this.#failures);
      this.#schedule(this.#failures === 0 ? o.pollIntervalMs : backoff);
    }
  }

  /**
   * Every how many polls this instance asks the cluster-wide questions: once per live member that
   * can answer for it (has all its handlers: the pending queries are per handler).
   */
  #shareEvery(): number {
    if (this.#ctx.o.ownership !== 'rendezvous') return 1;
    return Math.max(1, this.#p.membership.countWith(this.#p.handlers.usableNames()));
  }

  /**
   * Whether this poll asks the cluster-wide questions: the first poll after a start does, then
   * every n-th with n live members, offset by this instance's rank among them so that the members
   * take turns rather than ask together.
   */
  #asksShared(): boolean {
    const every = this.#shareEvery();
    if (every === 1 || this.#polls === 0) return true;
    // Any distinct offset does: the rank among all members is one every member knows.
    const rank = Math.max(0, this.#p.membership.members.indexOf(this.#ctx.o.instanceId));
    return (this.#polls + rank) % every === 0;
  }

  #schedule(delayMs: number): void {
    if (this.#ctx.state !== 'running') return;
    this.#timer?.cancel();
    this.#timer = this.#ctx.o.clock.setTimer(() => void this.poll(), delayMs);
  }

  /**
   * Load due slots into the timeline. Most polls fetch only the part of the look-ahead window that
   * is new since the last poll; a full fetch also picks up what changed elsewhere inside the
   * window (a trigger another process added or changed) and anything left unclaimed: at once when
   * the trigger store's change token moved since the last poll, else once per window length.
   * Returns whether this was a full fetch.
   */
  async #loadDue(now: number, handlers: string[]): Promise<boolean> {
    const { o } = this.#ctx;
    const { timeline } = this.#p;
    const until = now + o.lookaheadMs;
    const fullEvery = Math.max(1, Math.ceil(o.lookaheadMs / o.pollIntervalMs));
    // Read before the fetch: a change landing during it moves the token again, for the next poll.
    const changed = await this.#triggersChanged();
    const full = this.#polledUntil === null || this.#pollsSinceFull >= fullEvery || changed;
    const after = full || this.#polledUntil === null ? undefined : new Date(this.#polledUntil);
    // Under rendezvous ownership, only this instance's share of the cluster's triggers (where the
    // store can filter on it): the poll's cost follows the work, not the work times the members.
    const own = o.ownership === 'rendezvous' ? (this.#p.membership.ownBuckets(handlers) ?? undefined) : undefined;
    const due = await o.triggerStore.findDue(new Date(until), o.pollBatchSize, handlers, after, timeline.holds, own);
    for (let i = 0; i < due.length; i++) {
      // A big answer is queued in chunks, letting due timers fire in between.
      if (i > 0 && i % ENQUEUE_CHUNK === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      timeline.enqueue(due[i]!, 'poll');
    }
    this.#pollsSinceFull = full ? 1 : this.#pollsSinceFull + 1;
    // A full batch may have left triggers due at the last instant it returned: look there again.
    const last = due.length >= o.pollBatchSize ? due[due.length - 1]?.nextRunAt : undefined;
    this.#polledUntil = last ? last.getTime() - 1 : until;
    return full;
  }

  /** Whether the trigger store's change token moved since the last poll read it (never on the first read). */
  async #triggersChanged(): Promise<boolean> {
    const store = this.#ctx.o.triggerStore;
    if (!store.changeToken) return false;
    const token = await store.changeToken();
    const changed = this.#changeToken !== null && token !== this.#changeToken;
    this.#changeToken = token;
    return changed;
  }

  /**
   * Slots still unclaimed `takeoverMs` (plus a few store round trips) after their time, whoever
   * owns them: their instance died (before its membership ran out), stalls, or is full. One query
   * per delta poll, usually empty.
   */
  async #takeOverOverdue(now: number, handlers: string[]): Promise<void> {
    const { o } = this.#ctx;
    const { timeline } = this.#p;
    const overdue = await o.triggerStore.findDue(new Date(now - this.#ctx.takeoverAfterMs()), o.pollBatchSize, handlers, undefined, timeline.holds);
    for (const trigger of overdue) timeline.enqueue(trigger, 'poll');
  }
}
