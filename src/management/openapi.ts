/**
 * The OpenAPI 3.1 document of the management API, as a plain object. It describes the routes of
 * `ROUTES` (a test fails when either has a route or method the other lacks). Served at
 * `GET /openapi.json` with `servers` set to the API's base path. Status enums are copies of the
 * lists in src/types.ts, never spelled out here.
 */
import { JOB_STATUSES, TRIGGER_STATUSES } from '../types.js';
import { TIMELINE_STATUSES } from './types.js';

/** A JSON Schema / OpenAPI fragment. */
type Doc = { [key: string]: DocValue };
type DocValue = string | number | boolean | null | DocValue[] | Doc;

const ref = (name: string): Doc => ({ $ref: `#/components/schemas/${name}` });
const dateTime: Doc = { type: 'string', format: 'date-time' };
const nullable = (schema: Doc): Doc => ({ oneOf: [schema, { type: 'null' }] });
const json = (schema: Doc): Doc => ({ 'application/json': { schema } });
const answer = (description: string, schema: Doc): Doc => ({ description, content: json(schema) });
const page = (item: string): Doc => ({
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: { items: { type: 'array', items: ref(item) }, nextCursor: nullable({ type: 'string' }) },
});
const wrap = (key: string, schema: string): Doc => ({ type: 'object', required: [key], properties: { [key]: ref(schema) } });

function query(name: string, description: string, schema: Doc = { type: 'string' }): Doc {
  return { name, in: 'query', required: false, description, schema };
}
const idParam = (what: string): Doc => ({ name: 'id', in: 'path', required: true, description: `${what} id`, schema: { type: 'string' } });
const limit = query('limit', 'Page size, 1 to 1000 (default 100).', { type: 'integer', minimum: 1, maximum: 1000 });
const cursor = query('cursor', "A previous page's nextCursor.");
const count = query('count', 'How many fire times, 0 to 100 (default 5).', { type: 'integer', minimum: 0, maximum: 100 });

/** References to the shared error answers: 401, 403 and 503 on every route, plus `statuses`. */
const errors = (...statuses: number[]): Doc => {
  const out: Doc = {};
  for (const status of [401, 403, 503, ...statuses]) out[String(status)] = { $ref: `#/components/responses/E${status}` };
  return out;
};

const ERROR_TEXTS: Record<string, string> = {
  E400: 'Bad input; error.field names the parameter or body field.',
  E401: 'Missing or invalid credentials.',
  E403: 'Token lacks the scope, a cross-site request, or a Host not allowed (ERR_FORBIDDEN); or the API is read-only (ERR_READ_ONLY).',
  E404: 'No such trigger or job.',
  E409: 'The job is not failed or cancelled (ERR_JOB_NOT_RETRYABLE).',
  E413: 'Body too large.',
  E415: 'Body is not application/json (every write must say so, even without a body).',
  E422: 'Fewer cron fire times than asked lie within the 5-year preview horizon (ERR_PREVIEW_BUDGET), or the answer would pass maxAnswerBytes (ERR_ANSWER_TOO_LARGE).',
  E429: 'Too many open event streams, in all or for this caller (ERR_TOO_MANY_STREAMS).',
  E503: 'Store unavailable or scheduler stopping.',
};

function op(operationId: string, summary: string, parameters: Doc[], responses: Doc, extra: Doc = {}): Doc {
  return { operationId, summary, parameters, responses, ...extra };
}

const write = (operationId: string, summary: string, okStatus: string, okAnswer: Doc, what: 'Trigger' | 'Job', body?: Doc): Doc =>
  op(operationId, summary, [idParam(what)], { [okStatus]: okAnswer, ...errors(400, 404, 413, 415, ...(operationId === 'retryJob' ? [409] : [])) }, body === undefined ? {} : { requestBody: body });

