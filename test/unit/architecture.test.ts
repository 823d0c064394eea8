/**
 * The shape of `src/`: no import cycles (type-only imports included: a cycle of types is still a
 * knot a reader must untie), and no file over 500 lines, the size at which a module stops saying
 * one thing (see docs/architecture.md), with no exceptions. The dashboard's browser script
 * (src/dashboard/client/) is held to both like the rest.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const MAX_LINES = 500;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The `src/` files a file imports or re-exports from (relative specifiers, `.js` mapped to `.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Every cycle found by a depth-first walk, each as the chain of files that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

/** Lines as `wc -l` counts them (a final newline ends the last line, it does not start another). */
function lineCount(text: string): number {
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

describe('src/ architecture', () => {
  const files = sourceFiles(SRC);
  const graph = new Map(files.map((file) => [file, importsOf(file)]));

  it('finds the imports it checks (the parser is not blind)', () => {
    const scheduler = graph.get(join(SRC, 'scheduler.ts')) ?? [];
    expect(scheduler).toContain(join(SRC, 'engine', 'timeline.ts'));
    expect(scheduler).toContain(join(SRC, 'engine', 'slot-firer.ts'));
    expect(cycles(new Map([['a', ['b']], ['b', ['a']]]))).toEqual([['a', 'b', 'a']]);
    // The browser script's modules are walked too.
    const router = graph.get(join(SRC, 'dashboard', 'client', 'router.ts')) ?? [];
    expect(router).toContain(join(SRC, 'dashboard', 'client', 'views', 'jobs.ts'));
  });

  it('has no import cycles', () => {
    const named = cycles(graph).map((cycle) => cycle.map((file) => relative(SRC, file)).join(' -> '));
    expect(named).toEqual([]);
  });

  it(`has no file over ${MAX_LINES} lines`, () => {
    expect([lineCount('a\nb\n'), lineCount('a\nb'), lineCount('a')]).toEqual([2, 2, 1]);
    const long = files
      .map((file) => ({ file: relative(SRC, file), lines: lineCount(readFileSync(file, 'utf8')) }))
      .filter((f) => f.lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
