/**
 * Where the worker entry lives at runtime, and how a worker thread must be started to load it.
 *
 * The same runner code runs from three layouts:
 * - the published bundle: tsup bundles the runner into `dist/index.js` / `dist/index.cjs` and
 *   emits the entry as `dist/runners/worker-entry.js` (ESM) and `.cjs`;
 * - a file-per-module build (e.g. tsc): the entry is `worker-entry.js` next to the runner;
 * - TypeScript sources (vitest, tsx): only `src/runners/worker-entry.ts` exists. Node 20 worker
 *   threads cannot load `.ts`, and tsx deliberately does not register itself in worker threads on
 *   Node 20 (even with `--import tsx` in the worker's execArgv), so the thread is started with a
 *   tiny `--import data:` module that calls tsx's `register()` inside the worker.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A resolved worker entry. */
export interface WorkerFile {
  /** Absolute path handed to tinypool. */
  filename: string;
  /** Extra `execArgv` for the worker threads, or `null` to inherit the parent's. */
  execArgv: string[] | null;
}

/** Path of this module at runtime, under ESM and under tsup's CJS output alike. */
function ownFile(): string {
  // esbuild empties `import.meta` in CJS output, while `__filename` exists only there (and in
  // test runners that provide it for ESM too; it then points at this same file).
  if (typeof __filename === 'string' && __filename !== '') return __filename;
  return fileURLToPath(import.meta.url);
}

/** Resolve the worker entry, or the explicit `workerFile` option when given. */
export function resolveWorkerFile(explicit?: string | URL): WorkerFile {
  if (explicit !== undefined) {
    const filename = explicit instanceof URL || explicit.startsWith('file:') ? fileURLToPath(explicit) : explicit;
    if (!existsSync(filename)) throw new Error(`workerFile not found: ${filename}`);
    return { filename, execArgv: filename.endsWith('.ts') ? tsxExecArgv(filename) : null };
  }
  const self = ownFile();
  const dir = dirname(self);
  const candidates = [
    join(dir, 'worker-entry.js'),
    join(dir, 'runners', 'worker-entry.js'),
    join(dir, 'worker-entry.cjs'),
    join(dir, 'runners', 'worker-entry.cjs'),
  ];
  for (const candidate of candidates) {
    if (existsSync(candidate)) return { filename: candidate, execArgv: inheritableExecArgv() };
  }
  const source = join(dir, 'worker-entry.ts');
  if (existsSync(source)) return { filename: source, execArgv: tsxExecArgv(self) };
  throw new Error(
    `WorkerPoolJobRunner: cannot find its worker entry next to ${self} (looked for ${candidates.join(', ')}, ${source}); pass the workerFile option`,
  );
}

/**
 * Worker threads inherit the host's `execArgv`, which is what users expect (`--conditions`,
 * `--enable-source-maps`, ...) and must stay the default: passing an explicit list makes Node
 * reject V8 flags such as `--max-old-space-size` (ERR_WORKER_INVALID_EXEC_ARGV). The exception is
 * `--input-type` (host run with `-e` or stdin): inherited, it makes every worker fail to load its
 * entry file (ERR_INPUT_TYPE_NOT_ALLOWED), so such hosts start workers with no flags at all.
 */
function inheritableExecArgv(): string[] | null {
  return process.execArgv.some((arg) => arg === '--input-type' || arg.startsWith('--input-type=')) ? [] : null;
}

/** `execArgv` that makes a worker thread able to import TypeScript through tsx. */
function tsxExecArgv(fromFile: string): string[] {
  let apiFile: string;
  try {
    const require = createRequire(fromFile);
    const manifestPath = require.resolve('tsx/package.json');
    apiFile = join(dirname(manifestPath), tsxEsmApiPath(readFileSync(manifestPath, 'utf8')));
  } catch (error) {
    throw new Error(
      'WorkerPoolJobRunner: the worker entry is TypeScript (running from sources) and tsx, needed to load it in worker threads, was not found; build the package or pass workerFile',
      { cause: error },
    );
  }
  const code = `import { register } from ${JSON.stringify(pathToFileURL(apiFile).href)}; register();`;
  return ['--import', `data:text/javascript,${encodeURIComponent(code)}`];
}

/** Path of tsx's ESM API (`tsx/esm/api`, import condition) taken from its package.json exports. */
function tsxEsmApiPath(manifest: string): string {
  const fallback = './dist/esm/api/index.mjs';
  const parsed: unknown = JSON.parse(manifest);
  if (typeof parsed !== 'object' || parsed === null) return fallback;
  const exportsField = (parsed as { exports?: unknown }).exports;
  if (typeof exportsField !== 'object' || exportsField === null) return fallback;
  const entry = (exportsField as Record<string, unknown>)['./esm/api'];
  if (typeof entry === 'string') return entry;
  if (typeof entry !== 'object' || entry === null) return fallback;
  const importCondition = (entry as Record<string, unknown>)['import'];
  if (typeof importCondition === 'string') return importCondition;
  if (typeof importCondition === 'object' && importCondition !== null) {
    const target = (importCondition as Record<string, unknown>)['default'];
    if (typeof target === 'string') return target;
  }
  return fallback;
}
