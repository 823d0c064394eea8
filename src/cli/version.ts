/**
 * The CLI's `--version`: the `version` of the package's own `package.json`, read at run time so it
 * is the installed one, from the bundle (`dist/cli/main.js`) and from the sources (`src/cli/`) alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = '@intellibrowse/scheduler';

/** Path of this module at runtime, under ESM and under tsup's CJS output alike. */
function ownFile(): string {
  // esbuild empties `import.meta` in CJS output, while `__filename` exists only there.
  if (typeof __filename === 'string' && __filename !== '') return __filename;
  return fileURLToPath(import.meta.url);
}

/**
 * The version of the nearest `package.json` above this file that is this package's (an app's own
 * `package.json` further up is not taken for it).
 *
 * @throws Error when no such file is found
 */
export function packageVersion(): string {
  let dir = dirname(ownFile());
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package.json of ${PACKAGE_NAME} above ${ownFile()}`);
    dir = parent;
  }
}
