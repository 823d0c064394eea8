/**
 * Quick start: the in-memory default, no database. Runs for about five seconds and exits.
 *
 *   npm run example
 */
import { Scheduler, nextFireTimes } from '../src/index.js';

const scheduler = new Scheduler({ pollIntervalMs: 250 });

scheduler.register('heartbeat', async (ctx) => {
  console.log(`[${new Date().toISOString()}] heartbeat #${ctx.attempt} for slot ${ctx.job.scheduledFor.toISOString()}`);
  return { ok: true };
});

let flakyCalls = 0;
scheduler.register(
  'reports.flaky',
  async (ctx) => {
    flakyCalls += 1;
    if (flakyCalls % 2 === 1) throw new Error('report service busy');
    return { rows: 42, attempt: ctx.attempt };
  },
  { retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 200, jitter: 'equal' } } },
);

scheduler.register('notify', async (ctx) => {
  console.log(`[${new Date().toISOString()}] notify: test run finished`, ctx.payload);
});

scheduler.on('job:succeeded', (job) => console.log(`  ✓ ${job.triggerId} succeeded after ${job.attempts} attempt(s)`));
scheduler.on('job:retrying', (job) => console.log(`  ↻ ${job.triggerId} failed (${job.error?.message}); retry at ${job.nextAttemptAt?.toISOString()}`));

await scheduler.start();
await scheduler.addTrigger({ id: 'heartbeat', handler: 'heartbeat', schedule: { every: '1s' } });
await scheduler.addTrigger({ id: 'every-second-cron', handler: 'reports.flaky', schedule: { cron: '*/2 * * * * *', timezone: 'Europe/Berlin' } });
await scheduler.addTrigger({ id: 'on-smoke', handler: 'notify', schedule: { event: 'testrun.finished', filter: { suite: 'smoke' } } });

console.log('next weekday 09:00 Berlin slots:', nextFireTimes({ cron: '0 9 * * MON-FRI', timezone: 'Europe/Berlin' }, { count: 3 }).map((d) => d.toISOString()));

setTimeout(() => void scheduler.publish('testrun.finished', { suite: 'smoke', passed: 12 }, { eventId: 'run-1' }), 1500);

await new Promise((resolve) => setTimeout(resolve, 5000));
await scheduler.stop({ graceful: true, timeoutMs: 2000 });
const stats = await scheduler.stats();
console.log('jobs by status:', stats.jobs);
