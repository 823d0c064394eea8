/**
 * `GET /events`: a Server-Sent Events stream of job and trigger changes.
 *
 * Changes made through this process's scheduler are sent at once (from its events). Changes made
 * by other instances sharing the store are found by polling it: the newest jobs, the active
 * (pending and running) jobs, any job that just left the active set, and the triggers. Each record
 * is sent when its fingerprint (job: status, attempts, history length; trigger: version) differs
 * from the last one sent, so a local change seen again by the poll is not sent twice. Frames carry
 * summaries (no payload, result or history; a job's `historyLength` instead): a client that shows
 * one record in full reads it from the REST routes.
 *
 * One hub serves every client of an API: it polls only while at least one client is connected and
 * stops its timers and listeners when the last one goes.
 */
import type { ServerResponse } from 'node:http';
import type { Scheduler } from '../scheduler.js';
import type { Job, Trigger } from '../types.js';
import type { WebhookLogger } from '../http/types.js';
import { streamedJob, triggerSummary } from './answers.js';
import { ManagementHttpError } from './errors.js';

function tooManyStreams(message: string): ManagementHttpError {
  return new ManagementHttpError(429, 'ERR_TOO_MANY_STREAMS', message, { headers: { 'Retry-After': '10' } });
}

/** Newest jobs read per poll. */
const NEWEST_JOBS = 100;
/** Active jobs read per poll. */
const ACTIVE_JOBS = 1000;
/** Triggers read per poll (pages of 1000). */
const MAX_TRIGGERS = 10_000;
/** Remembered job fingerprints; the oldest are forgotten beyond this. */
const MAX_REMEMBERED_JOBS = 20_000;
/** A client whose unsent output grows past this is too slow and is disconnected. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Default of `maxStreams`. */
export const DEFAULT_MAX_STREAMS = 100;
/** Default of `maxStreamsPerCaller`. */
export const DEFAULT_MAX_STREAMS_PER_CALLER = 10;

/** Who opened a stream: an id to count streams by, and when the credentials expire. */
export interface Caller {
  /** JWT subject, `hmac`, or (without authentication) the peer address. */
  id: string;
  /** The token's expiry in epoch ms; the stream ends then. `null`: no expiry. */
  expiresAtMs: number | null;
}

const JOB_EVENTS = [
  'job:scheduled',
  'job:started',
  'job:succeeded',
  'job:failed',
  'job:retrying',
  'job:cancelled',
  'job:skipped',
  'job:timeout',
  'job:stalled',
] as const;
const TRIGGER_EVENTS = ['trigger:added', 'trigger:updated', 'trigger:paused', 'trigger:resumed'] as const;

interface Client {
  res: ServerResponse;
  triggerId: string | null;
  callerId: string;
  expiry: NodeJS.Timeout | null;
}

function jobPrint(job: Job): string {
  return `${job.status}:${job.attempts}:${job.history.length}:${job.cancelRequested ? 1 : 0}`;
}

/** Options of the hub. */
export interface EventHubOptions {
  /** Store poll interval in ms. */
  pollMs: number;
  /** Keep-alive comment interval in ms. */
  pingMs: number;
  /** Where poll failures are logged. */
  logger: WebhookLogger | null;
  /** Most open streams in all. */
  maxStreams: number;
  /** Most open streams of one caller. */
  maxStreamsPerCaller: number;
  /** Clock in epoch ms (token expiry). */
  now: () => number;
}

/** Fan-out of scheduler changes to SSE clients. */
export class EventHub {
  readonly #scheduler: Scheduler;
  readonly #o: EventHubOptions;
  readonly #clients = new Set<Client>();
  readonly #jobs = new Map<string, string>();
  readonly #active = new Set<string>();
  #triggers = new Map<string, number>();
  #pollTimer: NodeJS.Timeout | null = null;
  #pingTimer: NodeJS.Timeout | null = null;
  /** Bumped on every start and stop, so a poll from a previous session does not re-arm. */
  #session = 0;
  #primed = false;

