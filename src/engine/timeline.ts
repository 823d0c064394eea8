/**
 * The slots due on this instance within `lookaheadMs`: a binary min-heap by the time to act,
 * one timer armed on its head, and per trigger the one slot queued for it (a heap entry whose
 * sequence number differs is stale and dropped when it surfaces). When the head comes due the
 * due slots are handed to the firer in batches, no more than the instance has room for.
 */
import type { TimerHandle } from '../clock.js';
import { BinaryHeap } from '../queue/binary-heap.js';
import { slotJitter } from '../schedule/index.js';
import type { Trigger } from '../types.js';
import type { EngineContext } from './context.js';
import type { Handlers } from './handlers.js';
import type { Membership } from './membership.js';
import { permitLimit } from './outcome.js';

/** A trigger's slot waiting in the heap. */
export interface SlotEntry {
  kind: 'slot';
  /** When the slot's job is to start (the slot, plus jitter or a hand-off delay). */
  at: number;
  /** When to act on it: `at`, or `at - leadMs` for a slot claimed ahead (see `leadMs`). */
  act: number;
  priority: number;
  seq: number;
  slot: number;
  trigger: Trigger;
}

/** A moment to look for pending jobs (a retry or a pending job falling due before the next poll). */
interface WakeEntry {
  kind: 'wake';
  at: number;
  act: number;
  priority: number;
  seq: number;
}

type HeapEntry = SlotEntry | WakeEntry;

/** How a slot came to be queued (see `enqueue`). */
export type EnqueueOrigin = 'poll' | 'local' | 'successor';

/** Where due slots and wake-ups go. */
export interface TimelineSink {
  /** Fire a batch of due slots; each is marked in flight until its claim settles. */
  fire(batch: SlotEntry[]): Promise<void>;
  /** A wake-up came due: pending jobs may be waiting. */
  wake(): void;
  /** A drain begins: an event-loop turn of the engine's own (a timer or an immediate). */
  newTurn(): void;
}

/** Slots fired per event-loop turn before yielding. */
const FIRE_BATCH = 64;
/** How much later than its owner an instance fires a trigger it holds but does not own. */
const HANDOFF_DELAY_MS = 25;
/** The `queued` seq of a slot whose claim is in flight. */
const IN_FLIGHT = -1;

/** The due-slot heap and its timer. */
export class Timeline {
  readonly #ctx: EngineContext;
  readonly #handlers: Handlers;
  readonly #membership: Membership;
  readonly #sink: TimelineSink;
  readonly #heap = new BinaryHeap<HeapEntry>((a, b) => a.act - b.act || b.priority - a.priority || a.seq - b.seq);
  // triggerId -> seq of its live heap entry; an entry whose seq differs is stale.
  readonly #queued = new Map<string, { seq: number; slot: number; version: number }>();
  #seq = 0;
  /** Behind with its own slots at the last poll's start (`measureDelay`): takes over none then. */
  #behind = false;
  #timer: TimerHandle | null = null;
  #timerAt = Number.POSITIVE_INFINITY;
  /** Slots handed to the firer whose claims are still in flight. */
  #firing = 0;
  #drainScheduled = false;
  #blockedOnCapacity = false;

  constructor(ctx: EngineContext, handlers: Handlers, membership: Membership, sink: TimelineSink) {
    this.#ctx = ctx;
    this.#handlers = handlers;
    this.#membership = membership;
    this.#sink = sink;
  }

  /** Triggers with a slot queued (or in flight) here. */
  get size(): number {
    return this.#queued.size;
  }

