/**
 * Dashboard example: a scheduler on the in-memory backend with a handful of demo triggers, and the
 * dashboard (with the management API under /api/) served on 127.0.0.1.
 *
 *   npm run example:dashboard          # http://127.0.0.1:3000/
 *   PORT=8080 npm run example:dashboard
 *
 * Open the printed URL; stop with Ctrl-C. The demo has a weekday report and a 02:30 cron in
 * Europe/Berlin (a time that does not exist on the spring DST day: it fires once right after the
 * jump), a heartbeat, a handler that always fails (retry it from the page), a slow export whose
 * overlapping slots are skipped, an event trigger, a dependent trigger and a manual one.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Scheduler } from '../src/index.js';
import { createDashboard } from '../src/entries/http.js';

const port = Number(process.env['PORT'] ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  throw new Error(`PORT must be a port number, got ${process.env['PORT']}`);
}

const scheduler = new Scheduler({ pollIntervalMs: 500, instanceId: 'demo-1' });
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

scheduler.register('reports.build', async (ctx) => {
  // Some real work, so the CPU and heap figures of the job detail are not all zero.
  const rows = Array.from({ length: 20_000 + Math.floor(Math.random() * 40_000) }, (_, i) => ({ i, v: Math.sqrt(i) }));
  await sleep(150 + Math.random() * 900, ctx.signal);
  return { rows: rows.length, team: (ctx.payload as { team?: string } | null)?.team ?? 'all' };
});
scheduler.register('heartbeat', async () => ({ ok: true }));
scheduler.register('cache.warm', async (ctx) => {
  await sleep(50 + Math.random() * 200, ctx.signal);
  return { keys: Math.floor(Math.random() * 500) };
});
scheduler.register(
  'backup.verify',
  async () => {
    throw new Error('checksum mismatch on shard 3');
  },
  { retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 1000 } } },
);
scheduler.register('export.slow', async (ctx) => {
  await sleep(6000, ctx.signal);
  return { exported: true };
});
scheduler.register('notify', async (ctx) => ({ notified: ctx.payload }));
scheduler.register('search.reindex', async (ctx) => {
  await sleep(400, ctx.signal);
  return { documents: 12_345 };
});

await scheduler.start();
await scheduler.addTrigger({
  id: 'daily-report',
  name: 'Daily QA report',
  handler: 'reports.build',
  schedule: { cron: '0 9 * * MON-FRI', timezone: 'Europe/Berlin' },
  payload: { team: 'qa' },
  tags: ['reports'],
});
await scheduler.addTrigger({
  id: 'night-compaction',
  name: 'Night compaction (DST zone)',
  handler: 'reports.build',
  schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' },
});
await scheduler.addTrigger({ id: 'heartbeat', name: 'Heartbeat', handler: 'heartbeat', schedule: { every: '5s' } });
await scheduler.addTrigger({
  id: 'cache-warm',
  name: 'Cache warm-up',
  handler: 'cache.warm',
  schedule: { cron: '*/15 * * * * *', timezone: 'America/New_York' },
});
await scheduler.addTrigger({ id: 'backup-verify', name: 'Backup verification', handler: 'backup.verify', schedule: { every: '20s' } });
await scheduler.addTrigger({
  id: 'export',
  name: 'Slow export',
  handler: 'export.slow',
  schedule: { every: '4s' },
  overlap: 'skip',
});
await scheduler.addTrigger({
  id: 'on-deploy',
  name: 'Notify on deploy',
  handler: 'notify',
  schedule: { event: 'deploy.finished', filter: { env: 'prod' } },
});
await scheduler.addTrigger({
  id: 'alert-backup',
  name: 'Alert on failed backup',
  handler: 'notify',
  schedule: { after: 'backup-verify', on: 'failure' },
});
await scheduler.addTrigger({ id: 'reindex', name: 'Search reindex', handler: 'search.reindex', schedule: { manual: true } });

// A little history, so the page has something to show right away.
await scheduler.runTrigger('daily-report');
await scheduler.runTrigger('reindex');
await scheduler.runTrigger('backup-verify');
await scheduler.publish('deploy.finished', { env: 'prod', version: '1.4.2' }, { eventId: 'deploy-142' });

const server = createServer(createDashboard(scheduler, { auth: { none: true }, title: 'Scheduler demo' }));
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
console.log(`dashboard: http://127.0.0.1:${(server.address() as AddressInfo).port}/  (Ctrl-C to stop)`);

process.once('SIGINT', () => {
  console.log('\nstopping…');
  // Open event streams would keep the server open forever: close them too.
  server.closeAllConnections();
  server.close();
  scheduler.stop({ graceful: true, timeoutMs: 3000 }).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error('stop failed:', err);
      process.exit(1);
    },
  );
});
