/**
 * One vocabulary: the job and trigger statuses are written once, in src/types.ts, and everything
 * that lists them (the status machine, validation, the CLI, the OpenAPI document) says the same.
 * A list spelled out again anywhere in src/ fails the last test here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseInvocation, USAGE, FlagError } from '../../src/cli/args.js';
import { canTransition, isFinal } from '../../src/engine/job-state.js';
import { validateJobQuery, validateTriggerQuery } from '../../src/engine/input.js';
import { OPENAPI_DOCUMENT } from '../../src/management/openapi.js';
import { TIMELINE_STATUSES } from '../../src/management/types.js';
import { FINAL_JOB_STATUSES, isFinalJobStatus, JOB_STATUSES, TRIGGER_STATUSES, type JobStatus, type TriggerStatus } from '../../src/types.js';

type Schema = { type?: string; enum?: string[]; properties?: Record<string, Schema> };
type Operation = { parameters: Array<{ name: string; description: string; schema: Schema }> };

const schemas = (OPENAPI_DOCUMENT['components'] as { schemas: Record<string, Schema> }).schemas;
const paths = OPENAPI_DOCUMENT['paths'] as Record<string, Record<string, Operation>>;

function queryParam(path: string, name: string): { description: string; schema: Schema } {
  const param = paths[path]?.['get']?.parameters.find((p) => p.name === name);
  if (!param) throw new Error(`no ${name} parameter on GET ${path}`);
  return param;
}

/** The error a call throws (fails the test when it throws nothing). */
function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('status vocabulary', () => {
  it('final statuses are job statuses, and exactly those the status machine leads nowhere from', () => {
    for (const status of FINAL_JOB_STATUSES) expect(JOB_STATUSES).toContain(status);
    for (const status of JOB_STATUSES) {
      const leadsNowhere = JOB_STATUSES.every((to) => !canTransition(status, to));
      expect(isFinal(status), status).toBe(leadsNowhere);
      expect(isFinalJobStatus(status), status).toBe(leadsNowhere);
    }
    expect(JOB_STATUSES.filter(isFinal)).toEqual([...FINAL_JOB_STATUSES]);
  });

  it('the OpenAPI enums are the lists of src/types.ts', () => {
    expect(schemas['Trigger']?.properties?.['status']?.enum).toEqual([...TRIGGER_STATUSES]);
    expect(schemas['Job']?.properties?.['status']?.enum).toEqual([...JOB_STATUSES]);
    expect(schemas['TimelineSlot']?.properties?.['status']?.enum).toEqual([...TIMELINE_STATUSES]);
    expect(TIMELINE_STATUSES.slice(0, JOB_STATUSES.length)).toEqual([...JOB_STATUSES]);
    expect(queryParam('/triggers', 'status').schema.enum).toEqual([...TRIGGER_STATUSES]);
    expect(queryParam('/jobs', 'status').description).toContain(JOB_STATUSES.join(', '));
  });

  it('the CLI offers and checks the same statuses', () => {
    expect(USAGE).toContain(`--status ${TRIGGER_STATUSES.join('|')}`);
    const env = { MONGODB_URI: 'mongodb://localhost:27017' };
    const bad = thrown(() => parseInvocation(['jobs', 'ls', '--status', 'done'], env));
    expect(bad).toBeInstanceOf(FlagError);
    expect(bad.message).toContain(JOB_STATUSES.join(', '));
    expect(thrown(() => parseInvocation(['triggers', 'ls', '--status', 'done'], env)).message).toContain(TRIGGER_STATUSES.join(', '));
    for (const status of TRIGGER_STATUSES) {
      const parsed = parseInvocation(['triggers', 'ls', '--status', status], env);
      expect('command' in parsed && parsed.command).toMatchObject({ status });
    }
    const all = parseInvocation(['jobs', 'ls', '--status', JOB_STATUSES.join(',')], env);
    expect('command' in all && all.command).toMatchObject({ status: [...JOB_STATUSES] });
  });

  it('list queries take every status and name them all when refusing one', () => {
    for (const status of TRIGGER_STATUSES) expect(validateTriggerQuery({ status }).status).toBe(status);
    expect(validateJobQuery({ status: [...JOB_STATUSES] }).status).toEqual([...JOB_STATUSES]);
    expect(thrown(() => validateTriggerQuery({ status: 'done' as TriggerStatus })).message).toBe(`status: must be one of ${TRIGGER_STATUSES.join(', ')}`);
    expect(thrown(() => validateJobQuery({ status: 'done' as JobStatus })).message).toBe(`status: must be one of ${JOB_STATUSES.join(', ')}`);
  });

  it('no file in src/ spells out a list of statuses again', () => {
    const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
    const files = (function walk(dir: string): string[] {
      return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    })(SRC);
    // A whole vocabulary (or all of the final statuses) in one literal list is a copy; a subset
    // (the status machine's table, the statuses a gauge reports) says something of its own.
    const vocabularies: ReadonlyArray<readonly string[]> = [JOB_STATUSES, FINAL_JOB_STATUSES, TRIGGER_STATUSES];
    const words = new Set<string>([...JOB_STATUSES, ...TRIGGER_STATUSES]);
    const found: string[] = [];
    for (const file of files) {
      const name = relative(SRC, file);
      // The lists' one home.
      if (name === 'types.ts') continue;
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/\[([^[\]]*)\]/g)) {
        const listed = new Set([...match[1]!.matchAll(/'([a-z]+)'/g)].map((m) => m[1]!).filter((w) => words.has(w)));
        if (vocabularies.some((list) => list.every((w) => listed.has(w)))) found.push(`${name}: ${match[0].slice(0, 80)}`);
      }
    }
    expect(found).toEqual([]);
  });
});
