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
import type { Job, JsonValue } from '../src/types.js';
import { createWebhookHandler, signHmac, type WebhookScheduler } from '../src/webhook/index.js';

// In an app this is your `Scheduler` (it satisfies `WebhookScheduler`), with an event trigger such
// as `{ handler: 'notify', schedule: { event: 'testrun.finished', filter: { suite: 'smoke' } } }`.
// A stand-in keeps this example runnable on its own: it fires one job per new event id.
function standInScheduler(): WebhookScheduler {
  const seen = new Map<string, Job[]>();
  let seq = 0;
  const job = (triggerId: string, payload: JsonValue): Job => {
    const now = new Date();
    // Only the fields the webhook answers with matter here; the cast fills the record's shape.
    return { id: `job-${++seq}`, triggerId, payload, createdAt: now } as unknown as Job;
  };
  return {
    publish(event, payload, options) {
      const id = options?.eventId;
      const earlier = id === undefined ? undefined : seen.get(id);
      if (earlier) return Promise.resolve(earlier);
      console.log(`scheduler: event "${event}" fired with ${JSON.stringify(payload)}`);
      const jobs = [job('notify-on-testrun', payload ?? null)];
      if (id !== undefined) seen.set(id, jobs);
      return Promise.resolve(jobs);
    },
    runTrigger(id, options) {
      return Promise.resolve(job(id, options?.payload ?? null));
    },
    health() {
      return Promise.resolve({ status: 'ok' });
    },
  };
}

// Share this secret with the sender (CI). At least 32 bytes; keep it out of the source in real use.
const secret = process.env['SCHEDULER_WEBHOOK_SECRET'] ?? 'example-only-secret-0123456789abcdef';

const server = createServer(
  createWebhookHandler(standInScheduler(), {
    auth: { hmac: { secret } },
    basePath: '/scheduler',
  }),
);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scheduler`;

/** What a sender does: sign the exact bytes it sends, and the idempotency key with them. */
async function sendEvent(name: string, payload: JsonValue, deliveryId: string): Promise<Response> {
  const body = JSON.stringify(payload);
  return fetch(`${base}/events/${encodeURIComponent(name)}`, {
    method: 'POST',
    body,
    headers: {
      'Content-Type': 'application/json',
      'Idempotency-Key': deliveryId,
      'X-Signature': signHmac(secret, { body, idempotencyKey: deliveryId }),
    },
  });
}

try {
  const first = await sendEvent('testrun.finished', { suite: 'smoke', passed: 42 }, 'ci-run-1001');
  console.log('first delivery:', first.status, await first.text());

  // The sender retries (say its connection dropped): same key, same jobs, nothing fires again.
  const retry = await sendEvent('testrun.finished', { suite: 'smoke', passed: 42 }, 'ci-run-1001');
  console.log('retried delivery:', retry.status, await retry.text());

  const unsigned = await fetch(`${base}/events/testrun.finished`, {
    method: 'POST',
    body: '{}',
    headers: { 'Content-Type': 'application/json' },
  });
  console.log('unsigned request:', unsigned.status, await unsigned.text());

  const health = await fetch(`${base}/health`, { headers: { 'X-Signature': signHmac(secret, { body: '' }) } });
  console.log('health:', health.status, await health.text());
} finally {
  server.closeAllConnections();
  server.close();
}
