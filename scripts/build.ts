/**
 * `npm run build`: empty `dist/`, run tsup (tsup.config.ts), then make the bundled declarations
 * compile for users without the optional peers (`finishTypes`).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The optional peer dependencies whose types the declarations may import. */
const OPTIONAL_PEERS = ['mongodb', '@opentelemetry/api', 'prom-client', 'vitest'] as const;

/**
 * An import line of an optional peer in tsup's declaration bundles: named (`import { Db } from
 * 'mongodb';`), namespace (`import * as api from '@opentelemetry/api';`) or bare (`import 'mongodb';`,
 * left by a bundle that re-exports a chunk using the peer).
 */
const PEER_IMPORT = /^import (?:type )?(?:(?:\{[^}]*\}|\* as \w+) from )?'(mongodb|@opentelemetry\/api|prom-client|vitest)';$/;

/** Any other way a declaration could name a peer; such a reference cannot be marked, so it fails the build. */
const OTHER_PEER_REFERENCE = new RegExp(
  OPTIONAL_PEERS.map((peer) => `(?:from|import\\(|require\\()\\s*['"]${peer.replace('/', '\\/')}['"]`).join('|'),
);

/** Why an import is marked: a user reading the `.d.ts` sees this on the line above it. */
function mark(peer: string): string {
  return `// @ts-ignore -- '${peer}' is an optional peer dependency: without it, its types are 'any'.`;
}

/** The file names of the declaration bundles in `outDir`: each entry's and the chunks they share. */
function declarationFiles(outDir: string): string[] {
  return readdirSync(outDir).filter((name) => name.endsWith('.d.ts') || name.endsWith('.d.cts'));
}

/**
 * Mark the imports of optional peers (`mongodb`, `@opentelemetry/api`, `prom-client`, and `vitest`,
 * whose functions the test kit's `ContractRunner` names: an app using only `TimeTravel` may have
 * no Vitest) in each bundled declaration file (each entry's and the chunks they share) with
 * `@ts-ignore`. The MongoDB
 * backend's signatures name `Db`, `Collection` and `MongoClient`, and the scheduler's options name
 * OpenTelemetry's providers; an app without those packages would fail to type-check the package
 * (TS2307, with `skipLibCheck: false`). Marked, those names are `any` there and the real types
 * wherever the package is installed. Idempotent. The build fails when a declaration names a peer in
 * a way that cannot be marked, or when neither format's declarations import `mongodb` in the
 * expected shape, so the mark cannot silently go missing.
 */
export function finishTypes(outDir: string): void {
  const mongoImports = { '.d.ts': 0, '.d.cts': 0 };
  for (const file of declarationFiles(outDir)) {
    const path = `${outDir}/${file}`;
    const lines = readFileSync(path, 'utf8').split('\n');
    const out: string[] = [];
    for (const line of lines) {
      const peer = PEER_IMPORT.exec(line)?.[1];
      if (peer === undefined) {
        if (OTHER_PEER_REFERENCE.test(line)) throw new Error(`${path}: an optional peer is named in a form that cannot be marked: ${line}`);
      } else {
        if (peer === 'mongodb' && line.includes(' from ')) mongoImports[file.endsWith('.d.cts') ? '.d.cts' : '.d.ts'] += 1;
        if (out.at(-1) !== mark(peer)) out.push(mark(peer));
      }
      out.push(line);
    }
    writeFileSync(path, out.join('\n'));
  }
  for (const [format, count] of Object.entries(mongoImports)) {
    if (count === 0) throw new Error(`${outDir}: no ${format} file has an "import { ... } from 'mongodb';" line to mark`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../', import.meta.url));
  rmSync(`${root}dist`, { recursive: true, force: true });
  execFileSync(process.execPath, [`${root}node_modules/tsup/dist/cli-default.js`], { cwd: root, stdio: 'inherit' });
  finishTypes(`${root}dist`);
}
