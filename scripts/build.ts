/**
 * `npm run build`: empty `dist/`, run tsup (tsup.config.ts), then make the bundled declarations
 * compile for users without the optional `mongodb` peer (`finishTypes`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The lines tsup's declaration bundle imports the driver's types with (it must have one). */
const MONGODB_IMPORT = /^import (type )?\{[^}]*\} from 'mongodb';$/m;

/** The lines it imports the other optional peers' types with, where it has them. */
const OPTIONAL_PEER_IMPORT = /^import (type )?(\{[^}]*\}|\* as \w+) from '(@opentelemetry\/api|prom-client)';$/gm;

/** The line the test kit's declaration bundle imports Vitest's types with (it must have one). */
const VITEST_IMPORT = /^import (type )?(\{[^}]*\}|\* as \w+) from 'vitest';$/m;

/** Why an import is marked: a user reading the `.d.ts` sees this on the line above it. */
function mark(peer: string): string {
  return `// @ts-ignore -- '${peer}' is an optional peer dependency: without it, its types are 'any'.`;
}

/**
 * Mark the imports of optional peers (`mongodb`, `@opentelemetry/api`, and `vitest` in the test
 * kit's) in each bundled declaration
 * file with `@ts-ignore`. The root entry exports the MongoDB backend, whose signatures name `Db`,
 * `Collection` and `MongoClient`, and the scheduler's options name OpenTelemetry's providers; an
 * app without those packages would fail to type-check the package (TS2307, with
 * `skipLibCheck: false`). Marked, those names are `any` there and the real types wherever the
 * package is installed. The `mongodb` import must be found: a bundle that no longer has one in this
 * shape fails the build, so the mark cannot silently go missing.
 */
export function finishTypes(outDir: string): void {
  for (const file of ['index.d.ts', 'index.d.cts']) {
    const path = `${outDir}/${file}`;
    let text = readFileSync(path, 'utf8');
    if (text.includes(mark('mongodb'))) continue;
    if (!MONGODB_IMPORT.test(text)) throw new Error(`${path}: no "import { ... } from 'mongodb';" line to mark`);
    text = text.replace(MONGODB_IMPORT, (line) => `${mark('mongodb')}\n${line}`);
    text = text.replace(OPTIONAL_PEER_IMPORT, (line, _type: unknown, _names: unknown, peer: string) => `${mark(peer)}\n${line}`);
    writeFileSync(path, text);
  }
  // The test kit's `ContractRunner` names Vitest's functions; an app using only `TimeTravel` may
  // have no Vitest.
  for (const file of ['testing.d.ts', 'testing.d.cts']) {
    const path = `${outDir}/${file}`;
    const text = readFileSync(path, 'utf8');
    if (text.includes(mark('vitest'))) continue;
    if (!VITEST_IMPORT.test(text)) throw new Error(`${path}: no "import ... from 'vitest';" line to mark`);
    writeFileSync(path, text.replace(VITEST_IMPORT, (line) => `${mark('vitest')}\n${line}`));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../', import.meta.url));
  rmSync(`${root}dist`, { recursive: true, force: true });
  execFileSync(process.execPath, [`${root}node_modules/tsup/dist/cli-default.js`], { cwd: root, stdio: 'inherit' });
  finishTypes(`${root}dist`);
}
