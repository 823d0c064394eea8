/**
 * A minimal Server-Sent Events client for the suites: collects `event:`/`data:` frames.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';

/** One received event. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/** An open stream. */
export interface SseStream {
  status: number;
  headers: IncomingMessage['headers'];
  events: SseEvent[];
  /** Raw text received, comments included. */
  raw(): string;
  /** Resolve once an event satisfies `match` (rejects after `timeoutMs`). */
  waitFor(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

/** Open `path` on 127.0.0.1:`port` as an event stream. */
export function openStream(port: number, path: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    let req: ClientRequest | null = null;
    req = request({ host: '127.0.0.1', port, path, headers: { Accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      let text = '';
      let pending = '';
      const events: SseEvent[] = [];
      const waiters: Array<() => void> = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        pending += chunk;
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const frame = pending.slice(0, end);
          pending = pending.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) events.push({ event, data: JSON.parse(data.join('\n')) as unknown });
        }
        for (const wake of waiters.splice(0)) wake();
      });
      res.on('error', () => undefined);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        raw: () => text,
        waitFor: (match, timeoutMs = 5000) =>
          new Promise<SseEvent>((done, fail) => {
            const timer = setTimeout(() => fail(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => e.event))}`)), timeoutMs);
            const check = (): void => {
              const hit = events.find(match);
              if (hit) {
                clearTimeout(timer);
                done(hit);
              } else {
                waiters.push(check);
              }
            };
            check();
          }),
        close: () => {
          res.destroy();
          req?.destroy();
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}
