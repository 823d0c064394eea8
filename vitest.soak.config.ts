import { defineConfig } from 'vitest/config';

/**
 * The issue-10 kill tests at the full load with every check (`npm run test:soak`): 3
 * processes, 20 triggers, SIGKILLs at random instants and at store-call boundaries. `npm test`
 * runs the random kill too (`test/reliability/kill-random.test.ts`), with the checks that depend
 * on the server's speed and atomicity only where it has them; this config checks all of them
 * everywhere, against a server that carries the load (see docs/reliability.md).
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
