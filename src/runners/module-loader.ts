/**
 * Resolving and loading module handlers (`{ module, exportName }`), shared by the inline runner
 * (main thread) and the worker entry (worker threads).
 *
 * Failures are returned, not thrown, so each side can turn them into what it needs: the inline
 * runner into `InvalidArgumentError`s, the worker into a cloneable reply. This module has no
 * runtime imports from the rest of the package because it is bundled into the worker entry.
 */
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HandlerFunction, ModuleHandler } from '../ports.js';

/** A module handler with its location checked and normalised. */
export interface ModuleSpec {
  /** `file:` URL of the module (the form `import()` takes on every platform). */
  href: string;
  /** File system path of the module, for messages and existence checks. */
  path: string;
  /** Export to call. */
  exportName: string;
}

/** Why a module handler cannot be used. */
export interface LoadFailure {
  /** Registration field at fault. */
  field: 'handler.module' | 'handler.exportName';
  /** Human-readable reason. */
  reason: string;
  /** Underlying error (from `import()`), if any. */
  cause: unknown;
}

/** Result of `parseModuleHandler`. */
export type ParseResult = { ok: true; spec: ModuleSpec } | { ok: false; failure: LoadFailure };

/** Result of `loadExport`. */
export type LoadResult = { ok: true; fn: HandlerFunction } | { ok: false; failure: LoadFailure };

/** Whether a handler is a module handler (as opposed to an in-thread function). */
export function isModuleHandler(handler: unknown): handler is ModuleHandler {
  return typeof handler === 'object' && handler !== null && 'module' in handler;
}

/**
 * Check the shape of a module handler and that its file exists, without importing it (importing
 * runs the user's top-level code, which callers may want to do elsewhere, e.g. in a worker).
 */
export function parseModuleHandler(handler: ModuleHandler, checkExists = true): ParseResult {
  const exportName = handler.exportName ?? 'default';
  if (typeof exportName !== 'string' || exportName === '') {
    return fail('handler.exportName', 'must be a non-empty string');
  }
  const location: unknown = handler.module;
  let url: URL;
  if (location instanceof URL) {
    url = location;
  } else if (typeof location === 'string' && location.startsWith('file:')) {
    try {
      url = new URL(location);
    } catch {
      return fail('handler.module', `"${location}" is not a valid file: URL`);
    }
  } else if (typeof location === 'string' && isAbsolute(location)) {
    url = pathToFileURL(location);
  } else {
    // Relative paths and bare specifiers would resolve against whichever file happens to import
    // them (here, or the worker entry), not against the caller: refuse them instead of guessing.
    return fail(
      'handler.module',
      `must be an absolute path or a file: URL (for example new URL('./job.js', import.meta.url)), got ${JSON.stringify(String(location))}`,
    );
  }
  if (url.protocol !== 'file:') return fail('handler.module', `only file: URLs are supported, got ${url.protocol}`);
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (error) {
    return fail('handler.module', `"${url.href}" is not a usable file: URL`, error);
  }
  if (checkExists && !existsSync(path)) return fail('handler.module', `module not found: ${path}`);
  return { ok: true, spec: { href: url.href, path, exportName } };
}

/**
 * Import a module and return its export as a handler. Node's module cache makes repeated calls in
 * one thread cheap; a module whose evaluation threw keeps failing (ESM caches the failure).
 */
export async function loadExport(spec: ModuleSpec): Promise<LoadResult> {
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(spec.href)) as Record<string, unknown>;
  } catch (error) {
    if (!existsSync(spec.path)) return fail('handler.module', `module not found: ${spec.path}`, error);
    return fail('handler.module', `module ${spec.path} failed to load: ${errorText(error)}`, error);
  }
  let candidate = namespace[spec.exportName];
  // A CommonJS module compiled from `export default fn` (e.g. by tsc) shows up under ESM as
  // `default = { __esModule: true, default: fn }`; unwrap that one level so such builds work too.
  if (spec.exportName === 'default' && typeof candidate === 'object' && candidate !== null) {
    const inner = candidate as { __esModule?: unknown; default?: unknown };
    if (inner.__esModule === true && typeof inner.default === 'function') candidate = inner.default;
  }
  if (candidate === undefined) {
    const names = Object.keys(namespace).filter((name) => name !== '__esModule');
    const available = names.length > 0 ? names.map((name) => `"${name}"`).join(', ') : 'none';
    return fail('handler.exportName', `module ${spec.path} has no export "${spec.exportName}" (exports: ${available})`);
  }
  if (typeof candidate !== 'function') {
    return fail(
      'handler.exportName',
      `export "${spec.exportName}" of ${spec.path} is not a function (it is ${candidate === null ? 'null' : typeof candidate})`,
    );
  }
  return { ok: true, fn: candidate as HandlerFunction };
}

function fail(field: LoadFailure['field'], reason: string, cause?: unknown): { ok: false; failure: LoadFailure } {
  return { ok: false, failure: { field, reason, cause } };
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
