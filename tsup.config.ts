import { defineConfig } from 'tsup';

export default defineConfig({
  // The CLI is one more entry (dist/cli/main.js); dts stays the library's alone.
  entry: ['src/index.ts', 'src/runners/worker-entry.ts', 'src/cli/main.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
  treeshake: true,
});
