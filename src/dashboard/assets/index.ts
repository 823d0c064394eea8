/**
 * The dashboard's static files as served: body, content type and a content hash that goes into the
 * file name, so each can be cached for a year and a new release is fetched at once.
 */
import { createHash } from 'node:crypto';
import { ALERTS_JS } from './alerts.js';
import { APP_JS } from './app.js';
import { DOM_JS } from './dom.js';
import { ICON_SVG } from './page.js';
import { SCHEDULE_WORDS_JS } from './schedule-words.js';
import { DASHBOARD_CSS } from './styles.js';

/** One static file of the page. */
export interface StaticAsset {
  /** File name under `assets/`, with its content hash. */
  file: string;
  /** `Content-Type` header. */
  contentType: string;
  /** The bytes. */
  body: Buffer;
  /** Strong ETag (the hash). */
  etag: string;
}

function asset(stem: string, ext: string, contentType: string, text: string): StaticAsset {
  const body = Buffer.from(text, 'utf8');
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { file: `${stem}.${hash}.${ext}`, contentType, body, etag: `"${hash}"` };
}

/** The script: the pure helpers, the DOM helpers and the alert badges first, then the app that uses them. */
export const SCRIPT_ASSET: StaticAsset = asset(
  'dashboard',
  'js',
  'text/javascript; charset=utf-8',
  `${SCHEDULE_WORDS_JS}\n${DOM_JS}\n${ALERTS_JS}\n${APP_JS}`,
);

/** The style sheet. */
export const STYLE_ASSET: StaticAsset = asset('dashboard', 'css', 'text/css; charset=utf-8', DASHBOARD_CSS);

/** The favicon. */
export const ICON_ASSET: StaticAsset = asset('icon', 'svg', 'image/svg+xml', ICON_SVG);

/** Every asset by file name. */
export const ASSETS: ReadonlyMap<string, StaticAsset> = new Map(
  [SCRIPT_ASSET, STYLE_ASSET, ICON_ASSET].map((a) => [a.file, a]),
);
