/**
 * `npm run build`: empty `dist/`, run tsup (tsup.config.ts), then make the bundled declarations
 * compile for users without the optional `mongodb` peer (`finishTypes`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The line tsup's declaration bundle imports the driver's types with. */
const MONGODB_IMPORT = /^import (type )?\{[^}]*\} from 'mongodb';$/m;

/** Why the import is marked: a user reading the `.d.ts` sees this on the line above it. */
const MARK = "// @ts-ignore -- 'mongodb' is an optional peer dependency: without it, its types are 'any'.";

/**
 * Mark the `mongodb` import of each bundled declaration file with `@ts-ignore`. The root entry
 * exports the MongoDB backend, whose signatures name `Db`, `Collection` and `MongoClient`; an app
 * without the driver would fail to type-check the package (TS2307, with `skipLibCheck: false`).
 * Marked, those names are `any` there and the real types wherever the driver is installed. The
 * import must be found: a bundle that no longer has one in this shape fails the build, so the
 * mark cannot silently go missing.
 */
export function finishTypes(outDir: string): void {
  for (const file of ['index.d.ts', 'index.d.cts']) {
    const path = `${outDir}/${file}`;
    const text = readFileSync(path, 'utf8');
    if (text.includes(MARK)) continue;
    const match = MONGODB_IMPORT.exec(text);
    if (match === null) throw new Error(`${path}: no "import { ... } from 'mongodb';" line to mark`);
    writeFileSync(path, `${text.slice(0, match.index)}${MARK}\n${text.slice(match.index)}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../', import.meta.url));
  rmSync(`${root}dist`, { recursive: true, force: true });
  execFileSync(process.execPath, [`${root}node_modules/tsup/dist/cli-default.js`], { cwd: root, stdio: 'inherit' });
  finishTypes(`${root}dist`);
}
