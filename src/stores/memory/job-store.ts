/**
 * In-memory `JobStore`. Indexes keep every engine query off a full scan: pending jobs sit in a
 * due-time heap, running jobs in a linked list threaded through their records, pending jobs are
 * counted per trigger, and jobs waiting for a concurrency permit are indexed by trigger. Listing
 * and statistics scan, as they are not on the firing path.
 *
 * Every job passes through insert, start and end, so those touch as few hash tables as they can:
 * two `Map` entries per job (by id and by key) and pointer updates for the running list; only a
 * job that waits as pending is counted per trigger.
 */
import type { ClaimPendingOptions, ExpiredLeaseFilter, HandlerCount, JobCondition, JobPatch, JobStatsSummary, JobStore, JobWrite } from '../../ports.js';
import { BinaryHeap } from '../../queue/binary-heap.js';
import { LinkedList } from '../../queue/linked-list.js';
import { isFinalJobStatus as isFinal, type Job, type JobDetailField, type JobHistoryEntry, type JobQuery, type JobStatus, type Page } from '../../types.js';
import { appendHistory, applyPatch, fromRecord, toRecord, type JobRecord } from './job-record.js';
import { decodeTimeIdCursor, jobPage, pageLimit } from '../cursor.js';
import { emptyByTrigger, emptyStatusCounts, emptyTriggerStats, handlerCounts, percentile } from '../stats.js';

interface PendingEntry {
  at: number;
  priority: number;
  seq: number;
  job: JobRecord;
}

/** Jobs held in a `Map`, indexed for the engine's queries. */
export class MemoryJobStore implements JobStore {
  readonly #jobs = new Map<string, JobRecord>();
  readonly #byKey = new Map<string, JobRecord>();
  readonly #pending = new BinaryHeap<PendingEntry>((a, b) => a.at - b.at || b.priority - a.priority || a.seq - b.seq);
  // Running jobs, oldest start first: a list through the records' own links (no hashing per job).
  readonly #running = new LinkedList<JobRecord>();
  // Pending jobs per trigger (running ones are counted off the running list: a job usually
  // starts running at insert, and that way the insert touches no per-trigger entry).
  readonly #pendingCount = new Map<string, number>();
  // Pending jobs that wait for a concurrency permit (`gate`), by trigger.
  readonly #gated = new Map<string, Set<JobRecord>>();
  readonly #unfiredDependents = new Set<JobRecord>();
  #seq = 0;

  /** @inheritdoc */
  async insert(job: Job): Promise<Job | null> {
    return this.#insert(job);
  }

  /** @inheritdoc */
  async insertMany(jobs: Job[]): Promise<Array<Job | null>> {
    const out: Array<Job | null> = new Array<Job | null>(jobs.length);
    for (let i = 0; i < jobs.length; i++) out[i] = this.#insert(jobs[i]!);
    return out;
  }

  #insert(job: Job): Job | null {
    if (this.#byKey.has(job.key) || this.#jobs.has(job.id)) return null;
    const record = toRecord(job);
    this.#jobs.set(record.id, record);
    this.#byKey.set(record.key, record);
    this.#index(record, null, false, record.runAt);
    // The caller's object equals what was stored and is not stored state itself: hand it back
    // rather than copying the record a second time.
    return job;
  }

  /** @inheritdoc */
  async get(id: string): Promise<Job | null> {
    const record = this.#jobs.get(id);
    return record ? fromRecord(record) : null;
  }

  /** @inheritdoc */
  async getByKey(key: string): Promise<Job | null> {
    const record = this.#byKey.get(key);
    return record ? fromRecord(record) : null;
  }

