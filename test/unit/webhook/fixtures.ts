/**
 * Test helpers of the webhook suites: a fake scheduler, a made-up `Job`, a real `node:http` server on
 * 127.0.0.1 and a raw HTTP client (node:http, not fetch, so tests control every header and byte).
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { TriggerNotFoundError } from '../../../src/errors.js';
import { makeJob as baseJob } from '../../../src/testing/fixtures.js';
import type { Job, JsonValue } from '../../../src/types.js';
import type { WebhookHealthReport, WebhookScheduler } from '../../../src/webhook/index.js';

/** A pending `Job` record with made-up values (the contract's record); `overrides` wins. */
export function makeJob(overrides: Partial<Job> = {}): Job {
  const at = new Date('2026-01-01T00:00:00Z');
  return baseJob({
    id: 'job-1',
    key: 'key-1',
    triggerId: 'trigger-1',
    handler: 'handler-1',
    payload: null,
    source: 'manual',
    scheduledFor: at,
    runAt: at,
    history: [],
    createdAt: at,
    ...overrides,
  });
}

/** One recorded `publish` call. */
export interface PublishCall {
  event: string;
  payload: JsonValue | undefined;
  options: { eventId?: string } | undefined;
}

/** One recorded `runTrigger` call. */
export interface RunCall {
  id: string;
  options: { payload?: JsonValue; runId?: string } | undefined;
}

/**
 * A `WebhookScheduler` that records calls. `publish` fires the triggers listed in `listeners` for the
 * event, and fires an `eventId` only once (answering a repeat with the jobs of the first delivery),
 * as the real scheduler promises. `runTrigger` knows the ids in `triggers`.
 */
export class FakeScheduler implements WebhookScheduler {
  readonly publishCalls: PublishCall[] = [];
  readonly runCalls: RunCall[] = [];
  /** Jobs created, i.e. real fires (repeats of an eventId do not count). */
  readonly fired: Job[] = [];
  /** Event name → trigger ids listening to it. */
  listeners: Record<string, string[]> = { 'testrun.finished': ['on-testrun'] };
  /** Known trigger ids. */
  triggers = new Set<string>(['nightly-report']);
  /** Report of `health()`. */
  report: WebhookHealthReport & Record<string, unknown> = { status: 'ok', instanceId: 'fake-1' };
  /** When set, every method throws it. */
  failure: Error | undefined = undefined;
  #byEventId = new Map<string, Job[]>();
  #seq = 0;

  publish(event: string, payload?: JsonValue, options?: { eventId?: string }): Promise<Job[]> {
    this.publishCalls.push({ event, payload, options });
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const eventId = options?.eventId;
    if (eventId !== undefined) {
      const seen = this.#byEventId.get(eventId);
      if (seen) return Promise.resolve(seen);
    }
    const jobs = (this.listeners[event] ?? []).map((triggerId) =>
      makeJob({
        id: `job-${++this.#seq}`,
        triggerId,
        source: 'event',
        payload: payload ?? null,
        event: { name: event, id: eventId ?? `generated-${this.#seq}` },
      }),
    );
    this.fired.push(...jobs);
    if (eventId !== undefined) this.#byEventId.set(eventId, jobs);
    return Promise.resolve(jobs);
  }

  runTrigger(id: string, options?: { payload?: JsonValue; runId?: string }): Promise<Job> {
    this.runCalls.push({ id, options });
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (!this.triggers.has(id)) return Promise.reject(new TriggerNotFoundError(id));
    const job = makeJob({ id: `job-${++this.#seq}`, triggerId: id, payload: options?.payload ?? null });
    this.fired.push(job);
    return Promise.resolve(job);
  }

  health(): Promise<WebhookHealthReport> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return Promise.resolve(this.report);
  }
}

/** A listening server and how to reach and stop it. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1 on a free port. */
export async function startServer(listener: RequestListener): Promise<RunningServer> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What `send` resolves with. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Parsed body (`undefined` when empty or not JSON). */
  json: unknown;
}

/** A request to send. */
export interface SendOptions {
  method?: string;
  /** Path with query, sent exactly as given (no URL normalization). */
  path: string;
  headers?: Record<string, string | number>;
  /** Sent in one piece with a `Content-Length`, unless `chunks` is used. */
  body?: string | Buffer;
}

/** Send one request on a fresh connection and read the whole answer. */
export function send(port: number, options: SendOptions): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    const body = options.body;
    const req = httpRequest(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** JSON POST with the right media type. */
export function postJson(
  port: number,
  path: string,
  value: unknown,
  headers: Record<string, string | number> = {},
): Promise<Reply> {
  return send(port, {
    method: 'POST',
    path,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(value),
  });
}

/** The standard error body shape: exactly `{ error: { code, message } }`, nothing else. */
export function errorBody(code: string): { error: { code: string; message: unknown } } {
  return { error: { code, message: expect.any(String) } };
}
