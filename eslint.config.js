// Lint rules for the package (`npm run lint`, run in CI beside the typecheck): ESLint's
// recommended rules and typescript-eslint's recommended type-checked set, on every TypeScript file
// the tsconfig holds (src, test, bench, examples, scripts and the root configs), found by glob so
// that new files are linted without a change here. Each rule switched off or relaxed says why.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node's globals, for the plain JavaScript files (test fixtures run as worker modules or processes). */
const nodeGlobals = {
  console: 'readonly',
  process: 'readonly',
  Buffer: 'readonly',
  URL: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  setInterval: 'readonly',
  clearInterval: 'readonly',
  setImmediate: 'readonly',
  AbortSignal: 'readonly',
  Atomics: 'readonly',
  SharedArrayBuffer: 'readonly',
  require: 'readonly',
  module: 'writable',
  exports: 'writable',
  __dirname: 'readonly',
  __filename: 'readonly',
};

export default tseslint.config(
  {
    // What the build, the benchmarks and the tests write (.gitignore): not sources.
    ignores: ['dist/**', 'coverage/**', 'node_modules/**', '.bench-out/**', '.test-dist/**', '.perf/**', '.test-cli/**', 'test/browser/artifacts/**'],
  },
  {
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Off: `async` with nothing to await is deliberate here. Such a function implements an
      // async signature (the memory store's port methods, route handlers, job handlers and test
      // fakes), and `async` turns its throws into rejections, which is what callers of that
      // signature handle. Dropping `async` would make those errors synchronous.
      '@typescript-eslint/require-await': 'off',
      // Relaxed: a leading underscore marks a name that is unused on purpose (a parameter a
      // signature requires, a loop counter), and a rest sibling is how a key is left out of a copy.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Relaxed: rejecting with a caught `unknown` passes on what was thrown, as `throw error` in
      // a catch does (which `only-throw-error` allows by default); any other value must be an Error.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Off in tests: vitest types its asymmetric matchers (`expect.any`, `expect.stringContaining`,
      // `expect.objectContaining`) as `any`, and tests put them in the objects they compare. The
      // other no-unsafe-* rules stay on, so a matcher's `any` cannot be called or read through.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
