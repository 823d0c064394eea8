/**
 * One scheduler process of the Prometheus test: MongoDB backend, the management API on
 * 127.0.0.1 (port printed as `{"port":n}`), `trigger:late` events printed as `{"late":...}`.
 * `HANDLERS` says which handlers it registers; `TRIGGERS=1` makes it add the test's triggers.
 * It exits when its stdin closes (the test process died), so it never outlives the test.
 */
import { createServer } from 'node:http';
import { MongoClient } from 'mongodb';
import { Scheduler } from '../../src/index.js';
import { createManagementApi } from '../../src/entries/http.js';
import { createMongoBackend } from '../../src/entries/mongo.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const client = new MongoClient(env('MONGODB_URI'), { serverSelectionTimeoutMS: 10_000 });
await client.connect();
const backend = createMongoBackend({ db: client.db(env('DB_NAME')) });
await backend.ensureIndexes();
const scheduler = new Scheduler({
  ...backend,
  instanceId: env('INSTANCE_ID'),
  pollIntervalMs: 250,
  leaseMs: 3000,
  telemetry: { metrics: true },
});
scheduler.on('error', (error) => process.stderr.write(`${error.message}\n`));
scheduler.on('trigger:late', (late) => process.stdout.write(`${JSON.stringify({ late: late.triggerId })}\n`));
for (const name of env('HANDLERS').split(',')) {
  scheduler.register(name, async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return 'ok';
  });
}
await scheduler.start();
if (process.env.TRIGGERS === '1') {
  await scheduler.addTrigger({ id: 'tick', handler: 'tick', schedule: { every: 1000 } });
  await scheduler.addTrigger({ id: 'quiet', handler: 'only-a', schedule: { every: 2000 }, alertAfterMs: 1500 });
}
const api = createManagementApi(scheduler, { auth: { none: true } });
const server = createServer(api).listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => {
  void scheduler.stop({ graceful: false }).finally(() => process.exit(0));
});
