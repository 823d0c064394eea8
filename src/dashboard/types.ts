/**
 * Public types of the dashboard: its options and what it needs from a scheduler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { createManagementApi } from '../management/index.js';
import type { ManagementApiOptions } from '../management/types.js';
import type { WebhookJwtAuth } from '../http/types.js';

/**
 * The part of a `Scheduler` the dashboard calls: exactly what the management API behind it needs.
 * The real `Scheduler` satisfies it.
 */
export type DashboardScheduler = Parameters<typeof createManagementApi>[0];

/**
 * How the page's API calls authenticate: a bearer JWT (the page asks for it), or, explicitly,
 * nothing. HMAC signing is not offered, since a browser cannot sign.
 */
export type DashboardAuth =
  | { jwt: WebhookJwtAuth; hmac?: never; none?: never }
  | { none: true; jwt?: never; hmac?: never };

/**
 * Options of `createDashboard`: those of `createManagementApi` (all passed on to the API it mounts:
 * `readOnly`, `scopes`, `logger`, `clock`, `maxBodyBytes`, `eventsPollMs`, ...) except that `auth`
 * cannot be HMAC and `basePath` places the page, plus the page's `title`.
 */
export interface DashboardOptions extends Omit<ManagementApiOptions, 'auth' | 'basePath'> {
  /**
   * Authentication of the API calls (the page and its files are public: they carry no data).
   * JWT scopes: `scheduler:read` to look, `scheduler:write` for the action buttons (see `scopes`).
   */
  auth: DashboardAuth;
  /**
   * Where the page lives: the page at `<basePath>/`, its files under `<basePath>/assets/`, the
   * management API under `<basePath>/api/`. Express strips its mount path, so keep `/` there.
   * @default '/'
   * @example basePath: '/admin/scheduler'
   */
  basePath?: string;
  /**
   * Heading and document title, at most 120 characters.
   * @default 'Scheduler'
   */
  title?: string;
}

/** A `node:http` request listener; also an Express middleware and a Fastify raw handler. */
export type DashboardHandler = (req: IncomingMessage, res: ServerResponse) => void;
