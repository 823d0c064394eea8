/**
 * The live updates: the API's `events` stream (server-sent events) read with `fetch` rather than
 * `EventSource`, because `EventSource` cannot send the `Authorization` header. Each event goes on
 * the bus; a dropped stream reconnects with a growing delay (1 s up to 15 s).
 */
import type { JobSummary, TriggerSummary } from '../../management/types.js';
import { requestHeaders } from './api.js';
import { AUTH, emit, triggerChanged } from './context.js';
import { $ } from './dom.js';

interface Stream {
  controller: AbortController;
  stopped: boolean;
}

let current: Stream | null = null;

/** The badge that says whether the page is live. */
export function setLive(mode: 'idle' | 'live' | 'error', text: string): void {
  const node = $('live');
  node.setAttribute('data-state', mode);
  node.textContent = text;
}

/** Close the stream for good (sign-out, or before another one opens). */
export function stopStream(): void {
  if (current) { current.stopped = true; current.controller.abort(); current = null; }
}

/** Open the stream (closing any other); `delay` is the wait before the reconnect that followed a failure. */
export function connectStream(delay: number): void {
  const stream: Stream = { controller: new AbortController(), stopped: false };
  current = stream;
  const retry = (reason: string | undefined): void => {
    if (stream.stopped) return;
    const next = Math.min((delay || 500) * 2, 15000);
    setLive('error', 'Reconnecting…');
    if (reason) $('live').setAttribute('title', reason);
    window.setTimeout(() => { if (!stream.stopped) connectStream(next); }, next);
  };
  read(stream, retry).catch((err: unknown) => { if (!stream.stopped) retry(err instanceof Error ? err.message : undefined); });
}

async function read(stream: Stream, retry: (reason: string | undefined) => void): Promise<void> {
  const res = await fetch('api/events', {
    headers: requestHeaders({ Accept: 'text/event-stream' }),
    signal: stream.controller.signal,
    cache: 'no-store',
    credentials: 'same-origin',
  });
  if (res.status === 401 && AUTH === 'jwt') { stream.stopped = true; emit('unauthorized', 'the event stream refused the token'); return; }
  if (!res.ok || !res.body) { retry(`HTTP ${res.status}`); return; }
  setLive('live', 'Live');
  $('live').removeAttribute('title');
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) { retry('stream ended'); return; }
    buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      dispatchBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  }
}

/** One event of the stream: `event:` names it, `data:` lines carry its JSON record. */
function dispatchBlock(block: string): void {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (!data.length) return;
  let record: unknown;
  try {
    record = JSON.parse(data.join('\n'));
  } catch (e) {
    console.warn(`dashboard: event "${type}" with data that is not JSON`, e);
    return;
  }
  if (typeof record !== 'object' || record === null || !('id' in record) || typeof record.id !== 'string' || record.id === '') return;
  // The stream's frames are the API's summaries (src/management/answers.ts).
  if (type === 'job') emit('job', record as JobSummary, 'stream');
  else if (type === 'trigger') triggerChanged(record as TriggerSummary);
  else if (type === 'trigger-removed') emit('trigger-removed', record.id);
}
