/**
 * The ports: everything the engine needs from storage, locking and execution. Backends implement
 * these and nothing else; the engine talks to nothing else. Stores take the current time as an
 * argument instead of reading a clock, so every instance's arithmetic is explicit and testable.
 *
 * Every store method hands out copies: mutating a returned record never changes stored state.
 */
import type {
  Job,
  JobHistoryEntry,
  JobQuery,
  JobStatus,
  JsonValue,
  Page,
  Trigger,
  TriggerQuery,
  TriggerStatus,
} from './types.js';
import type { Logger } from './logger.js';

/** What a slot claim writes when it wins. */
export interface SlotClaimUpdate {
  /** The trigger's next slot after the claimed one, or `null` when it has no more. */
  nextRunAt: Date | null;
  /** The claimed slot. */
  lastRunAt: Date;
  /** `completed` when no slot follows, else `active`. */
  status: TriggerStatus;
  /** Write time. */
  updatedAt: Date;
}

/** One slot claim of a batch: the arguments of `TriggerStore.claimSlot`. */
export interface SlotClaim {
  /** Trigger id. */
  id: string;
  /** The slot being claimed: the trigger's `nextRunAt` as the caller read it. */
  slot: Date;
  /** The trigger's `version` as the caller read it. */
  expectedVersion: number;
  /** What to write when the claim wins. */
  update: SlotClaimUpdate;
}

/** Fields of a stored trigger that `TriggerStore.update` writes (not its id or version). */
export type TriggerFields = Partial<Omit<Trigger, 'id' | 'version'>>;

/** Storage of triggers. */
export interface TriggerStore {
  /** Store a new trigger. Throws `InvalidTriggerConfigError` (field `id`) if the id exists. */
  insert(trigger: Trigger): Promise<void>;
  /** One trigger by id. */
  get(id: string): Promise<Trigger | null>;
  /**
   * Replace a trigger if its stored `version` still equals `expectedVersion` (optimistic
   * concurrency). The stored version becomes `trigger.version`. Returns whether it was written.
   */
  replace(trigger: Trigger, expectedVersion: number): Promise<boolean>;
  /**
   * Optional: write only the given fields of a trigger if its stored `version` still equals
   * `expectedVersion`, raising the version by one; the other fields stay as stored (a slot claim
   * racing the write keeps its own fields). Returns the trigger as written, or `null` when the
   * version differed or the trigger is gone. Without it the engine writes the whole record with
   * `replace`.
   */
  update?(id: string, expectedVersion: number, fields: TriggerFields): Promise<Trigger | null>;
  /** Delete a trigger. Returns whether it existed. */
  remove(id: string): Promise<boolean>;
  /** Page through triggers, ordered by id. */
  list(query: TriggerQuery): Promise<Page<Trigger>>;
  /**
   * Active triggers of the given handlers whose `nextRunAt` is at or before `until` (and after
   * `after`, when given), earliest first, at most `limit`. Instances only fire triggers whose
   * handler they have registered; `after` lets a poll fetch only the newly entered part of its
   * look-ahead window. A trigger for which `held(id, version)` answers `true` may be left out
   * (the caller holds that very version already); a store that gains nothing by it may ignore it.
   * With `buckets`, the caller wants only the triggers whose ownership bucket
   * (`triggerBucket(id)`, exported from the package root) is in the list (its own share of the cluster's):
   * a store must return every due trigger in them and may return others too (the caller keeps its
   * own), so a store that cannot filter on it may ignore it.
   */
  findDue(until: Date, limit: number, handlers: string[], after?: Date, held?: (id: string, version: number) => boolean, buckets?: readonly number[]): Promise<Trigger[]>;
  /**
   * The compare-and-set that makes a slot fire once: if the trigger is `active`, its `nextRunAt`
   * equals `slot` and its `version` equals `expectedVersion`, apply `update`, increment the version
   * and return the trigger as written; otherwise return `null` (another instance claimed it, or
   * the trigger changed since the caller read it).
   */
  claimSlot(id: string, slot: Date, expectedVersion: number, update: SlotClaimUpdate): Promise<Trigger | null>;
  /**
   * Optional: several `claimSlot`s in one call, each on its own (one claim failing its condition
   * does not affect the others); the answer says in order whether each claim won. A won claim
   * leaves the trigger as the caller's version with `update` applied and the version raised by
   * one, so the trigger is not handed back (a store that cannot tell this claim from an identical
   * one racing it for the same slot may answer `true` for either: the state is the same). Without
   * it the engine issues the claims one by one, all at once. After a throw any of the claims may
   * or may not have happened: the engine then leaves each trigger for the next poll to read.
   */
  claimSlots?(claims: SlotClaim[]): Promise<boolean[]>;
  /** Active triggers listening to an event name. */
  findByEvent(event: string): Promise<Trigger[]>;
  /** Active triggers that depend on the given trigger. */
  findDependents(triggerId: string): Promise<Trigger[]>;
  /** Every trigger's `(id, schedule)` that depends on another one, for cycle checks. */
  dependencyEdges(): Promise<Array<{ id: string; after: string }>>;
  /**
   * Active triggers with an `alertAfterMs` whose `nextRunAt` is at least that long before `now`
   * (their next slot has not been claimed that long after its time), oldest slot first, at most
   * `limit`. Optional: without it the engine pages through `list` for the same answer, which reads
   * every trigger.
   */
  findLate?(now: Date, limit: number): Promise<Trigger[]>;
  /** Cheap reachability check for `health()`; throws when the store is unreachable. */
  ping(): Promise<void>;
  /**
   * Optional: a token that changes whenever a trigger is inserted, replaced, updated or removed
   * through this store, by any process (a slot claim does not change it). A poll that finds it
   * changed reads its whole look-ahead window again, so a trigger another process added inside the
   * part of the window already read is queued at the next poll. Without it, such a trigger is
   * found by the next full read, up to `lookaheadMs` later.
   */
  changeToken?(): Promise<string>;
  /**
   * Optional: how many `active` triggers name each handler (handlers with none left out), for
   * `health().unhandled`. Without it (or `JobStore.countPendingByHandler`) `unhandled` is `null`.
   */
  countActiveByHandler?(): Promise<HandlerCount[]>;
}