  /** @inheritdoc */
  async list(query: JobQuery): Promise<Page<Job>> {
    const limit = pageLimit(query.limit);
    const statuses = query.status === undefined ? null : new Set(Array.isArray(query.status) ? query.status : [query.status]);
    const from = query.from === undefined ? null : new Date(query.from).getTime();
    const to = query.to === undefined ? null : new Date(query.to).getTime();
    const after = query.cursor === undefined ? null : decodeTimeIdCursor(query.cursor);
    const matches: JobRecord[] = [];
    for (const job of this.#jobs.values()) {
      if (query.triggerId !== undefined && job.triggerId !== query.triggerId) continue;
      if (statuses && !statuses.has(job.status)) continue;
      const at = job.scheduledFor;
      if (from !== null && at < from) continue;
      if (to !== null && at >= to) continue;
      if (after && (at > after[0] || (at === after[0] && job.id >= after[1]))) continue;
      matches.push(job);
    }
    matches.sort(newestFirst);
    const omit = new Set<JobDetailField>(query.omit ?? []);
    const toJob = (record: JobRecord): Job => fromRecord(record, omit.size === 0 ? undefined : omit);
    return jobPage(matches.slice(0, limit).map(toJob), matches.length > limit);
  }

  /** @inheritdoc */
  async update(id: string, condition: JobCondition, patch: JobPatch, history?: JobHistoryEntry[]): Promise<Job | null> {
    const record = this.#write(id, condition, patch, history);
    return record ? fromRecord(record) : null;
  }

  /** @inheritdoc */
  async write(id: string, condition: JobCondition, patch: JobPatch, history?: JobHistoryEntry[]): Promise<boolean> {
    return this.#write(id, condition, patch, history) !== null;
  }

  /** @inheritdoc */
  async writeMany(writes: JobWrite[]): Promise<boolean[]> {
    const out: boolean[] = new Array<boolean>(writes.length);
    for (let i = 0; i < writes.length; i++) {
      const { id, condition, patch, history } = writes[i]!;
      out[i] = this.#write(id, condition, patch, history) !== null;
    }
    return out;
  }