  // Local changes are sent even before the first poll has primed the fingerprints.
  readonly #onJob = (job: Job): void => this.#offerJob(job, true);
  readonly #onTrigger = (trigger: Trigger): void => this.#offerTrigger(trigger, true);
  readonly #onRemoved = (trigger: Trigger): void => {
    this.#triggers.delete(trigger.id);
    this.#broadcast('trigger-removed', { id: trigger.id }, trigger.id);
  };

  constructor(scheduler: Scheduler, options: EventHubOptions) {
    this.#scheduler = scheduler;
    this.#o = options;
  }

  /**
   * Start streaming to `res`; the stream ends when the client disconnects, or when the caller's
   * token expires. Throws a 429 `ManagementHttpError` (before answering) past a stream cap.
   */
  attach(res: ServerResponse, triggerId: string | null, caller: Caller): void {
    if (this.#clients.size >= this.#o.maxStreams) throw tooManyStreams('this server has too many open event streams');
    let mine = 0;
    for (const client of this.#clients) if (client.callerId === caller.id) mine++;
    if (mine >= this.#o.maxStreamsPerCaller) throw tooManyStreams('too many open event streams for this caller');
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // Reverse proxies (nginx) buffer responses unless told not to; a buffered stream is no stream.
    res.setHeader('X-Accel-Buffering', 'no');
    res.write('retry: 3000\n: connected\n\n');
    const client: Client = { res, triggerId, callerId: caller.id, expiry: null };
    this.#clients.add(client);
    res.on('close', () => this.#detach(client));
    if (caller.expiresAtMs !== null) {
      // The token authorized the stream until its expiry, not beyond: end it then (the client
      // reconnects with a fresh token, or gets 401).
      client.expiry = setTimeout(() => {
        this.#write(client, 'event: expired\ndata: {}\n\n');
        client.res.end();
      }, Math.max(0, caller.expiresAtMs - this.#o.now()));
      client.expiry.unref();
    }
    if (this.#clients.size === 1) this.#start();
  }

  /** Disconnect every client (the API is being shut down). */
  close(): void {
    for (const client of [...this.#clients]) {
      if (client.expiry !== null) clearTimeout(client.expiry);
      client.res.end();
    }
    this.#clients.clear();
    this.#stop();
  }

  #detach(client: Client): void {
    if (client.expiry !== null) clearTimeout(client.expiry);
    if (!this.#clients.delete(client)) return;
    if (this.#clients.size === 0) this.#stop();
  }

  #start(): void {
    const session = ++this.#session;
    for (const name of JOB_EVENTS) this.#scheduler.on(name, this.#onJob);
    for (const name of TRIGGER_EVENTS) this.#scheduler.on(name, this.#onTrigger);
    this.#scheduler.on('trigger:removed', this.#onRemoved);
    this.#pingTimer = setInterval(() => {
      for (const client of this.#clients) this.#write(client, ': ping\n\n');
    }, this.#o.pingMs);
    this.#pingTimer.unref();
    // The first poll only learns the current state: clients load that through the REST routes.
    this.#primed = false;
    this.#schedulePoll(session, 0);
  }

  #stop(): void {
    this.#session++;
    for (const name of JOB_EVENTS) this.#scheduler.off(name, this.#onJob);
    for (const name of TRIGGER_EVENTS) this.#scheduler.off(name, this.#onTrigger);
    this.#scheduler.off('trigger:removed', this.#onRemoved);
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#pollTimer = null;
    this.#pingTimer = null;
    this.#jobs.clear();
    this.#active.clear();
    this.#triggers.clear();
  }

  #schedulePoll(session: number, delayMs: number): void {
    this.#pollTimer = setTimeout(() => {
      this.#pollTimer = null;
      this.#poll()
        .catch((err: unknown) => this.#o.logger?.error({ err }, 'management events: store poll failed'))
        .finally(() => {
          // Polls never overlap: the next is armed when this one is done, unless the hub stopped.
          if (session === this.#session) this.#schedulePoll(session, this.#o.pollMs);
        });
    }, delayMs);
    this.#pollTimer.unref();
  }

  async #poll(): Promise<void> {
    const session = this.#session;
    // Frames carry summaries: payloads and results are never read here (history is, for its length).
    const omit = ['payload', 'result'] as const;
    const newest = await this.#scheduler.listJobs({ limit: NEWEST_JOBS, omit });
    const active = await this.#scheduler.listJobs({ status: ['pending', 'running'], limit: ACTIVE_JOBS, omit });
    if (session !== this.#session) return;
    const seen = new Set<string>();
    for (const job of [...newest.items, ...active.items]) {
      seen.add(job.id);
      this.#offerJob(job, this.#primed);
    }
    const stillActive = new Set(active.items.map((j) => j.id));
    // A job that left the active set but is not among the newest (an old slot that just finished).
    const left = [...this.#active].filter((id) => !stillActive.has(id) && !seen.has(id));
    this.#active.clear();
    for (const id of stillActive) this.#active.add(id);
    for (const id of left) {
      const job = await this.#scheduler.getJob(id);
      if (session !== this.#session) return;
      if (job) this.#offerJob(job, this.#primed);
    }

    const found = new Map<string, number>();
    let cursor: string | undefined;
    do {
      const page = await this.#scheduler.listTriggers(cursor === undefined ? { limit: 1000 } : { limit: 1000, cursor });
      if (session !== this.#session) return;
      for (const trigger of page.items) {
        found.set(trigger.id, trigger.version);
        this.#offerTrigger(trigger, this.#primed);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && found.size < MAX_TRIGGERS);
    if (cursor === undefined && this.#primed) {
      for (const id of this.#triggers.keys()) {
        if (!found.has(id)) this.#broadcast('trigger-removed', { id }, id);
      }
    }
    if (cursor === undefined) this.#triggers = found;
    this.#primed = true;
  }

  /** Remember the job's fingerprint; send it when it changed and `send`. */
  #offerJob(job: Job, send: boolean): void {
    const print = jobPrint(job);
    if (this.#jobs.get(job.id) === print) return;
    this.#jobs.delete(job.id);
    this.#jobs.set(job.id, print);
    if (this.#jobs.size > MAX_REMEMBERED_JOBS) {
      const oldest = this.#jobs.keys().next();
      if (!oldest.done) this.#jobs.delete(oldest.value);
    }
    if (job.status === 'pending' || job.status === 'running') this.#active.add(job.id);
    if (send) this.#broadcast('job', streamedJob(job), job.triggerId);
  }

  #offerTrigger(trigger: Trigger, send: boolean): void {
    if (this.#triggers.get(trigger.id) === trigger.version) return;
    this.#triggers.set(trigger.id, trigger.version);
    if (send) this.#broadcast('trigger', triggerSummary(trigger), trigger.id);
  }

  #broadcast(event: string, data: unknown, triggerId: string): void {
    // JSON has no raw newlines, so the record is always a single `data:` line.
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of this.#clients) {
      if (client.triggerId === null || client.triggerId === triggerId) this.#write(client, frame);
    }
  }

  #write(client: Client, frame: string): void {
    if (client.res.writableEnded || client.res.destroyed) return;
    client.res.write(frame);
    if (client.res.writableLength > MAX_BUFFERED_BYTES) {
      // It will never catch up; dropping it keeps our memory bounded. EventSource reconnects.
      this.#o.logger?.warn?.({ buffered: client.res.writableLength }, 'management events: slow client disconnected');
      client.res.destroy();
    }
  }
}
