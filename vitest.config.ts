import { defineConfig } from 'vitest/config';

export default defineConfig({
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
