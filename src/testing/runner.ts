/**
 * The test functions the contract suite registers its cases with. The suite takes them from the
 * caller instead of importing a test framework itself, so loading the kit never loads one (the
 * time-travel harness works under any runner) and no global mode is needed.
 */
import type * as Vitest from 'vitest';

/**
 * Vitest's `describe`, `it`, `expect` and `afterEach`, as the test file imports them. The suite uses
 * Vitest's API (`describe(name, { timeout: 60_000 }, fn)`), so it runs under Vitest; `vitest` is
 * an optional peer dependency of the package, needed only by the contract suite.
 *
 * @example
 * import * as vitest from 'vitest';
 * runBackendContract('postgres', makeBackend, vitest);
 * @example
 * import { afterEach, describe, expect, it } from 'vitest';
 * runBackendContract('postgres', makeBackend, { describe, it, expect, afterEach });
 */
export interface ContractRunner {
  /** Vitest's `describe`: groups the cases (with options such as `{ timeout }`). */
  describe: typeof Vitest.describe;
  /** Vitest's `it`: one case. */
  it: typeof Vitest.it;
  /** Vitest's `expect`: the assertions. */
  expect: typeof Vitest.expect;
  /** Vitest's `afterEach`: the suite cleans each backend up with it. */
  afterEach: typeof Vitest.afterEach;
}
