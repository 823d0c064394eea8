/**
 * Diagnostic (not part of `npm run bench`): where do late fires come from? Runs the lateness
 * scenario (10,000 `at` slots over 10 s, defaults) with the trigger store's `findDue` timed and GC
 * events recorded, then lists the fires more than `--over` ms late next to the poll or GC that
 * overlapped them.
 *
 *   npx tsx bench/diagnose-lateness.ts [--over 4]
 *
 * Note: the findDue time includes
 * microtasks that ran while it was awaited; it is an upper bound of the poll's own cost.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { MemoryTriggerStore, Scheduler } from './pkg.js';
import { calibrateEpoch, epochNow, keepAlive, numArg, prng, r } from './lib.js';

const OVER = numArg('over', 4);
const N = 10_000;
const gcs: Array<{ start: number; duration: number }> = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcs.push({ start: entry.startTime, duration: entry.duration });
}).observe({ entryTypes: ['gc'] });

const Base = MemoryTriggerStore;
class TimedStore extends Base {
  readonly polls: Array<{ start: number; duration: number; n: number }> = [];
  override async findDue(until: Date, limit: number, handlers: string[], after?: Date, held?: (id: string, version: number) => boolean) {
    const start = performance.now();
    const found = await super.findDue(until, limit, handlers, after, held);
    this.polls.push({ start, duration: performance.now() - start, n: found.length });
    return found;
  }
}

const release = keepAlive();
const store = new TimedStore();
const scheduler = new Scheduler({ triggerStore: store });
const offset = calibrateEpoch();
const rand = prng(42);
const T0 = Date.now() + 2000;
const fires: Array<{ at: number; late: number }> = [];
let resolveDone!: () => void;
const done = new Promise<void>((resolve) => (resolveDone = resolve));
scheduler.register('noop', async (ctx) => {
  const t = epochNow(offset);
  fires.push({ at: t - performance.timeOrigin, late: t - ctx.job.scheduledFor.getTime() });
  if (fires.length === N) resolveDone();
});
for (let i = 0; i < N; i++) {
  await scheduler.addTrigger({ id: `l${i}`, handler: 'noop', schedule: { at: new Date(T0 + Math.floor(rand() * 10_000)) } });
}
await scheduler.start();
await done;
await scheduler.stop();
release();

console.log('polls (start ms: findDue ms / triggers returned):');
console.log('  ' + store.polls.map((p) => `${r(p.start, 0)}: ${r(p.duration, 2)} ms / ${p.n}`).join('\n  '));
const late = fires.filter((f) => f.late > OVER);
let byGc = 0;
let byPoll = 0;
for (const f of late) {
  const gc = gcs.find((g) => g.start <= f.at && g.start + g.duration + OVER >= f.at - f.late && g.start <= f.at);
  const poll = store.polls.find((p) => p.start <= f.at && p.start + p.duration + OVER >= f.at - f.late);
  if (poll) byPoll++;
  else if (gc) byGc++;
}
console.log(`fires later than ${OVER} ms: ${late.length} of ${N}; overlapping a poll: ${byPoll}; else overlapping a GC: ${byGc}; other: ${late.length - byPoll - byGc}`);
console.log(`GC: ${gcs.length} pauses, ${r(gcs.reduce((a, g) => a + g.duration, 0), 0)} ms total, longest ${r(Math.max(...gcs.map((g) => g.duration)), 1)} ms`);
