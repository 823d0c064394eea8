/**
 * The scheduler on MongoDB. Start several copies at once: they share the database and together run
 * each one-second slot exactly once. Runs for about five seconds and exits.
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27017 npx tsx examples/mongo.ts
 *   (no MongoDB at hand? `eval "$(bash .ci/ferretdb.sh start)"` starts a FerretDB and sets MONGODB_URI)
 */
import { MongoClient } from 'mongodb';
import { consoleLogger, Scheduler } from '../src/index.js';
import { createMongoBackend } from '../src/entries/mongo.js';

const client = new MongoClient(process.env['MONGODB_URI'] ?? 'mongodb://127.0.0.1:27017');
await client.connect();

const logger = consoleLogger('info');
const backend = createMongoBackend({ client, dbName: 'scheduler_example', logger });
// Idempotent: safe on every start (or run it once from a deploy step instead).
const report = await backend.ensureIndexes();
console.log(`indexes ready (TTL indexes ${report.ttl ? 'on' : 'not supported by this server'})`);
console.log(`server clock minus ours: ${await backend.clockOffset()} ms`);

// The backend carries triggerStore, jobStore and lockManager; the scheduler ignores the rest.
const scheduler = new Scheduler({ ...backend, logger, pollIntervalMs: 250 });
const instance = `${process.pid}`;

scheduler.register('tick', async (ctx) => {
  console.log(`[${new Date().toISOString()}] instance ${instance} runs slot ${ctx.job.scheduledFor.toISOString()}`);
  return { instance };
});
scheduler.on('error', (error) => console.error('scheduler error:', error.message));

await scheduler.start();
// Every copy adds the same trigger; the second one finds it already there.
await scheduler.addTrigger({ id: 'example-tick', handler: 'tick', schedule: { every: '1s' } }).catch((error: unknown) => {
  if ((error as { field?: string }).field !== 'id') throw error;
});

await new Promise((resolve) => setTimeout(resolve, 5000));
await scheduler.stop({ graceful: true, timeoutMs: 2000 });
const recent = await scheduler.listJobs({ triggerId: 'example-tick', limit: 10 });
console.log('last slots:', recent.items.map((job) => `${job.scheduledFor.toISOString()} ${job.status} by ${job.instanceId}`));
await client.close();
