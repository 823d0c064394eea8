/**
 * A trigger's run timeline: every slot its schedule had in a window, with what became of it.
 *
 * Slots with a job show the job's status. A past slot with no job was lost, and the engine leaves
 * no record of why (a missed slot is only logged), so the label is inferred from the trigger's
 * misfire policy and the jobs around the slot:
 * - `coalesced`: the policy is `run-once` and the next scheduled job after the slot was created at
 *   or after its own slot, i.e. by a late claim that walked past this slot and fired only the last
 *   missed one (`#misfirePlan`). On-time jobs are written `leadMs` ahead of their slot, so they do
 *   not count; triggers with a window or a concurrency cap are claimed at the slot, and for them a
 *   gap right before an on-time job is also labelled `coalesced`.
 * - `missed`: any other job-less past slot: the policy is `skip`, `run-all` dropped it beyond
 *   `maxMisfireRuns`, the trigger was paused (resuming does not replay), or no instance ran.
 * Slots from the trigger's `nextRunAt` on are not due yet and are left out, as are slots before
 * the trigger was created. Slots are computed from the trigger's current schedule. Jobs not made
 * by the schedule (manual, event, dependency, retries) are listed at their instant.
 */
import type { Job, Trigger } from '../types.js';
import { firstSlot, nextSlotAfter } from '../schedule/index.js';
import type { Timeline, TimelineSlot } from './types.js';

export type { Timeline } from './types.js';

/** Most entries one timeline answer holds. */
export const MAX_TIMELINE_ITEMS = 1000;

/** The schedule's slots in `[from, until]`, at most `limit + 1` of them. */
function slotsIn(trigger: Trigger, from: Date, until: number, limit: number): number[] {
  const bounds = { startAt: trigger.startAt, endAt: trigger.endAt };
  const out: number[] = [];
  let slot = firstSlot(trigger.schedule, bounds, from);
  while (slot !== null && slot.getTime() <= until && out.length <= limit) {
    out.push(slot.getTime());
    slot = nextSlotAfter(trigger.schedule, bounds, slot);
  }
  return out;
}

function lastReason(job: Job): string | null {
  return job.history[job.history.length - 1]?.reason ?? null;
}

function fromJob(job: Job): TimelineSlot {
  return { scheduledFor: job.scheduledFor.toISOString(), status: job.status, jobId: job.id, reason: lastReason(job), source: job.source };
}

/**
 * Build the timeline of `trigger` over `[from, to]` from its jobs in that window.
 *
 * @param jobs the trigger's jobs with `scheduledFor` in the window, any order
 * @param now current time: later slots are not due yet
 */
export function buildTimeline(trigger: Trigger, jobs: readonly Job[], from: Date, to: Date, now: Date): Timeline {
  const start = new Date(Math.max(from.getTime(), trigger.createdAt.getTime()));
  let until = Math.min(to.getTime(), now.getTime());
  if (trigger.status === 'active' && trigger.nextRunAt !== null) until = Math.min(until, trigger.nextRunAt.getTime() - 1);
  const slots = slotsIn(trigger, start, until, MAX_TIMELINE_ITEMS);

  const bySlot = new Map<number, Job>();
  for (const job of jobs) if (job.source === 'schedule') bySlot.set(job.scheduledFor.getTime(), job);
  const scheduled = jobs.filter((j) => j.source === 'schedule').sort((a, b) => a.scheduledFor.getTime() - b.scheduledFor.getTime());

  const entries: TimelineSlot[] = [];
  let next = 0;
  for (const slot of slots) {
    const job = bySlot.get(slot);
    if (job) {
      entries.push(fromJob(job));
      continue;
    }
    while (next < scheduled.length && scheduled[next]!.scheduledFor.getTime() <= slot) next++;
    const later = scheduled[next];
    const iso = new Date(slot).toISOString();
    if (trigger.misfire === 'run-once' && later && later.createdAt.getTime() >= later.scheduledFor.getTime()) {
      entries.push({
        scheduledFor: iso,
        status: 'coalesced',
        jobId: later.id,
        reason: `late slot folded into the run of ${later.scheduledFor.toISOString()} (misfire: run-once)`,
        source: null,
      });
    } else {
      entries.push({
        scheduledFor: iso,
        status: 'missed',
        jobId: null,
        reason: `no job: the trigger was paused, no instance ran, or the late slot was dropped (misfire: ${trigger.misfire})`,
        source: null,
      });
    }
  }
  // Scheduled jobs whose slot the current schedule no longer has (it was changed) still happened.
  const slotSet = new Set(slots);
  for (const job of jobs) {
    if (job.source !== 'schedule' || !slotSet.has(job.scheduledFor.getTime())) entries.push(fromJob(job));
  }
  entries.sort((a, b) => (a.scheduledFor < b.scheduledFor ? -1 : a.scheduledFor > b.scheduledFor ? 1 : 0));
  const truncated = entries.length > MAX_TIMELINE_ITEMS;
  return { items: truncated ? entries.slice(0, MAX_TIMELINE_ITEMS) : entries, truncated };
}
