/**
 * The type tests (test/types/*.test-d.ts) run where they are meant to: `tsc` in `npm run
 * typecheck` checks them only while tsconfig.json takes them in, and vitest's typecheck mode
 * (`npm run test:types`) only while its `include` matches them. A narrowed `include` would turn
 * them off without a sound; this says so.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import config from '../../vitest.config.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TYPE_TESTS = readdirSync(join(ROOT, 'test', 'types'))
  .filter((name) => name.endsWith('.test-d.ts'))
  .map((name) => join(ROOT, 'test', 'types', name));

describe('type tests', () => {
  it('exist', () => {
    expect(TYPE_TESTS.length).toBeGreaterThanOrEqual(2);
  });

  it('are type-checked by npm run typecheck (tsconfig.json takes them in)', () => {
    const raw = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path)).config as unknown;
    const parsed = ts.parseJsonConfigFileContent(raw, ts.sys, ROOT);
    for (const file of TYPE_TESTS) expect(parsed.fileNames).toContain(file);
  });

  it('are what vitest typecheck mode runs', () => {
    expect(config.test?.typecheck?.include).toEqual(['test/types/**/*.test-d.ts']);
  });
});
