/**
 * In-memory `JobStore`. Indexes keep every engine query off a full scan: pending jobs sit in a
 * due-time heap, running jobs in a set, and active jobs per trigger in their own sets. Listing and
 * statistics scan, as they are not on the firing path.
 */
import type { ClaimPendingOptions, JobCondition, JobPatch, JobStatsSummary, JobStore } from '../../ports.js';
import { BinaryHeap } from '../../queue/binary-heap.js';
import type { Job, JobHistoryEntry, JobQuery, JobStatus, Page } from '../../types.js';
import { applyPatch, fromStoredJob, storedEntry, toStoredJob, type StoredJob } from './job-record.js';
import { decodeTimeIdCursor, jobPage, pageLimit } from '../cursor.js';
import { emptyStatusCounts, emptyTriggerStats, percentile } from '../stats.js';

interface PendingEntry {
  at: number;
  priority: number;
  seq: number;
  id: string;
}

const FINAL: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled', 'skipped']);

/** Jobs held in a `Map`, indexed for the engine's queries. */
export class MemoryJobStore implements JobStore {
  readonly #jobs = new Map<string, StoredJob>();
  readonly #byKey = new Map<string, string>();
  readonly #pending = new BinaryHeap<PendingEntry>((a, b) => a.at - b.at || b.priority - a.priority || a.seq - b.seq);
  readonly #running = new Set<string>();
  readonly #activeByTrigger = new Map<string, Set<string>>();
  readonly #unfiredDependents = new Set<string>();
  #seq = 0;

  /** @inheritdoc */
  async insert(job: Job): Promise<Job | null> {
    return this.#insert(job);
  }

  /** @inheritdoc */
  async insertMany(jobs: Job[]): Promise<Array<Job | null>> {
    return jobs.map((job) => this.#insert(job));
  }

  #insert(job: Job): Job | null {
    if (this.#byKey.has(job.key) || this.#jobs.has(job.id)) return null;
    const stored = toStoredJob(job);
    this.#jobs.set(stored.id, stored);
    this.#byKey.set(stored.key, stored.id);
    this.#reindex(stored, null);
    // The caller's object equals what was stored and is not stored state itself: hand it back
    // rather than copying the record a second time.
    return job;
  }

  /** @inheritdoc */
  async get(id: string): Promise<Job | null> {
    const job = this.#jobs.get(id);
    return job ? fromStoredJob(job) : null;
  }

  /** @inheritdoc */
  async getByKey(key: string): Promise<Job | null> {
    const id = this.#byKey.get(key);
    return id === undefined ? null : this.get(id);
  }

  /** @inheritdoc */
  async list(query: JobQuery): Promise<Page<Job>> {
    const limit = pageLimit(query.limit);
    const statuses = query.status === undefined ? null : new Set(Array.isArray(query.status) ? query.status : [query.status]);
    const from = query.from === undefined ? null : new Date(query.from).getTime();
    const to = query.to === undefined ? null : new Date(query.to).getTime();
    const after = query.cursor === undefined ? null : decodeTimeIdCursor(query.cursor);
    const matches: StoredJob[] = [];
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
    return jobPage(matches.slice(0, limit).map(fromStoredJob), matches.length > limit);
  }

  /** @inheritdoc */
  async update(id: string, condition: JobCondition, patch: JobPatch, history?: JobHistoryEntry[]): Promise<Job | null> {
    const job = this.#write(id, condition, patch, history);
    return job ? fromStoredJob(job) : null;
  }

  /** @inheritdoc */
  async write(id: string, condition: JobCondition, patch: JobPatch, history?: JobHistoryEntry[]): Promise<boolean> {
    return this.#write(id, condition, patch, history) !== null;
  }

  #write(id: string, condition: JobCondition, patch: JobPatch, history: JobHistoryEntry[] | undefined): StoredJob | null {
    const job = this.#jobs.get(id);
    if (!job || !matches(job, condition)) return null;
    const before = job.status;
    const previousRunAt = job.runAt;
    // Copy only what the patch brings in; the rest of the stored record is already ours.
    applyPatch(job, patch);
    if (history) for (const entry of history) job.history.push(storedEntry(entry));
    this.#reindex(job, before, previousRunAt);
    return job;
  }

  /** @inheritdoc */
  async claimPending(now: Date, options: ClaimPendingOptions): Promise<Job | null> {
    const handlers = new Set(options.handlers);
    const skipped: PendingEntry[] = [];
    let claimed: StoredJob | null = null;
    const bound = now.getTime();
    while (!claimed) {
      const top = this.#pending.peek();
      if (!top || top.at > bound) break;
      this.#pending.pop();
      const job = this.#jobs.get(top.id);
      if (!job || job.status !== 'pending' || job.runAt !== top.at) continue;
      if (!handlers.has(job.handler) || job.gate !== options.gate) {
        skipped.push(top);
        continue;
      }
      claimed = job;
    }
    for (const entry of skipped) this.#pending.push(entry);
    if (!claimed) return null;
    const token = claimed.fence + 1;
    claimed.status = 'running';
    claimed.gate = null;
    claimed.fence = token;
    claimed.instanceId = options.owner;
    claimed.lease = { owner: options.owner, token, expiresAt: options.leaseExpiresAt.getTime() };
    claimed.history.push(storedEntry(options.history));
    this.#running.add(claimed.id);
    return fromStoredJob(claimed);
  }

