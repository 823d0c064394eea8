/**
 * Worker-thread handlers next to an inline one, in one scheduler.
 *
 *   npx tsx examples/worker-pool.ts
 *
 * `render` burns CPU in a worker thread every second while the main thread stays responsive;
 * `render.stuck` spins forever and is terminated by its timeout; `notify` runs inline.
 */
import { Scheduler, WorkerPoolJobRunner } from '../src/index.js';

const scheduler = new Scheduler({
  jobRunner: new WorkerPoolJobRunner({
    maxThreads: 2,
    // Each thread gets its own heap limit: a handler that exceeds it fails alone.
    resourceLimits: { maxOldGenerationSizeMb: 128 },
  }),
});

// Module handlers run in the worker pool. The module is checked (imported in a worker) at
// registration, so a wrong path or export name fails here, not at 3 a.m.
const render = new URL('./workers/render.mjs', import.meta.url);
scheduler.register('render', { module: render }, { timeoutMs: 2000 });
scheduler.register('render.stuck', { module: render, exportName: 'stuck' }, { timeoutMs: 500 });
// Functions cannot move to another thread: the scheduler runs them inline.
scheduler.register('notify', async (ctx) => {
  ctx.log.info({ payload: ctx.payload }, 'notify ran inline');
  return { notified: true };
});

scheduler.on('job:succeeded', (job) => {
  const { queuedMs, durationMs, cpuUserMs, heapUsedBytes } = job.metrics;
  // Worker jobs: CPU of their own thread and peak heap of the thread. Inline jobs: the process's
  // CPU and the heap growth over the call (see docs/runners.md).
  console.log(
    `${job.handler} succeeded in ${durationMs} ms after ${queuedMs} ms queued`,
    `(cpu ${cpuUserMs?.toFixed(0)} ms, heap ${((heapUsedBytes ?? 0) / 2 ** 20).toFixed(1)} MB)`,
  );
});
scheduler.on('job:failed', (job) => {
  console.log(`${job.handler} failed: ${job.error?.name}: ${job.error?.message}`);
});

await scheduler.start();
await scheduler.addTrigger({ handler: 'render', schedule: { every: '1s' }, payload: { width: 240, height: 80, iterations: 10_000 } });
await scheduler.addTrigger({ handler: 'render.stuck', schedule: { at: new Date(Date.now() + 1500) } });
await scheduler.addTrigger({ handler: 'notify', schedule: { every: '2s' }, payload: { channel: 'ops' } });

// While workers burn CPU, the main thread's timers stay on time.
const tick = setInterval(() => process.stdout.write('.'), 250);
await new Promise((resolve) => setTimeout(resolve, 4500));
clearInterval(tick);
console.log();

// Waits for running jobs up to the timeout, then terminates the pool's threads.
await scheduler.stop({ graceful: true, timeoutMs: 5000 });
