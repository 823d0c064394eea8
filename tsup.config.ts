import { defineConfig, type Options } from 'tsup';
import { inlineDashboardClient } from './scripts/dashboard-client.js';

/**
 * What ships is what a user runs, nothing else:
 * - the library in ESM and CJS (`dist/index.js`, `dist/index.cjs`), with one bundled `.d.ts` and
 *   `.d.cts`;
 * - the worker-thread entry and the CLI in ESM only: a worker thread loads the ESM entry from
 *   either bundle (`src/runners/worker-file.ts` looks for `worker-entry.js` first), and the `bin`
 *   is `dist/cli/main.js`, so CJS copies of them would never be loaded.
 * The dashboard's browser script (src/dashboard/client/) is bundled once and inlined as a string
 * (scripts/dashboard-client.ts), so a user runs no build step and loads nothing from a CDN.
 * No source maps: the bundles are unminified (a stack trace already points at readable code), and
 * the maps, which must carry the sources the package does not ship, were 70 % of its size.
 * `npm run build` (`scripts/build.ts`) empties `dist/` first (neither config cleans: tsup builds
 * the two at once, and one's clean could remove the other's files), then finishes the `.d.ts`.
 */
const shared: Options = {
  sourcemap: false,
  target: 'node20',
  splitting: false,
  treeshake: true,
  esbuildPlugins: [inlineDashboardClient()],
};

export default defineConfig([
  { ...shared, entry: ['src/index.ts'], format: ['esm', 'cjs'], dts: { entry: 'src/index.ts' }, clean: false },
  { ...shared, entry: ['src/runners/worker-entry.ts', 'src/cli/main.ts'], format: ['esm'], dts: false, clean: false },
]);
