/**
 * The dashboard's browser script as the page gets it (built from src/dashboard/client/ by
 * `bundleClient`). Two ways to the same text:
 * - in the package: tsup.config.ts bundles the client once at build time and replaces this module
 *   with one that returns that text, so a user has no build step, no CDN and no esbuild;
 * - from source (vitest, `npm run example:dashboard` with tsx): the first call bundles it with
 *   esbuild and keeps it for the life of the process (a few hundred ms, once).
 * Keep the exported name and signature: the build's replacement module must match them.
 */
import { bundleClient } from './bundle-client.js';

let script: string | undefined;

/** The browser script's text. */
export function clientScript(): string {
  script ??= bundleClient();
  return script;
}