/** How many records name one handler: an answer of the `count…ByHandler` methods. */
export interface HandlerCount {
  /** Handler name. */
  handler: string;
  /** How many. */
  count: number;
}

/** Fields of a job that an update may set. */
export type JobPatch = Partial<
  Omit<Job, 'id' | 'key' | 'triggerId' | 'handler' | 'source' | 'createdAt' | 'history'>
>;

/** Preconditions of a conditional job update; all given ones must hold. */
export interface JobCondition {
  /** Current status must be one of these. */
  status?: JobStatus[];
  /** Current lease token must equal this (the fencing check of a lease holder's writes). */
  leaseToken?: number;
}

/** One conditional write of a batch: the arguments of `JobStore.write`. */
export interface JobWrite {
  /** Job id. */
  id: string;
  /** Preconditions; all must hold for the write to happen. */
  condition: JobCondition;
  /** Fields to set. */
  patch: JobPatch;
  /** Entries to append to the history. */
  history?: JobHistoryEntry[];
}

/** Filter of the job a worker may take next. */
export interface ClaimPendingOptions {
  /** Only jobs of these handlers (those this instance has registered and has room for). */
  handlers: string[];
  /** Lease to put on the claimed job (the token is assigned by the store: `fence + 1`). */
  owner: string;
  /** Lease expiry. */
  leaseExpiresAt: Date;
  /** Entry to append to the history. */
  history: JobHistoryEntry;
  /**
   * `null`: only jobs free to run (no gate). A trigger id: only jobs waiting for a concurrency
   * permit of that trigger, which the caller has just acquired.
   */
  gate: string | null;
}

/** Counts and durations for `stats()`. */
export interface JobStatsSummary {
  /** Number of jobs per status. */
  byStatus: Record<JobStatus, number>;
  /**
   * Per trigger with jobs: finished runs, successes, failures, duration percentiles of
   * succeeded/failed jobs, jobs pending and running now, the last success, and the failures since
   * it (`failedInRow`: failed jobs that finished after the last succeeded one; a store may count
   * them within its duration sample only).
   */
  byTrigger: Record<
    string,
    {
      runs: number;
      succeeded: number;
      failed: number;
      lastFinishedAt: Date | null;
      p50DurationMs: number | null;
      p95DurationMs: number | null;
      pending: number;
      running: number;
      lastSucceededAt: Date | null;
      failedInRow: number;
      /** Jobs recorded `skipped` (overlap, window, or withdrawn). */
      skipped: number;
      /** Start lag (`metrics.queuedMs`) percentiles of succeeded/failed jobs, over the same sample as durations. */
      p50LagMs: number | null;
      p95LagMs: number | null;
    }
  >;
}

