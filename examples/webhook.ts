/**
 * Webhook example: a `node:http` server that lets CI publish scheduler events over HTTP with
 * HMAC-signed requests, and a client that signs and sends them.
 *
 *   npx tsx examples/webhook.ts
 *
 * It starts the server on 127.0.0.1 (a free port), sends a signed event twice with the same
 * Idempotency-Key (fires once), one unsigned request (401), reads health, and stops.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Scheduler, type JsonValue } from '../src/index.js';
import { createWebhookHandler, signHmac } from '../src/entries/http.js';

const scheduler = new Scheduler();
scheduler.register('notify', async (ctx) => {
  console.log(`scheduler: notify fired with ${JSON.stringify(ctx.payload)} (event id ${ctx.job.event?.id})`);
});
await scheduler.start();
await scheduler.addTrigger({
  id: 'notify-on-testrun',
  handler: 'notify',
  schedule: { event: 'testrun.finished', filter: { suite: 'smoke' } },
});

// Share this secret with the sender (CI). At least 32 bytes; keep it out of the source in real use.
const secret = process.env['SCHEDULER_WEBHOOK_SECRET'] ?? 'example-only-secret-0123456789abcdef';

const server = createServer(
  createWebhookHandler(scheduler, {
    auth: { hmac: { secret } },
    basePath: '/scheduler',
  }),
);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scheduler`;

/**
 * What a sender does: sign the method, the path, the exact bytes it sends and the idempotency key.
 * `timestamp` defaults to now; every attempt is signed anew, as a signature is accepted once.
 */
async function sendEvent(name: string, payload: JsonValue, deliveryId: string, timestamp?: number): Promise<Response> {
  const body = JSON.stringify(payload);
  const path = `/scheduler/events/${encodeURIComponent(name)}`;
  return fetch(`${base}/events/${encodeURIComponent(name)}`, {
    method: 'POST',
    body,
    headers: {
      'Content-Type': 'application/json',
      'Idempotency-Key': deliveryId,
      'X-Signature': signHmac(secret, { method: 'POST', path, body, idempotencyKey: deliveryId, ...(timestamp === undefined ? {} : { timestamp }) }),
    },
  });
}

try {
  const first = await sendEvent('testrun.finished', { suite: 'smoke', passed: 42 }, 'ci-run-1001');
  console.log('first delivery:', first.status, await first.text());

  // The sender retries (say its connection dropped): same key, same jobs, nothing fires again.
  // Signed anew (a second later here: the same second would give the same, already used, signature).
  const retry = await sendEvent('testrun.finished', { suite: 'smoke', passed: 42 }, 'ci-run-1001', Math.floor(Date.now() / 1000) + 1);
  console.log('retried delivery:', retry.status, await retry.text());

  const unsigned = await fetch(`${base}/events/testrun.finished`, {
    method: 'POST',
    body: '{}',
    headers: { 'Content-Type': 'application/json' },
  });
  console.log('unsigned request:', unsigned.status, await unsigned.text());

  const health = await fetch(`${base}/health`, {
    headers: { 'X-Signature': signHmac(secret, { method: 'GET', path: '/scheduler/health', body: '' }) },
  });
  console.log('health:', health.status, await health.text());
} finally {
  server.closeAllConnections();
  server.close();
  await scheduler.stop();
}
