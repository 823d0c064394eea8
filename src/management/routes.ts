/**
 * The route table of the management API: method, path, what it needs, and what it does. The
 * OpenAPI document describes exactly these routes (a test walks both).
 */
import type { ServerResponse } from 'node:http';
import { JobNotFoundError, TriggerNotFoundError } from '../errors.js';
import type { Scheduler } from '../scheduler.js';
import { assertId, nextFireTimes } from '../schedule/index.js';
import { JOB_STATUSES, TRIGGER_STATUSES, type JobQuery, type JsonValue, type TriggerQuery } from '../types.js';
import { definedFields } from '../util/defined.js';
import { isRecord } from '../http/validate.js';
import { badRequest } from './errors.js';
import type { Caller, EventHub } from './events.js';
import { previews, triggerPreview } from './preview.js';
import type { QueryParams } from './query.js';
import { buildTimeline } from './timeline.js';
import type { JobBody, TriggerBody, TriggerDetailBody } from './types.js';
import { JOB_DETAIL_FIELDS, jobSummary, triggerSummary } from './answers.js';

/** HTTP methods the API uses. */
export type RouteMethod = 'GET' | 'POST' | 'DELETE';

/** What a route handler answers: JSON with a status, text of a given type, or an already started stream. */
export type RouteAnswer = { status: number; body: unknown } | { status: 204 } | { stream: true } | { status: 200; text: string; contentType: string };

/** What a route handler gets. */
export interface RouteContext {
  /** The scheduler the API steers. */
  scheduler: Scheduler;
  /** Path parameters, decoded and checked as ids. */
  params: Readonly<Record<string, string>>;
  /** The query string, parsed against the route's `query` list. */
  query: QueryParams;
  /** The parsed JSON body, if one was sent. */
  body: JsonValue | undefined;
  /** The response, for streaming routes. */
  res: ServerResponse;
  /** SSE fan-out. */
  events: EventHub;
  /** Current time. */
  now: Date;
  /** The OpenAPI document as served (with this API's base path). */
  openapi: () => unknown;
  /** The request's `Idempotency-Key`, validated, if it sent one. */
  idempotencyKey: string | undefined;
  /** Who is calling, and until when the credentials hold. */
  caller: Caller;
}

/** One route. */
export interface RouteDef {
  /** HTTP method. */
  method: RouteMethod;
  /** Path under `basePath`, with `:name` parameters. */
  path: string;
  /** OpenAPI `operationId`. */
  operationId: string;
  /** Whether it changes anything (refused in `readOnly`, needs the write scope). */
  write: boolean;
  /** A scope of its own instead of read or write (`metrics`: scrapers get that one only). */
  scope?: 'metrics';
  /** Query parameters it takes. */
  query: readonly string[];
  /** What it does. */
  handle(ctx: RouteContext): Promise<RouteAnswer>;
}

const DEFAULT_PREVIEW = 5;
const MAX_PREVIEW = 100;
const DAY_MS = 86_400_000;
/** Pages of jobs read for one timeline; 10 pages of 1000 jobs. */
const TIMELINE_JOB_PAGES = 10;

function param(ctx: RouteContext, name: string): string {
  const value = ctx.params[name];
  if (value === undefined) throw new Error(`route parameter ${name} missing from its path`);
  return value;
}

function ok(body: unknown, status = 200): RouteAnswer {
  return { status, body };
}

/** A body that must be absent or `{}` (routes that take none). */
function noBody(body: JsonValue | undefined): void {
  if (body === undefined) return;
  if (!isRecord(body)) throw badRequest('body', 'must be a JSON object');
  const [key] = Object.keys(body);
  if (key !== undefined) throw badRequest(`body.${key}`, 'unknown field; this route takes no body');
}


