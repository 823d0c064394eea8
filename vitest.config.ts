import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The package's own name, resolved to its sources: tests import the kit as a user writes it. */
const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@intellibrowse\/scheduler\/testing$/, replacement: source('./src/testing/index.ts') },
      { find: /^@intellibrowse\/scheduler$/, replacement: source('./src/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The type tests (test/types/*.test-d.ts) are checked by `tsc` in `npm run typecheck`, which CI
    // runs; `npm run test:types` runs them through vitest's typecheck mode, one report line each.
    // Not on in `npm test`: it would type-check the whole project a second time on every run.
    typecheck: { include: ['test/types/**/*.test-d.ts'], tsconfig: 'tsconfig.json' },
  },
});
