import { defineConfig } from 'vitest/config';

/**
 * The issue-10 kill tests at the full load (`npm run test:soak`): 3 processes, 20 triggers,
 * SIGKILLs at random instants and at store-call boundaries. Not part of `npm test`: on FerretDB v1
 * on a 2-core machine that load exceeds the server (see docs/reliability.md), so they are run on
 * purpose, against a server that carries it.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.soak.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
