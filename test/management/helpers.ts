/**
 * Helpers of the management API suites: a scheduler rig with the API listening on 127.0.0.1 port 0,
 * closed by `closeAll()` in afterEach, and a JSON client.
 */
import { SignJWT } from 'jose';
import { createManagementApi, type ManagementApi, type ManagementApiOptions } from '../../src/management/index.js';
import type { Scheduler } from '../../src/scheduler.js';
import { send, startServer, type Reply, type RunningServer } from '../unit/webhook/fixtures.js';

export { send, type Reply };

const open: Array<() => Promise<void>> = [];

/** Close every server and scheduler opened through this module. */
export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((close) => close()));
}

/** Register a closer for `closeAll`. */
export function onClose(close: () => Promise<void>): void {
  open.push(close);
}

/** An API on a listening server. */
export interface ApiServer {
  api: ManagementApi;
  server: RunningServer;
  port: number;
  /** `GET`/`POST`/`DELETE` with optional JSON body and headers. */
  call(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string> }): Promise<Reply>;
}

/** Serve `createManagementApi(scheduler, options)` on a free port. */
export async function serve(scheduler: Scheduler, options: ManagementApiOptions = { auth: { none: true } }): Promise<ApiServer> {
  const api = createManagementApi(scheduler, options);
  const server = await startServer(api);
  onClose(async () => {
    api.close();
    await server.close();
  });
  return {
    api,
    server,
    port: server.port,
    call: (method, path, opts = {}) => {
      const headers: Record<string, string> = { ...opts.headers };
      let body: string | undefined;
      if (opts.body !== undefined) body = JSON.stringify(opts.body);
      // Every write must say JSON, even without a body (the API's CSRF defence).
      if (method !== 'GET' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers['Content-Type'] = 'application/json';
      }
      return send(server.port, { method, path, headers, ...(body === undefined ? {} : { body }) });
    },
  };
}

/** HS256 secret of the JWT suites. */
export const JWT_SECRET = 'a-jwt-secret-that-is-at-least-32-bytes-long';

/** A token valid for five minutes carrying `scope`. */
export function token(scope: string, secret: string = JWT_SECRET): Promise<string> {
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('operator')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));
}

/** The body of an error answer. */
export function errorOf(reply: Reply): { code: string; message: string; field?: string } {
  return (reply.json as { error: { code: string; message: string; field?: string } }).error;
}
