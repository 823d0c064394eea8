/**
 * docs/architecture.md tells the truth about the code's shape: its import map is the one computed
 * from `src/` (scripts/import-map.ts; `npm run docs:imports` rewrites it), and its table of the
 * closures made in the `Scheduler` constructor has one row per closure there.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { currentBlock, DOC, importLinks, importMapBlock, SRC, withBlock } from '../../scripts/import-map.js';

describe('docs/architecture.md import map', () => {
  const links = importLinks();

  it('reads every kind of import (the parser is not blind)', () => {
    const has = (from: string, to: string, typeOnly: boolean): boolean => links.some((l) => l.from === from && l.to === to && l.typeOnly === typeOnly);
    expect(has('scheduler.ts', 'engine/timeline.ts', false)).toBe(true);
    // `import type { SchedulerEvents } from './events.js'`
    expect(has('scheduler.ts', 'events.ts', true)).toBe(true);
    // `export type * from './types.js'` and `export * from './errors.js'`
    expect(has('index.ts', 'types.ts', true)).toBe(true);
    expect(has('index.ts', 'errors.ts', false)).toBe(true);
    // `import('../stores/mongo/backend.js')` would count as well; `import type` of it does.
    expect(has('engine/options.ts', 'stores/mongo/backend.ts', true)).toBe(true);
  });

  it('is the map computed from the code (run `npm run docs:imports` to rewrite it)', () => {
    const doc = readFileSync(DOC, 'utf8');
    const fresh = importMapBlock(links);
    const block = currentBlock(doc);
    if (block !== fresh) console.log(`docs/architecture.md: the fresh import map (npm run docs:imports writes it):\n\n${fresh}\n`);
    expect(block).toBe(fresh);
  });

  it('names every link between folders, and every engine file', () => {
    const block = importMapBlock(links);
    expect(block).toMatch(/^engine\/\s+→ .*\bqueue\/.*$/m);
    expect(block).toMatch(/^scheduler\s+→ .*\btimeline\b.*$/m);
    expect(withBlock(`a\n${block}\nb`, block)).toBe(`a\n${block}\nb`);
  });
});

describe('docs/architecture.md closures', () => {
  /** The arrow functions written in the `Scheduler` constructor, not counting those inside them. */
  function constructorClosures(): number {
    const file = join(SRC, 'scheduler.ts');
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    let count = 0;
    const inCtor = (node: ts.Node): void => {
      if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
        count += 1;
        return;
      }
      ts.forEachChild(node, inCtor);
    };
    const find = (node: ts.Node): void => {
      if (ts.isClassDeclaration(node) && node.name?.text === 'Scheduler') {
        const ctor = node.members.find(ts.isConstructorDeclaration);
        if (ctor?.body) inCtor(ctor.body);
        return;
      }
      ts.forEachChild(node, find);
    };
    find(source);
    return count;
  }

  it('lists each closure made in the Scheduler constructor once', () => {
    const doc = readFileSync(DOC, 'utf8');
    const table = doc.slice(doc.indexOf('| closure | given to |'));
    const lines = table.split('\n').slice(2);
    const rows = lines.slice(0, lines.findIndex((l) => !l.startsWith('|')));
    const count = constructorClosures();
    expect(count).toBeGreaterThan(0);
    expect(rows).toHaveLength(count);
    const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen'];
    expect(doc).toMatch(new RegExp(`There are\\s+${words[count]}\\b`));
  });
});
