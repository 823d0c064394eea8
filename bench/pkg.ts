/**
 * The package as users get it: the built `dist/index.js`, which `npm run bench` builds first.
 * The benchmarks measure it rather than the TypeScript sources run through tsx, whose transform
 * wraps every named closure in a `defineProperty` call (esbuild's `keepNames`): a cost on every
 * job that the published package does not have. Types come from the sources (they are the same).
 *
 * With `BENCH_DIST` (a directory holding a built `index.js`), that build is loaded instead:
 * bench/compare.ts runs the same benchmark code on a base commit's build and on the working
 * tree's. The staleness check is skipped then, since that build is of other sources by design.
 */
import { statSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Package from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const otherBuild = process.env['BENCH_DIST']?.trim();
const built = otherBuild ? join(resolve(otherBuild), 'index.js') : join(root, 'dist', 'index.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

let builtAt: number;
try {
  builtAt = statSync(built).mtimeMs;
} catch {
  throw new Error(otherBuild ? `${built} is missing (BENCH_DIST=${otherBuild})` : 'dist/index.js is missing: run `npm run build` (npm run bench builds it)');
}
if (!otherBuild && newestSource(join(root, 'src')) > builtAt) throw new Error('dist/ is older than src/: run `npm run build` (npm run bench builds it)');

const pkg = (await import(pathToFileURL(built).href)) as typeof Package;

export type { Job, JsonValue, Trigger, TriggerStore } from '../src/index.js';
export const Scheduler = pkg.Scheduler;
export type Scheduler = Package.Scheduler;
export const MemoryTriggerStore = pkg.MemoryTriggerStore;
export type MemoryTriggerStore = Package.MemoryTriggerStore;
export const WorkerPoolJobRunner = pkg.WorkerPoolJobRunner;
export type WorkerPoolJobRunner = Package.WorkerPoolJobRunner;
export const createMongoBackend = pkg.createMongoBackend;