  /** @inheritdoc */
  async gatedTriggerIds(now: Date, handlers: string[], limit: number): Promise<string[]> {
    const wanted = new Set(handlers);
    const found = new Set<string>();
    for (const [triggerId, ids] of this.#activeByTrigger) {
      for (const id of ids) {
        const job = this.#jobs.get(id);
        if (job && job.status === 'pending' && job.gate !== null && wanted.has(job.handler) && job.runAt <= now.getTime()) {
          found.add(triggerId);
          break;
        }
      }
      if (found.size >= limit) break;
    }
    return [...found];
  }

  /** @inheritdoc */
  async nextPendingAt(handlers: string[]): Promise<Date | null> {
    const wanted = new Set(handlers);
    const popped: PendingEntry[] = [];
    let found: number | null = null;
    while (found === null) {
      const top = this.#pending.pop();
      if (!top) break;
      const job = this.#jobs.get(top.id);
      if (!job || job.status !== 'pending' || job.runAt !== top.at) continue;
      popped.push(top);
      if (wanted.has(job.handler) && job.gate === null) found = top.at;
    }
    for (const entry of popped) this.#pending.push(entry);
    return found === null ? null : new Date(found);
  }

  /** @inheritdoc */
  async renewLease(id: string, token: number, expiresAt: Date): Promise<Job | null> {
    const job = this.#jobs.get(id);
    if (!job || job.status !== 'running' || job.lease?.token !== token) return null;
    job.lease = { ...job.lease, expiresAt: expiresAt.getTime() };
    return fromStoredJob(job);
  }

  /** @inheritdoc */
  async findExpiredLeases(now: Date, limit: number): Promise<Job[]> {
    const out: Job[] = [];
    for (const id of this.#running) {
      const job = this.#jobs.get(id);
      if (job?.lease && job.lease.expiresAt < now.getTime()) out.push(fromStoredJob(job));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** @inheritdoc */
  async countActive(triggerId: string): Promise<{ running: number; pending: number }> {
    let running = 0;
    let pending = 0;
    for (const id of this.#activeByTrigger.get(triggerId) ?? []) {
      const status = this.#jobs.get(id)?.status;
      if (status === 'running') running++;
      else if (status === 'pending') pending++;
    }
    return { running, pending };
  }

  /** @inheritdoc */
  async findUnfiredDependents(finishedBefore: Date, limit: number): Promise<Job[]> {
    const out: Job[] = [];
    for (const id of this.#unfiredDependents) {
      const job = this.#jobs.get(id);
      if (job?.finishedAt != null && job.finishedAt < finishedBefore.getTime()) out.push(fromStoredJob(job));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** @inheritdoc */
  async stats(filter: { triggerId?: string }): Promise<JobStatsSummary> {
    const byStatus = emptyStatusCounts();
    const durations = new Map<string, number[]>();
    const byTrigger: JobStatsSummary['byTrigger'] = {};
    for (const job of this.#jobs.values()) {
      if (filter.triggerId !== undefined && job.triggerId !== filter.triggerId) continue;
      byStatus[job.status] += 1;
      if (job.status !== 'succeeded' && job.status !== 'failed') continue;
      const entry = (byTrigger[job.triggerId] ??= emptyTriggerStats());
      entry.runs += 1;
      entry[job.status] += 1;
      if (job.finishedAt !== null && (!entry.lastFinishedAt || job.finishedAt > entry.lastFinishedAt.getTime())) entry.lastFinishedAt = new Date(job.finishedAt);
      if (job.metrics.durationMs !== null) {
        let list = durations.get(job.triggerId);
        if (!list) durations.set(job.triggerId, (list = []));
        list.push(job.metrics.durationMs);
      }
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
    let removed = 0;
    for (const job of this.#jobs.values()) {
      if (FINAL.has(job.status) && job.finishedAt !== null && job.finishedAt < finishedBefore.getTime() && !this.#unfiredDependents.has(job.id)) {
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

  /** Number of stored jobs. */
  get size(): number {
    return this.#jobs.size;
  }

  #reindex(job: StoredJob, before: JobStatus | null, previousRunAt?: number): void {
    const status = job.status;
    if (status === 'pending' && (before !== 'pending' || previousRunAt !== job.runAt)) {
      this.#pending.push({ at: job.runAt, priority: job.priority, seq: this.#seq++, id: job.id });
    }
    if (status === 'running') this.#running.add(job.id);
    else this.#running.delete(job.id);
    let active = this.#activeByTrigger.get(job.triggerId);
    if (status === 'pending' || status === 'running') {
      if (!active) this.#activeByTrigger.set(job.triggerId, (active = new Set()));
      active.add(job.id);
    } else if (active) {
      active.delete(job.id);
      if (active.size === 0) this.#activeByTrigger.delete(job.triggerId);
    }
    if (FINAL.has(status) && !job.dependentsFired) this.#unfiredDependents.add(job.id);
    else this.#unfiredDependents.delete(job.id);
  }
}

function matches(job: StoredJob, condition: JobCondition): boolean {
  if (condition.status && !condition.status.includes(job.status)) return false;
  if (condition.leaseToken !== undefined && job.lease?.token !== condition.leaseToken) return false;
  return true;
}

function newestFirst(a: StoredJob, b: StoredJob): number {
  return b.scheduledFor - a.scheduledFor || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}