  #write(id: string, condition: JobCondition, patch: JobPatch, history: JobHistoryEntry[] | undefined): JobRecord | null {
    const record = this.#jobs.get(id);
    if (!record || !matches(record, condition)) return null;
    const before = record.status;
    const wasGated = before === 'pending' && record.gate !== null;
    const previousRunAt = record.runAt;
    // Copy only what the patch brings in; the rest of the stored record is already ours.
    applyPatch(record, patch);
    if (history) appendHistory(record, history);
    this.#index(record, before, wasGated, previousRunAt);
    return record;
  }

  /** @inheritdoc */
  async claimPending(now: Date, options: ClaimPendingOptions): Promise<Job | null> {
    const handlers = new Set(options.handlers);
    const skipped: PendingEntry[] = [];
    let claimed: JobRecord | null = null;
    const bound = now.getTime();
    while (!claimed) {
      const top = this.#pending.peek();
      if (!top || top.at > bound) break;
      this.#pending.pop();
      const job = top.job;
      if (job.status !== 'pending' || job.runAt !== top.at) continue;
      if (!handlers.has(job.handler) || job.gate !== options.gate) {
        skipped.push(top);
        continue;
      }
      claimed = job;
    }
    for (const entry of skipped) this.#pending.push(entry);
    if (!claimed) return null;
    const wasGated = claimed.gate !== null;
    const token = claimed.fence + 1;
    claimed.status = 'running';
    claimed.gate = null;
    claimed.fence = token;
    claimed.instanceId = options.owner;
    claimed.leaseOwner = options.owner;
    claimed.leaseToken = token;
    claimed.leaseExpiresAt = options.leaseExpiresAt.getTime();
    appendHistory(claimed, [options.history]);
    this.#index(claimed, 'pending', wasGated, claimed.runAt);
    return fromRecord(claimed);
  }

  /** @inheritdoc */
  async gatedTriggerIds(now: Date, handlers: string[], limit: number): Promise<string[]> {
    const wanted = new Set(handlers);
    const bound = now.getTime();
    const found: string[] = [];
    for (const [triggerId, jobs] of this.#gated) {
      for (const job of jobs) {
        if (wanted.has(job.handler) && job.runAt <= bound) {
          found.push(triggerId);
          break;
        }
      }
      if (found.length >= limit) break;
    }
    return found;
  }

  /** @inheritdoc */
  async nextPendingAt(handlers: string[]): Promise<Date | null> {
    const wanted = new Set(handlers);
    const popped: PendingEntry[] = [];
    let found: number | null = null;
    while (found === null) {
      const top = this.#pending.pop();
      if (!top) break;
      const job = top.job;
      if (job.status !== 'pending' || job.runAt !== top.at) continue;
      popped.push(top);
      if (wanted.has(job.handler) && job.gate === null) found = top.at;
    }
    for (const entry of popped) this.#pending.push(entry);
    return found === null ? null : new Date(found);
  }

  /** @inheritdoc */
  async renewLease(id: string, token: number, expiresAt: Date): Promise<Job | null> {
    const record = this.#jobs.get(id);
    if (!record || record.status !== 'running' || record.leaseOwner === null || record.leaseToken !== token) return null;
    record.leaseExpiresAt = expiresAt.getTime();
    return fromRecord(record);
  }

  /** @inheritdoc */
  async findExpiredLeases(now: Date, limit: number, filter: ExpiredLeaseFilter = {}): Promise<Job[]> {
    const found: JobRecord[] = [];
    const bound = now.getTime();
    const except = filter.exceptOwners && filter.exceptOwners.length > 0 ? new Set(filter.exceptOwners) : null;
    for (let job = this.#running.first; job !== null; job = job.nextLinked) {
      const owner = job.leaseOwner;
      if (owner === null || job.leaseExpiresAt >= bound) continue;
      if ((filter.owner !== undefined && owner !== filter.owner) || except?.has(owner)) continue;
      found.push(job);
    }
    found.sort((a, b) => a.leaseExpiresAt - b.leaseExpiresAt);
    return found.slice(0, limit).map((job) => fromRecord(job));
  }

  /**
   * @inheritdoc
   *
   * Running jobs are counted by walking the list of running jobs: only `overlap: 'queue'` asks,
   * and so no insert has to touch a per-trigger count.
   */
  async countActive(triggerId: string): Promise<{ running: number; pending: number }> {
    let running = 0;
    for (let job = this.#running.first; job !== null; job = job.nextLinked) if (job.triggerId === triggerId) running += 1;
    return { running, pending: this.#pendingCount.get(triggerId) ?? 0 };
  }

  /** @inheritdoc */
  async findUnfiredDependents(finishedBefore: Date, limit: number): Promise<Job[]> {
    const out: Job[] = [];
    const bound = finishedBefore.getTime();
    for (const job of this.#unfiredDependents) {
      if (job.finishedAt !== null && job.finishedAt < bound) out.push(fromRecord(job));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** @inheritdoc */
  async stats(filter: { triggerId?: string }): Promise<JobStatsSummary> {
    const byStatus = emptyStatusCounts();
    const durations = new Map<string, number[]>();
    const lags = new Map<string, number[]>();
    const byTrigger = emptyByTrigger();
    for (const job of this.#jobs.values()) {
      if (filter.triggerId !== undefined && job.triggerId !== filter.triggerId) continue;
      byStatus[job.status] += 1;
      if (job.status === 'pending' || job.status === 'running' || job.status === 'skipped') {
        (byTrigger[job.triggerId] ??= emptyTriggerStats())[job.status] += 1;
        continue;
      }
      if (job.status !== 'succeeded' && job.status !== 'failed') continue;
      const entry = (byTrigger[job.triggerId] ??= emptyTriggerStats());
      entry.runs += 1;
      entry[job.status] += 1;
      if (job.finishedAt !== null && (!entry.lastFinishedAt || job.finishedAt > entry.lastFinishedAt.getTime())) entry.lastFinishedAt = new Date(job.finishedAt);
      if (job.status === 'succeeded' && job.finishedAt !== null && (!entry.lastSucceededAt || job.finishedAt > entry.lastSucceededAt.getTime())) {
        entry.lastSucceededAt = new Date(job.finishedAt);
      }
      if (job.queuedMs !== null) {
        let list = lags.get(job.triggerId);
        if (!list) lags.set(job.triggerId, (list = []));
        list.push(job.queuedMs);
      }
      if (job.durationMs !== null) {
        let list = durations.get(job.triggerId);
        if (!list) durations.set(job.triggerId, (list = []));
        list.push(job.durationMs);
      }
    }
    // Failures since the last success: a second pass, as the last success is known only now.
    for (const job of this.#jobs.values()) {
      if (job.status !== 'failed' || (filter.triggerId !== undefined && job.triggerId !== filter.triggerId)) continue;
      const entry = byTrigger[job.triggerId]!;
      if (!entry.lastSucceededAt || (job.finishedAt ?? 0) > entry.lastSucceededAt.getTime()) entry.failedInRow += 1;
    }
    for (const [triggerId, list] of lags) {
      const entry = byTrigger[triggerId]!;
      list.sort((a, b) => a - b);
      entry.p50LagMs = percentile(list, 0.5);
      entry.p95LagMs = percentile(list, 0.95);
    }
    for (const [triggerId, list] of durations) {
      const entry = byTrigger[triggerId]!;
      list.sort((a, b) => a - b);
      entry.p50DurationMs = percentile(list, 0.5);
      entry.p95DurationMs = percentile(list, 0.95);
    }
    return { byStatus, byTrigger };
  }

  /** @inheritdoc */
  async purge(finishedBefore: Date): Promise<number> {
    const bound = finishedBefore.getTime();
    let removed = 0;
    for (const job of this.#jobs.values()) {
      if (isFinal(job.status) && job.finishedAt !== null && job.finishedAt < bound && !this.#unfiredDependents.has(job)) {
        this.#jobs.delete(job.id);
        this.#byKey.delete(job.key);
        removed++;
      }
    }
    return removed;
  }

  /** @inheritdoc */
  async ping(): Promise<void> {
    // Always reachable.
  }

  /** @inheritdoc */
  async countPendingByHandler(): Promise<HandlerCount[]> {
    const names: string[] = [];
    for (const job of this.#jobs.values()) if (job.status === 'pending') names.push(job.handler);
    return handlerCounts(names);
  }

  /** Number of stored jobs. */
  get size(): number {
    return this.#jobs.size;
  }

  /**
   * Bring the indexes up to date after a record changed from `before` (`null`: just inserted).
   * `wasGated` and `previousRunAt` are the record's pending-gate state and `runAt` before the change.
   */
  #index(job: JobRecord, before: JobStatus | null, wasGated: boolean, previousRunAt: number): void {
    const status = job.status;
    if (status !== before) {
      if (before === 'running') this.#running.delete(job);
      if (status === 'running') this.#running.add(job);
      if (before === 'pending') this.#countPending(job.triggerId, -1);
      if (status === 'pending') this.#countPending(job.triggerId, 1);
    }
    if (status === 'pending' && (before !== 'pending' || previousRunAt !== job.runAt)) {
      this.#pending.push({ at: job.runAt, priority: job.priority, seq: this.#seq++, job });
    }
    const gated = status === 'pending' && job.gate !== null;
    if (wasGated && !gated) this.#ungate(job, job.triggerId);
    if (gated && !wasGated) {
      let jobs = this.#gated.get(job.triggerId);
      if (!jobs) this.#gated.set(job.triggerId, (jobs = new Set()));
      jobs.add(job);
    }
    if (isFinal(status) && !job.dependentsFired) this.#unfiredDependents.add(job);
    else if (before !== null && isFinal(before)) this.#unfiredDependents.delete(job);
  }

  #countPending(triggerId: string, change: number): void {
    const count = (this.#pendingCount.get(triggerId) ?? 0) + change;
    if (count === 0) this.#pendingCount.delete(triggerId);
    else this.#pendingCount.set(triggerId, count);
  }

  #ungate(job: JobRecord, triggerId: string): void {
    const jobs = this.#gated.get(triggerId);
    if (!jobs) return;
    jobs.delete(job);
    if (jobs.size === 0) this.#gated.delete(triggerId);
  }
}

function matches(job: JobRecord, condition: JobCondition): boolean {
  if (condition.status && !condition.status.includes(job.status)) return false;
  if (condition.leaseToken !== undefined && (job.leaseOwner === null || job.leaseToken !== condition.leaseToken)) return false;
  return true;
}

function newestFirst(a: JobRecord, b: JobRecord): number {
  return b.scheduledFor - a.scheduledFor || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}
