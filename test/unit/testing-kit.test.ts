/**
 * The shape that keeps the test kit's classes the root's own: every runtime import of
 * `src/testing/` is another kit file or `@intellibrowse/scheduler` itself (external in the built
 * entry, so no second copy of `Scheduler`, `ManualClock` or the errors is bundled), Vitest is
 * named in types only (loading the kit loads no test framework), and the root never imports the
 * kit (the core bundle does not carry it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const KIT = join(SRC, 'testing');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Each import or re-export of a file: its specifier and whether it is type-only. */
function importsOf(file: string): Array<{ specifier: string; typeOnly: boolean }> {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/g)].map((m) => ({
    specifier: m[3]!,
    typeOnly: m[2] !== undefined,
  }));
}

describe('src/testing (the published test kit)', () => {
  it('imports at runtime only its own files and @intellibrowse/scheduler; vitest in types only', () => {
    const files = sourceFiles(KIT);
    expect(files.length).toBeGreaterThan(5);
    const wrong = files.flatMap((file) =>
      importsOf(file)
        .filter(({ specifier, typeOnly }) => {
          if (specifier === '@intellibrowse/scheduler') return false;
          if (specifier === 'vitest') return !typeOnly;
          if (!specifier.startsWith('.')) return true;
          return !resolve(dirname(file), specifier).startsWith(KIT);
        })
        .map(({ specifier }) => `${relative(SRC, file)} -> ${specifier}`),
    );
    expect(wrong).toEqual([]);
  });

  it('is not imported by the rest of src/', () => {
    const wrong = sourceFiles(SRC)
      .filter((file) => !file.startsWith(KIT))
      .flatMap((file) =>
        importsOf(file)
          .filter(({ specifier }) => specifier.includes('/testing') && resolve(dirname(file), specifier).startsWith(KIT))
          .map(({ specifier }) => `${relative(SRC, file)} -> ${specifier}`),
      );
    expect(wrong).toEqual([]);
  });
});