  /**
   * Put a trigger's next slot in the heap if it is due within the look-ahead window.
   *
   * With several members (`ownership: 'rendezvous'`): a poll brings only the triggers this
   * instance owns, or slots overdue by `takeoverMs` and a few store round trips (their owner died, stalls or is full). A
   * trigger added or changed here is queued here whoever owns it (the others see it only at their
   * next full poll), and so is the successor of a slot claimed here: an instance that fired a
   * trigger keeps firing it until it loses a claim, so no slot waits for the owner to learn of
   * the trigger. Successors of triggers owned elsewhere fire `HANDOFF_DELAY_MS` late, so that once
   * the owner holds the trigger too it wins the race and the other drops out.
   */
  enqueue(trigger: Trigger, origin: EnqueueOrigin): void {
    const { o } = this.#ctx;
    if (this.#ctx.state !== 'running' || trigger.status !== 'active' || trigger.nextRunAt === null) return;
    if (!this.#handlers.has(trigger.handler)) return;
    const slot = trigger.nextRunAt.getTime();
    const now = o.clock.now();
    if (slot > now + o.lookaheadMs) return;
    const owned = origin === 'local' || this.#membership.owns(trigger.id, trigger.handler);
    if (!owned && origin === 'poll' && !this.takesOver(slot, now)) return;
    const queued = this.#queued.get(trigger.id);
    if (queued && (trigger.version < queued.version || (queued.slot === slot && queued.version >= trigger.version))) return;
    const seq = this.#seq++;
    const at = slot + (trigger.jitterMs > 0 ? slotJitter(trigger.jitterMs) : 0) + (owned || origin === 'poll' ? 0 : HANDOFF_DELAY_MS);
    const act = o.leadMs > 0 && leadsAhead(trigger) ? at - o.leadMs : at;
    if (queued) {
      queued.seq = seq;
      queued.slot = slot;
      queued.version = trigger.version;
    } else {
      this.#queued.set(trigger.id, { seq, slot, version: trigger.version });
    }
    this.#heap.push({ kind: 'slot', at, act, priority: trigger.priority, seq, slot, trigger });
    if (act < this.#timerAt) this.#arm();
  }

  /**
   * Whether a slot another instance owns is taken over here: once it is overdue by the takeover
   * delay, unless this instance is itself that far behind with its own slots, or overloaded (the
   * store answers it too slowly: it takes less new work). Then what holds the owner up most likely
   * holds this instance up too (a slow store, more work than the cluster has room for), and racing
   * the owner for its slots would only add claims that lose, in the store's queue. A dead owner's
   * slots come back once its membership runs out: they have a live owner then.
   */
  takesOver(slot: number, now: number): boolean {
    return this.takesOverAny() && slot <= now - this.#ctx.takeoverAfterMs();
  }

  /** Whether this instance takes over any slot now (neither behind at the last poll's start nor overloaded). */
  takesOverAny(): boolean {
    return !this.#behind && !this.#ctx.overloaded();
  }

  /**
   * The members changed: slots queued here that another instance owns now, and that are not
   * overdue enough to take over, are dropped (claims on their way stay). After a change every
   * instance reads its whole window again, so the owner queues them; kept here, they would race
   * the owner's claims at every slot (all of them, when this instance started alone and owned all).
   */
  dropUnowned(now: number): void {
    const others: string[] = [];
    this.#heap.visitWhile(
      () => true,
      (entry) => {
        if (entry.kind === 'slot' && this.#isLive(entry) && !this.#membership.owns(entry.trigger.id, entry.trigger.handler) && !this.takesOver(entry.slot, now)) others.push(entry.trigger.id);
      },
    );
    for (const id of others) this.#queued.delete(id);
  }

  /**
   * At the start of a poll: whether this instance is behind, its earliest waiting slot past its
   * time by the takeover delay. Measured once per poll, before the poll queues anything: the
   * overdue slots a poll takes over would otherwise count as this instance's own delay.
   */
  measureDelay(now: number): void {
    const head = this.#liveHead();
    this.#behind = head?.kind === 'slot' && head.at <= now - this.#ctx.takeoverAfterMs();
  }

  /** The heap's first live entry (dead ones at the top are dropped on the way). */
  #liveHead(): HeapEntry | undefined {
    let head = this.#heap.peek();
    while (head && !this.#isLive(head)) {
      this.#heap.pop();
      head = this.#heap.peek();
    }
    return head;
  }

  /** A trigger was added or changed here: queue it afresh, whatever was queued for it before. */
  requeue(trigger: Trigger): void {
    this.#queued.delete(trigger.id);
    this.enqueue(trigger, 'local');
  }

  /** Drop what is queued for a trigger (it was removed). */
  forget(triggerId: string): void {
    this.#queued.delete(triggerId);
  }

  /** Whether this exact version of a trigger is queued here (a poll need not bring it again). */
  readonly holds = (id: string, version: number): boolean => {
    const queued = this.#queued.get(id);
    return queued !== undefined && queued.seq !== IN_FLIGHT && queued.version === version;
  };

  /** The claim of a trigger's slot settled: its in-flight marker goes (a poll may queue it again). */
  clearInFlight(triggerId: string): void {
    if (this.#queued.get(triggerId)?.seq === IN_FLIGHT) this.#queued.delete(triggerId);
  }

  /**
   * A slot claimed ahead holds its trigger as the claim left it until its attempt starts: the
   * in-flight marker takes the claimed version, so a poll does not queue that next slot either.
   */
  holdInFlight(claimed: Trigger & { nextRunAt: Date }): void {
    const marker = this.#queued.get(claimed.id);
    if (marker && marker.seq === IN_FLIGHT) {
      marker.slot = claimed.nextRunAt.getTime();
      marker.version = claimed.version;
    }
  }

  /**
   * A slot claimed ahead started (or will not): queue its trigger's next slot, unless the trigger
   * changed here meanwhile (then the change queued it already).
   */
  releaseHeld(successor: Trigger): void {
    const marker = this.#queued.get(successor.id);
    if (!marker || marker.seq !== IN_FLIGHT || marker.version !== successor.version) return;
    this.#queued.delete(successor.id);
    this.enqueue(successor, 'successor');
  }

  /** Look for pending jobs at `at` (local clock). */
  wakeAt(at: number): void {
    if (this.#ctx.state !== 'running') return;
    this.#heap.push({ kind: 'wake', at, act: at, priority: 0, seq: this.#seq++ });
    if (at < this.#timerAt) this.#arm();
  }

  /** Room was freed: slots parked at the head for lack of it can fire now. */
  onCapacity(): void {
    if (this.#blockedOnCapacity) this.#scheduleDrain();
  }

  /** The instance stops: nothing is queued any more. */
  clear(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#heap.clear();
    this.#queued.clear();
  }

  /** A (re)start begins with room: whatever was parked for capacity before the stop is gone. */
  reset(): void {
    this.#blockedOnCapacity = false;
  }

  #isLive(entry: HeapEntry): boolean {
    return entry.kind === 'wake' || this.#queued.get(entry.trigger.id)?.seq === entry.seq;
  }

  #arm(): void {
    const { clock } = this.#ctx.o;
    const head = this.#liveHead();
    const parked = head !== undefined && head.kind === 'slot' && this.#blockedOnCapacity && head.act <= clock.now();
    if (!head || this.#ctx.state !== 'running' || parked) {
      // Nothing to wait for, or the head is due but this instance is full: a finishing job wakes it.
      this.#timer?.cancel();
      this.#timer = null;
      this.#timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.#timer && this.#timerAt <= head.act) return;
    this.#timer?.cancel();
    this.#timerAt = head.act;
    this.#timer = clock.setTimer(this.#onTimer, Math.max(0, head.act - clock.now()));
  }

  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#drain();
  };

  /**
   * Fire the due slots at the heap head. At most `FIRE_BATCH` per turn, then the rest after other
   * work had a turn, so a herd of simultaneous slots starts its first jobs at once instead of
   * after every claim of the herd; and no more than this instance has room for: the rest stay
   * unclaimed in the heap (free for an instance with room) until a running job finishes.
   */
  #drain(): void {
    if (this.#ctx.state !== 'running') return;
    this.#sink.newTurn();
    const now = this.#ctx.o.clock.now();
    let fired = 0;
    let wake = false;
    const batch: SlotEntry[] = [];
    this.#blockedOnCapacity = false;
    for (let head = this.#heap.peek(); head && head.act <= now; head = this.#heap.peek()) {
      if (!this.#isLive(head)) {
        this.#heap.pop();
        continue;
      }
      if (head.kind === 'wake') {
        this.#heap.pop();
        wake = true;
        continue;
      }
      if (head.at > now && this.#handlers.usable(head.trigger) === undefined) {
        // Not to be claimed ahead after all (its handler cannot run here now): at its time, then.
        this.#heap.pop();
        head.act = head.at;
        this.#heap.push(head);
        continue;
      }
      // No room, or enough claims on their way already (a herd goes in waves): on when some end.
      if (!this.#handlers.hasRoom(this.#firing) || this.#firing >= this.#ctx.claimWindow()) {
        this.#blockedOnCapacity = true;
        break;
      }
      if (fired >= FIRE_BATCH) {
        this.#scheduleDrain();
        break;
      }
      this.#heap.pop();
      // An in-flight marker (seq -1 matches no heap entry): a poll answer read before this claim
      // must not queue the slot again, nor replace the successor the claim will queue. The entry
      // is live, so it holds this very slot and version.
      this.#queued.get(head.trigger.id)!.seq = IN_FLIGHT;
      this.#firing += 1;
      fired += 1;
      batch.push(head);
    }
    if (batch.length > 0) {
      this.#ctx.track(
        this.#sink.fire(batch).finally(() => {
          this.#firing -= batch.length;
          this.onCapacity();
        }),
      );
    }
    if (wake) this.#sink.wake();
    this.#arm();
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled || this.#ctx.state !== 'running') return;
    this.#drainScheduled = true;
    setImmediate(() => {
      this.#drainScheduled = false;
      this.#drain();
    });
  }
}

/**
 * Whether a trigger's slots are claimed ahead of their time (see `leadMs`): not those whose start
 * depends on a concurrency permit or a time window, which are decided at the slot.
 */
function leadsAhead(trigger: Trigger): boolean {
  return permitLimit(trigger) === null && trigger.window === null;
}
