import { defineConfig, type Options } from 'tsup';

/**
 * The package's entries (`exports` in package.json): the core at the root, the MongoDB backend and
 * the HTTP surfaces. Each is built to `dist/<name>.js` (ESM), `.cjs`, `.d.ts` and `.d.cts`.
 */
export const ENTRIES = {
  index: 'src/index.ts',
  mongo: 'src/entries/mongo.ts',
  http: 'src/entries/http.ts',
} as const;

/**
 * What ships is what a user runs, nothing else:
 * - the library's entries in ESM and CJS, with bundled declarations. Code splitting is on in both
 *   formats (tsup's for CJS is built on esbuild's ESM splitting): code two entries share lives once,
 *   in a `dist/chunk-*` file both load, so `@intellibrowse/scheduler/mongo` throws the root's
 *   `StoreError` (an `instanceof` holds) and a `MongoJobStore` meets the same engine as the
 *   `Scheduler` it is given to. Without it every entry would carry its own copy of every class;
 * - the test kit (`dist/testing.*`, `@intellibrowse/scheduler/testing`) in ESM and CJS, the root
 *   left external to it;
 * - the worker-thread entry and the CLI in ESM only: a worker thread loads the ESM entry from
 *   either bundle (`src/runners/worker-file.ts` looks for `worker-entry.js` first), and the `bin`
 *   is `dist/cli/main.js`, so CJS copies of them would never be loaded.
 * No source maps: the bundles are unminified (a stack trace already points at readable code), and
 * the maps, which must carry the sources the package does not ship, were 70 % of its size.
 * `npm run build` (`scripts/build.ts`) empties `dist/` first (no config cleans: tsup builds
 * them at once, and one's clean could remove another's files), then finishes the `.d.ts`.
 */
const shared: Options = {
  sourcemap: false,
  target: 'node20',
  treeshake: true,
};

export default defineConfig([
  { ...shared, entry: ENTRIES, format: ['esm', 'cjs'], splitting: true, dts: { entry: ENTRIES }, clean: false },
  // Programs of their own (a worker thread, the CLI): one file each, no chunks to share.
  { ...shared, entry: ['src/runners/worker-entry.ts', 'src/cli/main.ts'], format: ['esm'], splitting: false, dts: false, clean: false },
  // The test kit imports the root through the package's own name, kept external: its classes are
  // the root bundle's, not copies (a `SchedulerError` it throws is `instanceof` the app's).
  { ...shared, entry: { testing: 'src/testing/index.ts' }, format: ['esm', 'cjs'], splitting: false, dts: { entry: { testing: 'src/testing/index.ts' } }, external: ['@intellibrowse/scheduler'], clean: false },
]);
