/**
 * The dashboard's static files as served: body, content type and a content hash that goes into the
 * file name, so each can be cached for a year and a new release is fetched at once.
 *
 * Built on first use, not at import: from source, the script is bundled by esbuild
 * (client-script.ts), which a program that imports the package but never makes a dashboard
 * should not pay for.
 */
import { createHash } from 'node:crypto';
import { clientScript } from './client-script.js';
import { ICON_SVG } from './page.js';
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

/** Every file of the page. */
export interface DashboardAssets {
  /** The browser script (src/dashboard/client/, bundled). */
  script: StaticAsset;
  /** The style sheet. */
  style: StaticAsset;
  /** The favicon. */
  icon: StaticAsset;
  /** Each of them by file name. */
  byFile: ReadonlyMap<string, StaticAsset>;
}

function asset(stem: string, ext: string, contentType: string, text: string): StaticAsset {
  const body = Buffer.from(text, 'utf8');
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { file: `${stem}.${hash}.${ext}`, contentType, body, etag: `"${hash}"` };
}

let assets: DashboardAssets | undefined;

/** The page's files, built once per process. */
export function dashboardAssets(): DashboardAssets {
  if (assets === undefined) {
    const script = asset('dashboard', 'js', 'text/javascript; charset=utf-8', clientScript());
    const style = asset('dashboard', 'css', 'text/css; charset=utf-8', DASHBOARD_CSS);
    const icon = asset('icon', 'svg', 'image/svg+xml', ICON_SVG);
    assets = { script, style, icon, byFile: new Map([script, style, icon].map((a) => [a.file, a])) };
  }
  return assets;
}
