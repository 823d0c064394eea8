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
  },
});
