/**
 * Pending hints: cached answers to "is any pending job waiting?" (and "does any finished job still
 * owe its dependents a run?") for servers that scan a whole collection for every filtered query
 * (FerretDB v1 pushes down only a bare `{ _id }` filter).
 *
 * Each poll of each instance asks `nextPendingAt` and `gatedTriggerIds`. On MongoDB these are
 * index lookups; on FerretDB each reads every job document ever kept (history included), which at
 * a few hundred jobs costs more server CPU than all the by-`_id` writes of the jobs themselves. Yet
 * their answers change only when a job enters or leaves `pending`, or a pending job's `runAt` or
 * gate changes, and every such write goes through this store. So each such write also stamps a
 * signal document (by `_id`: cheap everywhere) with a fresh random token, and a query is answered
 * from the cache while the token read *before* the cached scan is still the stored one. The
 * maintenance pass's `findUnfiredDependents` works the same way on a signal of its own.
 *
 * Why a fresh token rather than a counter: FerretDB's `$inc` is a read-modify-write without a
 * transaction, so two concurrent bumps can store the same number and a reader would miss the
 * second one. Two different random tokens never collide, and whichever lands last differs from
 * every token read before either write. A writer that dies between its job write and its stamp (or
 * a writer of an older version that never stamps) is covered by the age limit: a cached answer is
 * never older than `maxAgeMs`.
 */
import { randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { SignalDocument } from './documents.js';
import { isDuplicateKeyError } from './guards.js';
import { InvalidArgumentError } from '../../errors.js';

/**
 * The signals (`_id`s of their documents): `pending` for writes that change the pending queries'
 * answers, `unfired` for those that change which final jobs still owe their dependents a run,
 * `triggers` for inserts, changes and removals of triggers (the trigger store's `changeToken`,
 * stamped on every server, not only where answers are cached).
 */
export type HintSignal = 'pending' | 'unfired' | 'triggers';

/** Whether to use pending hints: always, never, or when the server scans for filtered queries (`'auto'`: FerretDB). */
export type PendingHintMode = boolean | 'auto';

/** Default longest time a cached answer is used without a new scan (ms). */
export const DEFAULT_PENDING_HINT_MAX_AGE_MS = 5000;

interface CachedAnswer {
  signal: HintSignal;
  token: string | null;
  at: number;
  value: unknown;
}

/** The signal document and the answers cached against it. */
export class PendingHints {
  readonly #signals: Collection<SignalDocument>;
  readonly #enabled: () => Promise<boolean>;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, CachedAnswer>();
  /** Per signal: the stamp on its way, and the one that writers arriving meanwhile wait for. */
  readonly #stamping = new Map<HintSignal, Promise<void>>();
  readonly #nextStamp = new Map<HintSignal, Promise<void>>();

  /**
   * @param enabled resolves whether hints are on (asked on every use; the caller caches the probe)
   * @param maxAgeMs longest use of a cached answer
   * @param now the time source of the age limit (the system clock: stores run on real time)
   */
  constructor(signals: Collection<SignalDocument>, enabled: () => Promise<boolean>, maxAgeMs = DEFAULT_PENDING_HINT_MAX_AGE_MS, now: () => number = Date.now) {
    if (!Number.isInteger(maxAgeMs) || maxAgeMs < 0) throw new InvalidArgumentError('pendingHintMaxAgeMs', 'must be a non-negative integer');
    this.#signals = signals;
    this.#enabled = enabled;
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
  }

  /** Whether answers are cached (and writes stamp the signal). */
  enabled(): Promise<boolean> {
    return this.#enabled();
  }

  /**
   * A job write that may change what the signal's queries answer has landed: stamp the signal.
   * Called after the write, so a reader that sees the new token scans a collection that holds it.
   */
  async changed(signal: HintSignal): Promise<void> {
    if (!(await this.#enabled())) return;
    // This instance's own answers are stale at once, whatever the stamp's fate.
    this.forget(signal);
    // Group commit: writes that land while a stamp is on its way share the next one, which starts
    // after that one ends (so after each of their writes): a burst of writes, one or two stamps.
    const inFlight = this.#stamping.get(signal);
    if (!inFlight) return this.#stampNow(signal);
    let next = this.#nextStamp.get(signal);
    if (!next) {
      next = inFlight.catch(() => undefined).then(() => {
        this.#nextStamp.delete(signal);
        return this.#stampNow(signal);
      });
      this.#nextStamp.set(signal, next);
    }
    return next;
  }

  /** Write a fresh token now; the write is the signal's in-flight stamp until it ends. */
  #stampNow(signal: HintSignal): Promise<void> {
    const stamping = this.#writeStamp(signal).finally(() => {
      if (this.#stamping.get(signal) === stamping) this.#stamping.delete(signal);
    });
    this.#stamping.set(signal, stamping);
    return stamping;
  }

  async #writeStamp(signal: HintSignal): Promise<void> {
    const stamp = { token: randomBytes(8).toString('hex'), at: new Date() };
    try {
      await this.#signals.updateOne({ _id: signal }, { $set: stamp }, { upsert: true });
    } catch (error) {
      // Two first stamps raced to create the document: it exists now, so write ours over it.
      if (!isDuplicateKeyError(error)) throw error;
      await this.#signals.updateOne({ _id: signal }, { $set: stamp });
    }
  }

  /** The signal's stored token (`null`: never stamped). */
  async token(signal: HintSignal): Promise<string | null> {
    const stored = await this.#signals.findOne({ _id: signal });
    return typeof stored?.token === 'string' ? stored.token : null;
  }

  /** Forget the cached answers of a signal (a claim found nothing where the cache said work was due). */
  forget(signal: HintSignal): void {
    for (const [key, hit] of this.#cache) if (hit.signal === signal) this.#cache.delete(key);
  }

  /**
   * The answer of `query` under `key`: from the cache while `signal` still holds the token read
   * before that answer's scan and the answer is younger than the age limit, else from `query`.
   * `cacheable` may refuse to keep an answer (say one cut off by its limit).
   */
  async answer<T>(signal: HintSignal, key: string, query: () => Promise<T>, cacheable: (value: T) => boolean = () => true): Promise<T> {
    if (!(await this.#enabled())) return query();
    const token = await this.token(signal);
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit && hit.signal === signal && hit.token === token && now - hit.at < this.#maxAgeMs) return hit.value as T;
    const value = await query();
    if (cacheable(value)) this.#cache.set(key, { signal, token, at: now, value });
    else this.#cache.delete(key);
    return value;
  }
}
