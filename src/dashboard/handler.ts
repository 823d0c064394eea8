/**
 * `createDashboard`: the operator's web page and, under `api/` next to it, the management API it
 * talks to, as one `node:http` request listener.
 *
 * The page is static (HTML, one script, one style sheet, an icon), built into the package (the
 * script is bundled from src/dashboard/client/ at build time, see assets/client-script.ts):
 * nothing to build or download on the user's machine, nothing from a CDN. Everything it
 * shows comes from the management API, which reads the store, so a page served by any instance
 * shows the work of all of them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { createManagementApi } from '../management/index.js';
import { WebhookHttpError, sendError } from '../http/http.js';
import { normalizeBasePath } from '../http/paths.js';
import { isRecord } from '../http/validate.js';
import { dashboardAssets, type DashboardAssets, type StaticAsset } from './assets/index.js';
import { renderPage } from './assets/page.js';
import type { DashboardHandler, DashboardOptions, DashboardScheduler } from './types.js';

/** Default heading and document title. */
export const DEFAULT_DASHBOARD_TITLE = 'Scheduler';

/** Longest accepted `title`. */
const MAX_TITLE_LENGTH = 120;

/**
 * Content-Security-Policy of every page answer: only this origin's own script, styles and API; no
 * inline script or style (the page sets none), no framing, no plugins, no form posts.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': DASHBOARD_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

interface Page {
  html: Buffer;
  etag: string;
}

function buildPage(assets: DashboardAssets, title: string, auth: 'none' | 'jwt', readOnly: boolean): Page {
  const html = Buffer.from(
    renderPage({
      title,
      scriptFile: assets.script.file,
      styleFile: assets.style.file,
      iconFile: assets.icon.file,
      auth,
      readOnly,
    }),
    'utf8',
  );
  return { html, etag: `"${createHash('sha256').update(html).digest('hex').slice(0, 16)}"` };
}

function pathAndQuery(url: string): [string, string] {
  const q = url.search(/[?#]/);
  return q < 0 ? [url, ''] : [url.slice(0, q), url.slice(q)];
}

function redirect(res: ServerResponse, location: string): void {
  res.statusCode = 308;
  res.setHeader('Location', location);
  res.setHeader('Cache-Control', 'no-store');
  res.end();
}

/** Answer with a static body, or 304 when the client holds the same version. */
function sendStatic(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  contentType: string,
  etag: string,
  cacheControl: string,
): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  res.setHeader('Cache-Control', cacheControl);
  res.setHeader('ETag', etag);
  const match = req.headers['if-none-match'];
  if (match !== undefined && match.split(',').some((tag) => tag.trim() === etag)) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', body.length);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Create the dashboard request listener.
 *
 * Serves, under `basePath` (default `/`):
 * - `GET <basePath>` — the page (a path without its trailing `/` is redirected to it, so the
 *   page's relative URLs resolve);
 * - `GET <basePath>assets/<name>.<hash>.(js|css|svg)` — its files, cached for a year;
 * - `<basePath>api/...` — the management API (`createManagementApi`) with the same `auth` and
 *   `readOnly`: what the page calls, usable by scripts too.
 *
 * The page and its files need no credentials (they hold no data); every API call does, as
 * configured. In the browser, `{ jwt }` makes the page ask for a bearer token, kept in the tab's
 * `sessionStorage` and sent on every request, the event stream included. HMAC is refused: a
 * browser cannot sign requests.
 *
 * Options are validated here: a bad one throws `InvalidArgumentError` naming it.
 *
 * @example
 * http.createServer(createDashboard(scheduler, { auth: { none: true }, readOnly: true }))
 *   .listen(3000, '127.0.0.1');
 */
export function createDashboard(scheduler: DashboardScheduler, options: DashboardOptions): DashboardHandler {
  if (!isRecord(options)) throw new InvalidArgumentError('options', 'must be an object');
  const { basePath: rawBasePath, title: rawTitle, ...apiOptions } = options;

  const auth: unknown = apiOptions.auth;
  if (isRecord(auth) && auth['hmac'] !== undefined) {
    throw new InvalidArgumentError('auth.hmac', 'a browser cannot sign requests: use { jwt } or { none: true }');
  }

  let basePath = '/';
  if (rawBasePath !== undefined) {
    const normalized = typeof rawBasePath === 'string' ? normalizeBasePath(rawBasePath) : null;
    if (normalized === null) {
      throw new InvalidArgumentError('basePath', 'must be a path starting with "/" (no query, no "//")');
    }
    basePath = normalized;
  }

  let title = DEFAULT_DASHBOARD_TITLE;
  if (rawTitle !== undefined) {
    if (typeof rawTitle !== 'string' || rawTitle.trim() === '' || rawTitle.length > MAX_TITLE_LENGTH) {
      throw new InvalidArgumentError('title', `must be a non-empty string of at most ${MAX_TITLE_LENGTH} characters`);
    }
    title = rawTitle;
  }

  const pagePath = basePath === '/' ? '/' : `${basePath}/`;
  const assetsPath = `${pagePath}assets/`;
  // The API validates every option it receives (auth, readOnly, unknown keys, ...) itself.
  const api = createManagementApi(scheduler, { ...apiOptions, basePath: `${pagePath}api` });
  const assets = dashboardAssets();
  const page = buildPage(assets, title, isRecord(auth) && auth['jwt'] !== undefined ? 'jwt' : 'none', apiOptions.readOnly === true);

  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (api.handles(url)) {
      api(req, res);
      return;
    }
    const [path, search] = pathAndQuery(url);
    const method = (req.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      sendError(res, new WebhookHttpError(405, 'ERR_METHOD_NOT_ALLOWED', 'use GET or HEAD', { Allow: 'GET, HEAD' }));
      return;
    }
    if (path === pagePath) {
      // Express strips its mount path from req.url: "/ops" and "/ops/" both arrive as "/". The page
      // needs the slash for its relative URLs, so look at the URL the browser really asked for.
      const original = (req as IncomingMessage & { originalUrl?: unknown }).originalUrl;
      if (typeof original === 'string') {
        const [originalPath, originalSearch] = pathAndQuery(original);
        if (!originalPath.endsWith('/')) {
          redirect(res, `${originalPath}/${originalSearch}`);
          return;
        }
      }
      sendStatic(req, res, page.html, 'text/html; charset=utf-8', page.etag, 'no-cache');
      return;
    }
    if (basePath !== '/' && path === basePath) {
      redirect(res, `${pagePath}${search}`);
      return;
    }
    const file: StaticAsset | undefined = path.startsWith(assetsPath) ? assets.byFile.get(path.slice(assetsPath.length)) : undefined;
    if (file !== undefined) {
      sendStatic(req, res, file.body, file.contentType, file.etag, 'public, max-age=31536000, immutable');
      return;
    }
    sendError(res, new WebhookHttpError(404, 'ERR_ROUTE_NOT_FOUND', 'no such page'));
  };
}