/** Storage of jobs. */
export interface JobStore {
  /**
   * Store a new job unless a job with the same `key` exists. Returns the stored job, or `null`
   * when the key was taken (the caller lost the race, or the event was delivered before).
   */
  insert(job: Job): Promise<Job | null>;
  /**
   * Optional: several `insert`s in one call (one round trip where the backend can), each on its
   * own; the answer lists each job's result in order (`null`: key taken). After a throw some of
   * the jobs may have been stored: a retry then finds their keys taken. Without it the engine
   * inserts the jobs one by one, all at once.
   */
  insertMany?(jobs: Job[]): Promise<Array<Job | null>>;
  /** One job by id. */
  get(id: string): Promise<Job | null>;
  /** One job by idempotency key. */
  getByKey(key: string): Promise<Job | null>;
  /** Page through jobs, newest `scheduledFor` first. */
  list(query: JobQuery): Promise<Page<Job>>;
  /**
   * Conditional update: if every condition holds, apply `patch`, append `history` entries and
   * return the job as written; else return `null`.
   */
  update(id: string, condition: JobCondition, patch: JobPatch, history?: JobHistoryEntry[]): Promise<Job | null>;
  /**
   * Optional: `update` answering only whether the conditions held and the job was written, for
   * a caller that knows the record and need not have it copied back (the engine recording the
   * end of its own attempt). Without it the engine calls `update`.
   */
  write?(id: string, condition: JobCondition, patch: JobPatch, history?: JobHistoryEntry[]): Promise<boolean>;
  /**
   * Optional: several `write`s in one call, each on its own (one failing its conditions does not
   * affect the others, each keeps its own fencing condition); the answer says in order whether
   * each one was written. The engine records the ends of attempts that finish together with it.
   * After a throw any of the writes may or may not have happened: the engine then writes each end
   * on its own, and an end that had been written already answers as a lost lease. Without it the
   * engine writes each end on its own.
   */
  writeMany?(writes: JobWrite[]): Promise<boolean[]>;
  /**
   * Take the best pending job that is due (`runAt <= now`), highest priority then earliest
   * `runAt`: mark it `running`, raise its `fence` by one and give it a lease with that token.
   */
  claimPending(now: Date, options: ClaimPendingOptions): Promise<Job | null>;
  /** Trigger ids that have due pending jobs waiting for a concurrency permit (`gate`). */
  gatedTriggerIds(now: Date, handlers: string[], limit: number): Promise<string[]>;
  /** Earliest `runAt` of a pending job of these handlers, to know when to look again. */
  nextPendingAt(handlers: string[]): Promise<Date | null>;
  /**
   * Extend a lease if `token` still holds it. Returns the job (so the holder sees a
   * `cancelRequested` flag), or `null` when the lease was lost.
   */
  renewLease(id: string, token: number, expiresAt: Date): Promise<Job | null>;
  /**
   * Running jobs whose lease expired before `now` (their instance died or stalled), earliest
   * expiry first, at most `limit`, filtered by lease owner when `filter` says so.
   */
  findExpiredLeases(now: Date, limit: number, filter?: ExpiredLeaseFilter): Promise<Job[]>;
  /** Jobs of a trigger that are `running` or `pending`. */
  countActive(triggerId: string): Promise<{ running: number; pending: number }>;
  /** Final jobs whose dependents were not fired yet (an instance died in between). */
  findUnfiredDependents(finishedBefore: Date, limit: number): Promise<Job[]>;
  /** Aggregates for `stats()`. */
  stats(filter: { triggerId?: string }): Promise<JobStatsSummary>;
  /**
   * Optional: how many `pending` jobs (retries and gated ones included) name each handler
   * (handlers with none left out), for `health().unhandled`.
   */
  countPendingByHandler?(): Promise<HandlerCount[]>;
  /** Delete final jobs that finished before the instant. Returns how many. */
  purge(finishedBefore: Date): Promise<number>;
  /** Cheap reachability check; throws when unreachable. */
  ping(): Promise<void>;
  /**
   * Optional: the store's clock minus this process's clock, in ms, for backends shared by several
   * machines. The engine corrects its lease arithmetic by it and reports a large skew.
   */
  measureClockOffset?(): Promise<number>;
}

