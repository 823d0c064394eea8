/**
 * What the API's lists and streams carry, and how big any answer may get. Lists, timelines and the
 * event stream carry summaries: a job without `payload`, `result` and `history`, a trigger without
 * `payload`. Those come with one job (`GET /jobs/:id`), or when a list asks with `fields=`. Every
 * answer is held to a byte budget, checked while it is built.
 */
import type { Job, JobDetailField, Trigger } from '../types.js';
import { ManagementHttpError } from './errors.js';

/** Fields a job list leaves out unless `fields=` names them. */
export const JOB_DETAIL_FIELDS: readonly JobDetailField[] = ['payload', 'result', 'history'];

/** Default of `maxAnswerBytes`: 32 MiB, room for one job at MongoDB's largest document size. */
export const DEFAULT_MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/** A job without the fields in `omit`. */
export function jobSummary(job: Job, omit: readonly JobDetailField[] = JOB_DETAIL_FIELDS): Partial<Job> {
  const out: Partial<Job> = { ...job };
  for (const field of omit) delete out[field];
  return out;
}

/** A job as the event stream sends it: a summary, with how many history entries it has. */
export function streamedJob(job: Job): Partial<Job> & { historyLength: number } {
  return { ...jobSummary(job), historyLength: job.history.length };
}

/** A trigger without its payload, unless `withPayload`. */
export function triggerSummary(trigger: Trigger, withPayload = false): Partial<Trigger> {
  if (withPayload) return trigger;
  const { payload: _payload, ...rest } = trigger;
  return rest;
}

function tooLarge(maxBytes: number): ManagementHttpError {
  return new ManagementHttpError(
    422,
    'ERR_ANSWER_TOO_LARGE',
    `the answer would be larger than ${maxBytes} bytes; ask for a smaller limit or fewer fields`,
    { field: 'limit' },
  );
}

/**
 * `JSON.stringify(body)`, refused with a 422 `ERR_ANSWER_TOO_LARGE` past `maxBytes`. A body with
 * an `items` list is serialized item by item, so an oversized page is refused before the whole
 * text is built.
 */
export function boundedJson(body: unknown, maxBytes: number): string {
  if (typeof body === 'object' && body !== null && Array.isArray((body as { items?: unknown }).items)) {
    const { items, ...rest } = body as { items: unknown[] } & Record<string, unknown>;
    const parts: string[] = [];
    // A string's length never exceeds its UTF-8 size, so a running length past the budget refuses
    // early and cheaply; the exact byte count is taken at the end.
    let chars = 0;
    for (const item of items) {
      const text = JSON.stringify(item);
      chars += text.length + 1;
      if (chars > maxBytes) throw tooLarge(maxBytes);
      parts.push(text);
    }
    const head = JSON.stringify(rest);
    const text = head === '{}' ? `{"items":[${parts.join(',')}]}` : `{"items":[${parts.join(',')}],${head.slice(1)}`;
    if (Buffer.byteLength(text) > maxBytes) throw tooLarge(maxBytes);
    return text;
  }
  const text = JSON.stringify(body);
  if (text !== undefined && text.length > maxBytes) throw tooLarge(maxBytes);
  if (text !== undefined && Buffer.byteLength(text) > maxBytes) throw tooLarge(maxBytes);
  return text;
}
