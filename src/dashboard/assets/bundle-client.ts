/**
 * How the dashboard's browser script (src/dashboard/client/, TypeScript) becomes the one classic
 * script the page loads: esbuild bundles `client/main.ts` into an IIFE for the browsers of the
 * last years (ES2020), whitespace and syntax minified but names kept, so a stack trace in the
 * browser's console still reads.
 *
 * Used in two places only, never by the shipped package: tsup.config.ts, which bundles once at
 * build time and inlines the text into dist/ (client-script.ts), and client-script.ts itself when
 * the code runs from source (tests, `tsx`). esbuild is a devDependency, loaded on first use.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The part of esbuild's API used here (its own types would tie this file to its version). */
interface Esbuild {
  buildSync(options: Record<string, unknown>): { outputFiles?: { text: string }[] };
}

/** The browser script as served: one IIFE, no imports, no `eval`, nothing inline in the page. */
export function bundleClient(): string {
  // Resolved here, not at import: a CommonJS bundle of the sources (a test builds one) has no
  // `import.meta.url`, and must still load as long as it makes no dashboard.
  const entry = fileURLToPath(new URL('../client/main.ts', import.meta.url));
  const esbuild = createRequire(import.meta.url)('esbuild') as Esbuild;
  const result = esbuild.buildSync({
    entryPoints: [entry],
    // The client's own tsconfig (the DOM library).
    tsconfig: fileURLToPath(new URL('../client/tsconfig.json', import.meta.url)),
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    charset: 'utf8',
    legalComments: 'none',
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'silent',
  });
  const text = result.outputFiles?.[0]?.text;
  if (text === undefined) throw new Error(`esbuild wrote no bundle for ${entry}`);
  return text;
}