/** A named lock held until `expiresAt`, with a fencing token that only grows. */
export interface Lease {
  /** Lock name. */
  key: string;
  /** Holder. */
  owner: string;
  /** Fencing token: larger than every token issued before for this key. */
  token: number;
  /** Void after this instant unless renewed. */
  expiresAt: Date;
}

/**
 * Named, expiring locks. The engine uses them for work one instance should do at a time across the
 * cluster (recovery sweeps, retention purges); a job's own lease rides on the job record so that a
 * fire costs no extra round trip.
 */
export interface LockManager {
  /** Take the lock if free or expired at `now`; `null` when another owner holds it. */
  acquire(key: string, owner: string, ttlMs: number, now: Date): Promise<Lease | null>;
  /** Extend a held lock; `null` when it was lost (expired and taken, or released). */
  renew(lease: Lease, ttlMs: number, now: Date): Promise<Lease | null>;
  /** Give the lock up if still held by this lease. Returns whether it was. */
  release(lease: Lease): Promise<boolean>;
  /**
   * Optional: extend every lock of `leases` that is still held (same token, not expired at `now`)
   * to `now + ttlMs`, in one store call, and answer how many were. An instance renews the permits
   * of all its capped jobs with it at each renewal interval; only when the count falls short does
   * it renew them one by one to learn which were lost. Without it each is renewed on its own.
   */
  renewMany?(leases: readonly Lease[], ttlMs: number, now: Date): Promise<number>;
  /**
   * Optional: the owners of the locks whose key starts with `prefix` and that have not expired at
   * `now`, each once. The engine reads the live instances with it (each holds `member:<id>`) to
   * share the triggers among them; without it every instance tries every slot.
   */
  holders?(prefix: string, now: Date): Promise<string[]>;
  /**
   * Optional, all six or none (`InstanceLeases`): instance leases, the liveness records that the
   * leases of all jobs running on one instance hang on, so that keeping them alive costs one store
   * call per instance and renewal interval, however many jobs run there. Without them every job's
   * lease is renewed on its own.
   */
  registerInstance?: InstanceLeases['registerInstance'];
  /** Optional: see `InstanceLeases.renewInstance`. */
  renewInstance?: InstanceLeases['renewInstance'];
  /** Optional: see `InstanceLeases.liveInstances`. */
  liveInstances?: InstanceLeases['liveInstances'];
  /** Optional: see `InstanceLeases.fenceInstance`. */
  fenceInstance?: InstanceLeases['fenceInstance'];
  /** Optional: see `InstanceLeases.requestCancel`. */
  requestCancel?: InstanceLeases['requestCancel'];
  /** Optional: see `InstanceLeases.releaseInstance`. */
  releaseInstance?: InstanceLeases['releaseInstance'];
}

/** One registration of an instance: the record its running jobs' leases hang on. */
export interface InstanceLease {
  /** The instance (`Scheduler` option `instanceId`). */
  instanceId: string;
  /**
   * Tag of this registration, unique among the instance's registrations (the caller draws it):
   * a renewal names the registration it extends, so a registration fenced or replaced meanwhile
   * is not extended.
   */
  epoch: string;
  /** The instance counts as alive until this instant (store clock) unless renewed. */
  expiresAt: Date;
}

/**
 * Liveness records of instances, one per instance id (see docs/concepts.md, "Leases and fencing"):
 * the optional `LockManager` methods of that name. Each is one atomic step on a server with
 * atomic single-document updates.
 */
export interface InstanceLeases {
  /**
   * Take the instance's record for a new registration, whatever its state: a registration of an
   * earlier run of the same instance id is replaced (fenced). Answers the replaced record, if
   * there was one (the caller then recovers that run's jobs).
   */
  registerInstance(lease: InstanceLease): Promise<InstanceLease | null>;
  /**
   * Extend the registration if it still holds (however late: only a fence or a new registration
   * ends it). Answers the ids of jobs whose cancel other instances asked for since the previous
   * renewal (taken out of the record), or `null` when the registration is gone.
   */
  renewInstance(lease: InstanceLease, expiresAt: Date): Promise<{ cancels: string[] } | null>;
  /** The registrations that have not expired at `at`. */
  liveInstances(at: Date): Promise<InstanceLease[]>;
  /**
   * End the instance's registration if it expired before `expiredBefore`, so that its holder's
   * next renewal fails. Answers whether the instance now has no registration (fenced now, or none
   * there); `false` when it holds a live one (it renewed, or registered anew).
   */
  fenceInstance(instanceId: string, expiredBefore: Date): Promise<boolean>;
  /** Ask the instance to cancel a job it runs (answered at its next renewal). Answers whether it has a registration. */
  requestCancel(instanceId: string, jobId: string): Promise<boolean>;
  /** Remove the registration if it still holds (a stopping instance). Answers whether it did. */
  releaseInstance(lease: InstanceLease): Promise<boolean>;
}