/** Every route. Order matters only for readability: paths are matched exactly. */
export const ROUTES: readonly RouteDef[] = [
  {
    method: 'GET',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    write: false,
    query: [],
    handle: async (ctx) => ok(ctx.openapi()),
  },
  {
    method: 'GET',
    path: '/metrics',
    operationId: 'getMetrics',
    write: false,
    scope: 'metrics',
    query: [],
    handle: async (ctx) => {
      const { contentType, body } = await ctx.scheduler.metrics();
      return { status: 200, text: body, contentType };
    },
  },
  {
    method: 'GET',
    path: '/health',
    operationId: 'getHealth',
    write: false,
    query: [],
    handle: async (ctx) => ok(await ctx.scheduler.health()),
  },
  {
    method: 'GET',
    path: '/stats',
    operationId: 'getStats',
    write: false,
    query: ['triggerId'],
    handle: async (ctx) => {
      const triggerId = ctx.query.id('triggerId');
      return ok(await ctx.scheduler.stats(triggerId === undefined ? {} : { triggerId }));
    },
  },
  {
    method: 'GET',
    path: '/triggers',
    operationId: 'listTriggers',
    write: false,
    query: ['status', 'tag', 'handler', 'limit', 'cursor', 'fields'],
    handle: async (ctx) => {
      const q = ctx.query;
      const query = definedFields<TriggerQuery>({
        status: q.choice('status', TRIGGER_STATUSES),
        tag: q.string('tag'),
        handler: q.string('handler'),
        limit: q.limit(),
        cursor: q.string('cursor'),
      });
      const withPayload = (q.choices('fields', ['payload'] as const) ?? []).includes('payload');
      const page = await ctx.scheduler.listTriggers(query);
      return ok({ ...page, items: page.items.map((t) => triggerSummary(t, withPayload)) });
    },
  },
  {
    method: 'GET',
    path: '/triggers/:id',
    operationId: 'getTrigger',
    write: false,
    query: [],
    handle: async (ctx) => {
      const id = param(ctx, 'id');
      const trigger = await ctx.scheduler.getTrigger(id);
      if (!trigger) throw new TriggerNotFoundError(id);
      const stats = await ctx.scheduler.stats({ triggerId: id });
      return ok({ trigger, stats: stats.triggers[id] ?? null, next: triggerPreview(trigger, ctx.now, DEFAULT_PREVIEW) } satisfies TriggerDetailBody);
    },
  },
  {
    method: 'GET',
    path: '/triggers/:id/next',
    operationId: 'previewTrigger',
    write: false,
    query: ['count'],
    handle: async (ctx) => {
      const id = param(ctx, 'id');
      const count = ctx.query.integer('count', 0, MAX_PREVIEW) ?? DEFAULT_PREVIEW;
      const trigger = await ctx.scheduler.getTrigger(id);
      if (!trigger) throw new TriggerNotFoundError(id);
      return ok({ items: triggerPreview(trigger, ctx.now, count, true) });
    },
  },
  {
    method: 'GET',
    path: '/triggers/:id/timeline',
    operationId: 'triggerTimeline',
    write: false,
    query: ['from', 'to'],
    handle: async (ctx) => {
      const id = param(ctx, 'id');
      const to = ctx.query.date('to') ?? ctx.now;
      const from = ctx.query.date('from') ?? new Date(to.getTime() - DAY_MS);
      if (from.getTime() > to.getTime()) throw badRequest('from', 'must not be after to');
      const trigger = await ctx.scheduler.getTrigger(id);
      if (!trigger) throw new TriggerNotFoundError(id);
      const jobs = [];
      let cursor: string | undefined;
      // `to` is inclusive here, exclusive in listJobs: ask up to the next millisecond.
      // The timeline needs each job's last history note, never its payload or result.
      const window = { triggerId: id, from, to: new Date(to.getTime() + 1), limit: 1000, omit: ['payload', 'result'] as const };
      for (let page = 0; page < TIMELINE_JOB_PAGES; page++) {
        const got = await ctx.scheduler.listJobs(cursor === undefined ? window : { ...window, cursor });
        jobs.push(...got.items);
        if (got.nextCursor === null) break;
        cursor = got.nextCursor;
      }
      return ok(buildTimeline(trigger, jobs, from, to, ctx.now));
    },
  },
  {
    method: 'POST',
    path: '/triggers/:id/pause',
    operationId: 'pauseTrigger',
    write: true,
    query: [],
    handle: async (ctx) => {
      noBody(ctx.body);
      return ok({ trigger: await ctx.scheduler.pauseTrigger(param(ctx, 'id')) } satisfies TriggerBody);
    },
  },
  {
    method: 'POST',
    path: '/triggers/:id/resume',
    operationId: 'resumeTrigger',
    write: true,
    query: [],
    handle: async (ctx) => {
      noBody(ctx.body);
      return ok({ trigger: await ctx.scheduler.resumeTrigger(param(ctx, 'id')) } satisfies TriggerBody);
    },
  },
  {
    method: 'POST',
    path: '/triggers/:id/run',
    operationId: 'runTrigger',
    write: true,
    query: [],
    handle: async (ctx) => {
      const body = ctx.body;
      // An Idempotency-Key runs the trigger once: a repeat answers with the first run's job.
      let options: { payload?: JsonValue; runId?: string } = ctx.idempotencyKey === undefined ? {} : { runId: ctx.idempotencyKey };
      if (body !== undefined) {
        if (!isRecord(body)) throw badRequest('body', 'must be a JSON object like {"payload": ...}');
        for (const key of Object.keys(body)) {
          // Strict on purpose: a misspelled "paylaod" would otherwise run without its payload.
          if (key !== 'payload') throw badRequest(`body.${key}`, 'unknown field; only "payload" is accepted');
        }
        const payload = body['payload'];
        if (payload !== undefined) options = { ...options, payload };
      }
      return ok({ job: await ctx.scheduler.runTrigger(param(ctx, 'id'), options) } satisfies JobBody, 201);
    },
  },
  {
    method: 'DELETE',
    path: '/triggers/:id',
    operationId: 'removeTrigger',
    write: true,
    query: [],
    handle: async (ctx) => {
      noBody(ctx.body);
      await ctx.scheduler.removeTrigger(param(ctx, 'id'));
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    path: '/jobs',
    operationId: 'listJobs',
    write: false,
    query: ['triggerId', 'status', 'from', 'to', 'limit', 'cursor', 'fields'],
    handle: async (ctx) => {
      const q = ctx.query;
      const wanted = q.choices('fields', JOB_DETAIL_FIELDS) ?? [];
      const omit = JOB_DETAIL_FIELDS.filter((field) => !wanted.includes(field));
      const query = definedFields<JobQuery>({
        triggerId: q.id('triggerId'),
        status: q.choices('status', JOB_STATUSES),
        from: q.date('from'),
        to: q.date('to'),
        limit: q.limit(),
        cursor: q.string('cursor'),
        omit: omit.length === 0 ? undefined : omit,
      });
      const page = await ctx.scheduler.listJobs(query);
      return ok({ ...page, items: page.items.map((job) => jobSummary(job, omit)) });
    },
  },
  {
    method: 'GET',
    path: '/jobs/:id',
    operationId: 'getJob',
    write: false,
    query: [],
    handle: async (ctx) => {
      const id = param(ctx, 'id');
      const job = await ctx.scheduler.getJob(id);
      if (!job) throw new JobNotFoundError(id);
      return ok({ job } satisfies JobBody);
    },
  },
  {
    method: 'POST',
    path: '/jobs/:id/cancel',
    operationId: 'cancelJob',
    write: true,
    query: [],
    handle: async (ctx) => {
      noBody(ctx.body);
      return ok({ job: await ctx.scheduler.cancelJob(param(ctx, 'id')) } satisfies JobBody);
    },
  },
  {
    method: 'POST',
    path: '/jobs/:id/retry',
    operationId: 'retryJob',
    write: true,
    query: [],
    handle: async (ctx) => {
      noBody(ctx.body);
      return ok({ job: await ctx.scheduler.retryJob(param(ctx, 'id')) } satisfies JobBody, 201);
    },
  },
  {
    method: 'GET',
    path: '/next',
    operationId: 'previewCron',
    write: false,
    query: ['cron', 'tz', 'count', 'from'],
    handle: async (ctx) => {
      const q = ctx.query;
      const cron = q.string('cron');
      if (cron === undefined) throw badRequest('cron', 'is required');
      const timezone = q.string('tz') ?? 'UTC';
      const count = q.integer('count', 0, MAX_PREVIEW) ?? DEFAULT_PREVIEW;
      const from = q.date('from') ?? ctx.now;
      let times: Date[];
      try {
        times = nextFireTimes({ cron, timezone }, { from, count });
      } catch (err) {
        // The schedule layer names `schedule.cron` / `schedule.timezone`; here they are `cron` / `tz`.
        const field = (err as { field?: unknown }).field;
        if (field === 'schedule.cron' || field === 'schedule') throw badRequest('cron', (err as Error).message);
        if (field === 'schedule.timezone') throw badRequest('tz', (err as Error).message);
        throw err;
      }
      return ok({ items: previews({ kind: 'cron', cron, timezone }, times) });
    },
  },
  {
    method: 'GET',
    path: '/events',
    operationId: 'streamEvents',
    write: false,
    query: ['triggerId'],
    handle: async (ctx) => {
      const triggerId = ctx.query.id('triggerId') ?? null;
      ctx.events.attach(ctx.res, triggerId, ctx.caller);
      return { stream: true };
    },
  },
];

/** A route matched against a request path. */
export interface RouteMatch {
  /** The route, when the method matched too. */
  route: RouteDef | null;
  /** Methods the path answers (for `405` and its `Allow` header). */
  allowed: RouteMethod[];
  /** Path parameters. */
  params: Record<string, string>;
}

/**
 * Match `segments` (still percent-encoded) and `method` against the table; `null` when no route
 * has the path. Parameters stay raw: `decodeParams` checks them after authentication, so an
 * anonymous caller learns nothing but 401.
 */
export function matchRoute(segments: readonly string[], method: string): RouteMatch | null {
  let found: RouteMatch | null = null;
  for (const route of ROUTES) {
    const parts = route.path.slice(1).split('/');
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let matches = true;
    for (let i = 0; i < parts.length && matches; i++) {
      const part = parts[i]!;
      const segment = segments[i]!;
      if (part.startsWith(':')) {
        if (segment === '') matches = false;
        else params[part.slice(1)] = segment;
      } else if (part !== segment) {
        matches = false;
      }
    }
    if (!matches) continue;
    found ??= { route: null, allowed: [], params };
    found.allowed.push(route.method);
    if (route.method === method) found = { ...found, route, params };
  }
  return found;
}

/** Decode the raw path parameters and check them as ids (a 400 naming the parameter). */
export function decodeParams(raw: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) out[name] = decodeId(value, name);
  return out;
}

function decodeId(raw: string, name: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw badRequest(name, 'is not valid percent-encoding');
  }
  try {
    return assertId(value, name);
  } catch (err) {
    throw badRequest(name, (err as Error).message.replace(`${name}: `, ''));
  }
}