/** The OpenAPI 3.1 document (without `servers`, which depends on where the API is mounted). */
export const OPENAPI_DOCUMENT: Readonly<Doc> = {
  openapi: '3.1.0',
  info: {
    title: '@intellibrowse/scheduler management API',
    version: '1',
    description:
      'List, inspect and steer triggers and jobs. Reads need the read scope, writes the write scope (JWT), or a valid X-Signature (HMAC over "<METHOD> <path?query>\\n<body>"). Dates are ISO-8601 strings.',
  },
  security: [{ bearer: [] }, { hmac: [] }],
  paths: {
    '/openapi.json': { get: op('getOpenApi', 'This document.', [], { '200': answer('OpenAPI document', { type: 'object' }), ...errors() }) },
    '/metrics': {
      get: op('getMetrics', "Prometheus text exposition: this instance's counters and histograms, and the cluster's figures from the store (needs the metrics scope).", [], {
        '200': { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
        ...errors(),
      }),
    },
    '/health': { get: op('getHealth', 'Health of the serving instance.', [], { '200': answer('Health report', ref('Health')), ...errors() }) },
    '/stats': {
      get: op('getStats', 'Job counts by status and per-trigger figures.', [query('triggerId', 'Only this trigger.')], {
        '200': answer('Stats', ref('Stats')),
        ...errors(400),
      }),
    },
    '/triggers': {
      get: op(
        'listTriggers',
        'Page through triggers by id.',
        [
          query('status', `One of ${TRIGGER_STATUSES.join(', ')}.`, { type: 'string', enum: [...TRIGGER_STATUSES] }),
          query('tag', 'Carrying this tag.'),
          query('handler', 'Of this handler.'),
          limit,
          cursor,
          query('fields', 'payload: include each trigger\'s payload (left out by default).'),
        ],
        { '200': answer('A page of triggers, without payloads unless fields=payload', page('Trigger')), ...errors(400, 422) },
      ),
    },
    '/triggers/{id}': {
      get: op('getTrigger', 'One trigger with its stats and next fire times.', [idParam('Trigger')], {
        '200': answer('The trigger', {
          type: 'object',
          required: ['trigger', 'stats', 'next'],
          properties: { trigger: ref('Trigger'), stats: nullable(ref('TriggerStats')), next: { type: 'array', items: ref('FirePreview') } },
        }),
        ...errors(400, 404),
      }),
      delete: op('removeTrigger', 'Remove a trigger (its jobs stay).', [idParam('Trigger')], {
        '204': { description: 'Removed' },
        ...errors(400, 404, 413, 415),
      }),
    },
    '/triggers/{id}/next': {
      get: op('previewTrigger', "The trigger's next fire times, DST shifts marked.", [idParam('Trigger'), count], {
        '200': answer('Fire times', { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('FirePreview') } } }),
        ...errors(400, 404, 422),
      }),
    },
    '/triggers/{id}/timeline': {
      get: op(
        'triggerTimeline',
        'Every slot of the window and what became of it (missed and coalesced slots included).',
        [idParam('Trigger'), query('from', 'Window start (default: to minus 24 h).', dateTime), query('to', 'Window end, inclusive (default: now).', dateTime)],
        {
          '200': answer('Timeline, oldest first, at most 1000 entries', {
            type: 'object',
            required: ['items', 'truncated'],
            properties: { items: { type: 'array', items: ref('TimelineSlot') }, truncated: { type: 'boolean' } },
          }),
          ...errors(400, 404),
        },
      ),
    },
    '/triggers/{id}/pause': { post: write('pauseTrigger', 'Pause a trigger.', '200', answer('The trigger', wrap('trigger', 'Trigger')), 'Trigger') },
    '/triggers/{id}/resume': {
      post: write('resumeTrigger', 'Resume a paused trigger from its next slot.', '200', answer('The trigger', wrap('trigger', 'Trigger')), 'Trigger'),
    },
    '/triggers/{id}/run': {
      post: write('runTrigger', 'Run a trigger now.', '201', answer('The new job', wrap('job', 'Job')), 'Trigger', {
        required: false,
        content: json({ type: 'object', additionalProperties: false, properties: { payload: { description: 'Payload instead of the trigger’s.' } } }),
      }),
    },
    '/jobs': {
      get: op(
        'listJobs',
        'Page through jobs, newest slot first.',
        [
          query('triggerId', 'Of this trigger.'),
          query('status', `One or more of ${JOB_STATUSES.join(', ')}, comma-separated.`),
          query('from', 'scheduledFor at or after.', dateTime),
          query('to', 'scheduledFor before.', dateTime),
          limit,
          cursor,
          query('fields', 'Any of payload, result, history, comma-separated: include them (left out by default).'),
        ],
        { '200': answer('A page of jobs, without payload, result and history unless fields names them', page('Job')), ...errors(400, 422) },
      ),
    },
    '/jobs/{id}': {
      get: op('getJob', 'One job with its history and metrics.', [idParam('Job')], { '200': answer('The job', wrap('job', 'Job')), ...errors(400, 404) }),
    },
    '/jobs/{id}/cancel': { post: write('cancelJob', 'Cancel a pending or running job.', '200', answer('The job as it stands', wrap('job', 'Job')), 'Job') },
    '/jobs/{id}/retry': {
      post: write('retryJob', 'Run a failed or cancelled job again as a new job.', '201', answer('The new job', wrap('job', 'Job')), 'Job'),
    },
    '/next': {
      get: op(
        'previewCron',
        'Preview the fire times of any cron expression, DST shifts marked.',
        [
          { name: 'cron', in: 'query', required: true, description: '5 or 6 field cron expression.', schema: { type: 'string' } },
          query('tz', 'IANA zone (default UTC).'),
          count,
          query('from', 'Start, inclusive (default: now).', dateTime),
        ],
        {
          '200': answer('Fire times', { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('FirePreview') } } }),
          ...errors(400, 422),
        },
      ),
    },
    '/events': {
      get: op('streamEvents', 'Server-Sent Events: event job, trigger and trigger-removed; a ": ping" comment every 15 s.', [query('triggerId', 'Only this trigger.')], {
        '200': { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        ...errors(400, 429),
      }),
    },
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      hmac: { type: 'apiKey', in: 'header', name: 'X-Signature' },
    },
    responses: Object.fromEntries(Object.entries(ERROR_TEXTS).map(([key, description]) => [key, answer(description, ref('Error'))])),
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
          },
        },
      },
      FirePreview: {
        type: 'object',
        required: ['at', 'local', 'timezone', 'dst'],
        properties: {
          at: dateTime,
          local: { type: 'string', description: 'YYYY-MM-DD HH:mm in timezone' },
          timezone: { type: 'string' },
          dst: { oneOf: [{ type: 'string', enum: ['skipped-hour', 'repeated-hour'] }, { type: 'null' }] },
        },
      },
      TimelineSlot: {
        type: 'object',
        required: ['scheduledFor', 'status', 'jobId', 'reason', 'source'],
        properties: {
          scheduledFor: dateTime,
          status: { type: 'string', enum: [...TIMELINE_STATUSES] },
          jobId: nullable({ type: 'string' }),
          reason: nullable({ type: 'string' }),
          source: nullable({ type: 'string' }),
        },
      },
      Trigger: {
        type: 'object',
        required: ['id', 'name', 'handler', 'schedule', 'status', 'nextRunAt', 'lastRunAt', 'createdAt', 'updatedAt', 'version'],
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          handler: { type: 'string' },
          schedule: { type: 'object', required: ['kind'], properties: { kind: { type: 'string', enum: ['cron', 'every', 'at', 'manual', 'event', 'after'] } } },
          payload: {},
          status: { type: 'string', enum: [...TRIGGER_STATUSES] },
          nextRunAt: nullable(dateTime),
          lastRunAt: nullable(dateTime),
          createdAt: dateTime,
          updatedAt: dateTime,
          misfire: { type: 'string', enum: ['run-once', 'skip', 'run-all'] },
          overlap: { type: 'string', enum: ['allow', 'skip', 'queue'] },
          tags: { type: 'array', items: { type: 'string' } },
          alertAfterMs: nullable({ type: 'integer', description: 'a slot not started this long after its time raises trigger:late' }),
          version: { type: 'integer' },
        },
      },
      Job: {
        type: 'object',
        required: ['id', 'key', 'triggerId', 'handler', 'source', 'scheduledFor', 'status', 'attempts', 'createdAt'],
        properties: {
          id: { type: 'string' },
          key: { type: 'string', description: 'retry:<original job id>:<unique> for a retry' },
          triggerId: { type: 'string' },
          handler: { type: 'string' },
          payload: {},
          source: { type: 'string', enum: ['schedule', 'manual', 'event', 'dependency'] },
          scheduledFor: dateTime,
          status: { type: 'string', enum: [...JOB_STATUSES] },
          attempts: { type: 'integer' },
          maxAttempts: { type: 'integer' },
          result: {},
          error: nullable({
            type: 'object',
            properties: { name: { type: 'string' }, message: { type: 'string' }, code: nullable({ type: 'string' }), stack: { type: 'string' } },
          }),
          metrics: { type: 'object' },
          history: {
            type: 'array',
            items: {
              type: 'object',
              required: ['status', 'at'],
              properties: { status: { type: 'string' }, at: dateTime, instanceId: nullable({ type: 'string' }), reason: nullable({ type: 'string' }) },
            },
          },
          instanceId: nullable({ type: 'string' }),
          createdAt: dateTime,
          startedAt: nullable(dateTime),
          finishedAt: nullable(dateTime),
        },
      },
      TriggerStats: {
        type: 'object',
        properties: {
          runs: { type: 'integer' },
          succeeded: { type: 'integer' },
          failed: { type: 'integer' },
          lastRunAt: nullable(dateTime),
          nextRunAt: nullable(dateTime),
          p50DurationMs: nullable({ type: 'number' }),
          p95DurationMs: nullable({ type: 'number' }),
          pending: { type: 'integer' },
          running: { type: 'integer' },
          lastSucceededAt: nullable(dateTime),
          skipped: { type: 'integer' },
          p50LagMs: nullable({ type: 'number' }),
          p95LagMs: nullable({ type: 'number' }),
          failing: { type: 'boolean', description: 'its latest finished jobs (up to 3) all failed' },
          late: { type: 'boolean', description: 'its next slot has not started alertAfterMs after its time' },
        },
      },
      LateTrigger: {
        type: 'object',
        required: ['triggerId', 'handler', 'slot', 'lateByMs', 'alertAfterMs'],
        properties: { triggerId: { type: 'string' }, handler: { type: 'string' }, slot: dateTime, lateByMs: { type: 'integer' }, alertAfterMs: { type: 'integer' } },
      },
      Stats: {
        type: 'object',
        required: ['jobs', 'triggers'],
        properties: { jobs: { type: 'object', additionalProperties: { type: 'integer' } }, triggers: { type: 'object', additionalProperties: ref('TriggerStats') } },
      },
      Health: {
        type: 'object',
        required: ['status', 'instanceId', 'unhandled'],
        properties: {
          status: { type: 'string' },
          instanceId: { type: 'string' },
          unhandled: nullable({
            type: 'array',
            description: 'Handler names that active triggers or pending jobs carry but no live instance has registered; null when the backend cannot tell.',
            items: {
              type: 'object',
              required: ['handler', 'activeTriggers', 'pendingJobs'],
              properties: { handler: { type: 'string' }, activeTriggers: { type: 'integer' }, pendingJobs: { type: 'integer' } },
            },
          }),
          lateTriggers: nullable({ type: 'array', items: ref('LateTrigger') }),
          failingTriggers: nullable({ type: 'array', items: { type: 'string' } }),
        },
      },
    },
  },
};

/** The document as served under `basePath`. */
export function openApiFor(basePath: string): Doc {
  return { ...OPENAPI_DOCUMENT, servers: [{ url: basePath }] };
}