/** Filter of `JobStore.findExpiredLeases` by lease owner. */
export interface ExpiredLeaseFilter {
  /** Only jobs whose lease this instance holds. */
  owner?: string;
  /** No jobs whose lease one of these instances holds (they are alive). */
  exceptOwners?: string[];
}

/** Context handed to an in-thread handler. */
export interface JobContext<P extends JsonValue = JsonValue> {
  /** The job's payload. */
  readonly payload: P;
  /** Aborts on timeout, cancel, lease loss or forced stop; `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The handler's own copy of the job record at start (changing it changes nothing in the engine). */
  readonly job: Readonly<Job>;
  /** A copy of the trigger, if it still exists. */
  readonly trigger: Readonly<Trigger> | null;
  /** Logger bound to the job. */
  readonly log: Logger;
  /** Renew the lease now (long handlers may call it; renewal also runs on its own). */
  heartbeat(): Promise<void>;
}

/** An in-thread handler. Its return value must be JSON (or undefined). */
export type HandlerFunction<P extends JsonValue = JsonValue> = (
  context: JobContext<P>,
) => Promise<JsonValue | void> | JsonValue | void;

/** A handler that lives in a module, for runners that load code themselves (worker threads). */
export interface ModuleHandler {
  /** Absolute path or `file:` URL of the module. */
  module: string | URL;
  /**
   * Export to call.
   * @default 'default'
   * @example { module: new URL('./jobs/report.js', import.meta.url), exportName: 'renderReport' }
   */
  exportName?: string;
}

/** What a runner reports about one attempt. */
export interface RunMetrics {
  /** Wall time of the handler. */
  durationMs: number;
  /** CPU time in user mode. */
  cpuUserMs: number | null;
  /** CPU time in system mode. */
  cpuSystemMs: number | null;
  /** Heap growth (inline) or peak heap (worker). */
  heapUsedBytes: number | null;
  /** Time spent waiting for a free thread, where the runner queues. */
  waitMs: number | null;
}

/** Outcome of one attempt. */
export type RunOutcome =
  | {
      ok: true;
      /** What the handler returned; stored as `JSON.stringify` would write it (see `Job.result`). */
      result: JsonValue | null;
      metrics: RunMetrics;
      /** Why the runner could not hand the result over (it is then `null`); the job still succeeds. */
      droppedResult?: string;
    }
  | { ok: false; error: unknown; metrics: RunMetrics };

/** One attempt to execute. */
export interface RunRequest {
  /** The code to run. */
  handler: HandlerFunction | ModuleHandler;
  /** The context (runners that cross a thread boundary send its data fields only). */
  context: JobContext;
  /**
   * Set by a caller that stops waiting by itself once `context.signal` aborts (the scheduler
   * does): the runner may then leave the signal alone unless it has to forward the abort
   * somewhere (a worker thread), and save the cost of watching it.
   */
  callerWatchesAbort?: boolean;
}

/** Executes handlers. */
export interface JobRunner {
  /** Whether this runner can execute the handler (function or module). */
  supports(handler: HandlerFunction | ModuleHandler): boolean;
  /** Check at registration that a module handler can be loaded; throws if not. */
  validate?(handler: ModuleHandler): Promise<void>;
  /**
   * Run one attempt. Must settle even when the handler never does once `context.signal` aborts
   * (the engine stops waiting at that point anyway and discards a late result).
   */
  run(request: RunRequest): Promise<RunOutcome>;
  /**
   * Optional: `run` answering through a callback instead of a promise, for callers that watch the
   * signal themselves (`callerWatchesAbort`; the scheduler does). Calls `done` exactly once, maybe
   * before returning; never throws (a failure is an outcome). The scheduler uses it when present:
   * it saves the promises of every attempt.
   */
  start?(request: RunRequest, done: (outcome: RunOutcome) => void): void;
  /** Release resources; wait up to `timeoutMs` for running attempts, then stop them. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}
