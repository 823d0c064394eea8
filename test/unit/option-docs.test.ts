/**
 * Options are documented where they are typed: every optional property of every exported options
 * or input type of the public entry points carries a `@default` tag (an editor shows it on hover,
 * and the bundled `.d.ts` keeps it). The second half checks that a sample of those tags says what
 * the code really resolves: a wrong `@default` is worse than none.
 *
 * The entry points are read from `tsup.config.ts`, so a new entry's options are checked too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, Scheduler } from '../../src/index.js';
import { resolveOptions } from '../../src/engine/options.js';
import { normalizeRetry, normalizeSchedule, normalizeWindow } from '../../src/schedule/index.js';
import { pageLimit } from '../../src/stores/cursor.js';
import { DEFAULT_COLLECTION_PREFIX } from '../../src/stores/mongo/documents.js';
import { DEFAULT_PENDING_HINT_MAX_AGE_MS } from '../../src/stores/mongo/pending-hints.js';
import { DEFAULT_CLOCK_TOLERANCE_SEC, DEFAULT_MAX_BODY_BYTES, DEFAULT_SCOPES } from '../../src/webhook/index.js';
import { DEFAULT_BODY_TIMEOUT_MS } from '../../src/http/body.js';
import { resolveHttpOptions } from '../../src/http/options.js';
import { DEFAULT_MANAGEMENT_SCOPES } from '../../src/management/handler.js';
import { DEFAULT_DASHBOARD_TITLE } from '../../src/dashboard/handler.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Exported types whose optional properties are not options, so have no default to state: ports
 * (an optional method is a capability a backend may lack), records, answers and their write
 * shapes (an absent field is absent), and a patch (an absent field is left as it is; `TriggerPatch` shows
 * `TriggerInput`'s tags, as it is derived from it).
 */
const NOT_OPTIONS = new Set([
  'TriggerStore',
  'JobStore',
  'LockManager',
  'JobRunner',
  'WebhookLogger',
  'ExpiredLeaseFilter',
  'RunRequest',
  'JobPatch',
  'JobCondition',
  'JobWrite',
  'JobErrorInfo',
  'JobDocument',
  'TriggerPatch',
  'ManagementErrorBody',
  'RunOutcome',
]);

/** The library's entry files: `src/index.ts` and every other `src/` entry named in tsup.config.ts. */
function entryFiles(): string[] {
  const config = readFileSync(join(ROOT, 'tsup.config.ts'), 'utf8');
  const named = [...config.matchAll(/'(src\/[^']+\.ts)'/g)].map((m) => m[1]!);
  // The worker thread's entry and the CLI export no types a user writes options for.
  const entries = new Set(['src/index.ts', ...named.filter((f) => !/worker-entry|cli\//.test(f))]);
  return [...entries].map((f) => join(ROOT, f)).filter((f) => existsSync(f));
}

interface OptionDoc {
  /** `Type.prop` or `Type.prop.nested`. */
  path: string;
  /** The `@default` tag's text, or `null` when it has none. */
  defaultText: string | null;
}

/** Every optional property of every exported options type, with its `@default` text. */
function collectOptionDocs(): OptionDoc[] {
  const files = entryFiles();
  const options = ts.parseJsonConfigFileContent(ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path)).config, ts.sys, ROOT).options;
  const program = ts.createProgram(files, { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const docs = new Map<string, OptionDoc>();
  const visit = (type: ts.Type, path: string, depth: number): void => {
    // An auth union's kinds, one by one: `{ jwt; hmac?: never }` says "not with the other kind".
    if (type.isUnion()) {
      for (const member of type.types) visit(member, path, depth);
      return;
    }
    for (const prop of checker.getPropertiesOfType(type)) {
      const decl = prop.valueDeclaration ?? prop.declarations?.[0];
      if (!decl) continue;
      const propType = checker.getTypeOfSymbolAtLocation(prop, decl);
      const own = checker.getNonNullableType(propType);
      if (own.flags & ts.TypeFlags.Never) continue;
      const name = `${path}.${prop.getName()}`;
      if (prop.flags & ts.SymbolFlags.Optional) {
        const tag = prop.getJsDocTags(checker).find((t) => t.name === 'default');
        docs.set(name, { path: name, defaultText: tag ? ts.displayPartsToString(tag.text).trim() : null });
      }
      // An options object written inline (`defaults: { retry?, ... }`) has options of its own.
      const typeNode = ts.isPropertySignature(decl) ? decl.type : undefined;
      if (depth < 2 && typeNode && ts.isTypeLiteralNode(typeNode)) visit(own, name, depth + 1);
    }
  };
  // Options written inline in a parameter (`runTrigger(id, { payload?, runId? })`).
  const visitParameters = (fn: ts.SignatureDeclaration, path: string): void => {
    for (const param of fn.parameters) {
      if (param.type && ts.isTypeLiteralNode(param.type) && ts.isIdentifier(param.name)) {
        visit(checker.getTypeFromTypeNode(param.type), `${path}(${param.name.text})`, 1);
      }
    }
  };
  for (const file of files) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(file)!);
    if (!module) continue;
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (NOT_OPTIONS.has(symbol.getName())) continue;
      for (const decl of symbol.declarations ?? []) {
        if (ts.isFunctionDeclaration(decl)) visitParameters(decl, symbol.getName());
        // A class implementing a port takes the port's arguments (ports are not options above),
        // and an error's `{ cause }` is the standard `ErrorOptions`.
        const implementsPort = (c: ts.ClassDeclaration): boolean =>
          c.heritageClauses?.some((h) => h.types.some((t) => NOT_OPTIONS.has(t.expression.getText()))) ?? false;
        if (ts.isClassDeclaration(decl) && !implementsPort(decl) && !symbol.getName().endsWith('Error')) {
          for (const member of decl.members) {
            if (!ts.isMethodDeclaration(member) && !ts.isConstructorDeclaration(member)) continue;
            if (ts.getCombinedModifierFlags(member) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
            if (ts.isMethodDeclaration(member) && !ts.isIdentifier(member.name)) continue;
            visitParameters(member, `${symbol.getName()}.${ts.isMethodDeclaration(member) ? member.name.getText() : 'constructor'}`);
          }
        }
      }
      if (!(symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias))) continue;
      visit(checker.getDeclaredTypeOfSymbol(symbol), symbol.getName(), 0);
    }
  }
  return [...docs.values()];
}

/**
 * A `@default` text as a value: `10`, `'UTC'`, `[]`, `{ attempts: 1 }`, a trailing `(why)`
 * dropped. Written as JavaScript literals, read as JSON once its quotes and keys are JSON's.
 */
function valueOf(text: string): unknown {
  const json = text
    .replace(/\s+\([^()]*\)$/, '')
    .replace(/'([^']*)'/g, (_, inner: string) => JSON.stringify(inner))
    .replace(/([{,]\s*)([A-Za-z_$][\w$]*)\s*:/g, '$1"$2":');
  return JSON.parse(json) as unknown;
}

describe('@default on every public option', () => {
  let docs: OptionDoc[] = [];
  const byPath = (path: string): string => {
    const doc = docs.find((d) => d.path === path);
    if (!doc?.defaultText) throw new Error(`${path}: no @default`);
    return doc.defaultText;
  };
  beforeAll(() => {
    docs = collectOptionDocs();
  }, 120_000);

  it('finds the options it checks (the walk is not blind)', () => {
    const paths = docs.map((d) => d.path);
    for (const path of ['SchedulerOptions.concurrency', 'SchedulerOptions.defaults.retry', 'TriggerInput.misfire', 'CronSchedule.timezone', 'WorkerPoolJobRunnerOptions.maxThreads', 'Scheduler.runTrigger(options).runId', 'nextFireTimes(options).count']) {
      expect(paths).toContain(path);
    }
    expect(docs.length).toBeGreaterThan(150);
  });

  it('has a @default on every optional property of an exported options type', () => {
    expect(docs.filter((d) => !d.defaultText).map((d) => d.path)).toEqual([]);
  });

  it('states the scheduler defaults that resolveOptions applies', () => {
    const o = resolveOptions({});
    expect(valueOf(byPath('SchedulerOptions.concurrency'))).toBe(o.concurrency);
    expect(valueOf(byPath('SchedulerOptions.pollIntervalMs'))).toBe(o.pollIntervalMs);
    expect(valueOf(byPath('SchedulerOptions.pollBatchSize'))).toBe(o.pollBatchSize);
    expect(valueOf(byPath('SchedulerOptions.leaseMs'))).toBe(o.leaseMs);
    expect(valueOf(byPath('SchedulerOptions.misfireGraceMs'))).toBe(o.misfireGraceMs);
    expect(valueOf(byPath('SchedulerOptions.maxMisfireRuns'))).toBe(o.maxMisfireRuns);
    expect(valueOf(byPath('SchedulerOptions.jobRetentionDays'))).toBe(o.jobRetentionMs / 86_400_000);
    expect(valueOf(byPath('SchedulerOptions.clockSkewToleranceMs'))).toBe(o.clockSkewToleranceMs);
    expect(valueOf(byPath('SchedulerOptions.keepAlive'))).toBe(o.keepAlive);
    expect(valueOf(byPath('SchedulerOptions.ownership'))).toBe(o.ownership);
    expect(valueOf(byPath('SchedulerOptions.remoteHandlers'))).toEqual([...(o.remoteHandlers as ReadonlySet<string>)]);
    expect(valueOf(byPath('SchedulerOptions.defaults.retry'))).toEqual(o.defaultRetry);
    expect(valueOf(byPath('SchedulerOptions.defaults.maxStalls'))).toBe(o.defaultMaxStalls);
    // The computed ones, as their text says, at the defaults.
    expect(byPath('SchedulerOptions.leadMs')).toMatch(/^250\b/);
    expect(o.leadMs).toBe(250);
    expect(o.lookaheadMs).toBe(Math.max(5000, o.pollIntervalMs));
    expect(o.leaseGraceMs).toBe(Math.max(1000, o.leaseMs / 2));
    expect(o.takeoverMs).toBe(2 * o.pollIntervalMs);
  });

  it('states the trigger defaults that addTrigger applies', async () => {
    const scheduler = new Scheduler({ clock: new ManualClock(new Date('2026-01-05T00:00:00Z')), keepAlive: false });
    scheduler.register('h', () => undefined);
    const t = await scheduler.addTrigger({ handler: 'h', schedule: { cron: '0 * * * *' } });
    expect(valueOf(byPath('TriggerInput.misfire'))).toBe(t.misfire);
    expect(valueOf(byPath('TriggerInput.overlap'))).toBe(t.overlap);
    expect(valueOf(byPath('TriggerInput.priority'))).toBe(t.priority);
    expect(valueOf(byPath('TriggerInput.jitterMs'))).toBe(t.jitterMs);
    expect(valueOf(byPath('TriggerInput.payload'))).toBe(t.payload);
    expect(valueOf(byPath('TriggerInput.tags'))).toEqual(t.tags);
    expect(valueOf(byPath('TriggerInput.alertAfterMs'))).toBe(t.alertAfterMs);
    expect(valueOf(byPath('TriggerInput.paused'))).toBe(t.status === 'paused');
    expect(t.schedule).toMatchObject({ timezone: valueOf(byPath('CronSchedule.timezone')) });
  });

  it('states the schedule, retry, window and page defaults', () => {
    const now = new Date('2026-01-05T00:00:00Z');
    expect(normalizeSchedule({ after: 'x' }, now)).toMatchObject({ on: valueOf(byPath('AfterSchedule.on')) });
    expect(normalizeSchedule({ event: 'e' }, now)).toMatchObject({ filter: valueOf(byPath('EventSchedule.filter')) });
    expect(normalizeRetry({ attempts: 2 }).backoff).toEqual(valueOf(byPath('RetryPolicy.backoff')));
    expect(normalizeRetry({ attempts: 2, backoff: { type: 'fixed', delayMs: 5 } }).backoff?.jitter).toBe(valueOf(byPath('BackoffPolicy.jitter')));
    expect(normalizeWindow({}, 'UTC').between).toBeNull();
    expect(normalizeWindow({}, 'UTC').days).toHaveLength(7);
    expect(pageLimit(undefined)).toBe(valueOf(byPath('TriggerQuery.limit')));
    expect(pageLimit(undefined)).toBe(valueOf(byPath('JobQuery.limit')));
    expect(valueOf(byPath('ModuleHandler.exportName'))).toBe('default');
  });

  it('states the HTTP, MongoDB and dashboard defaults the code uses', () => {
    const http = resolveHttpOptions({ auth: { none: true } });
    expect(valueOf(byPath('WebhookOptions.basePath'))).toBe(http.basePath);
    expect(valueOf(byPath('WebhookOptions.maxBodyBytes'))).toBe(DEFAULT_MAX_BODY_BYTES);
    expect(valueOf(byPath('ManagementApiOptions.maxBodyBytes'))).toBe(http.maxBodyBytes);
    expect(valueOf(byPath('ManagementApiOptions.bodyTimeoutMs'))).toBe(DEFAULT_BODY_TIMEOUT_MS);
    expect(valueOf(byPath('WebhookJwtAuth.clockToleranceSec'))).toBe(DEFAULT_CLOCK_TOLERANCE_SEC);
    expect(valueOf(byPath('WebhookJwtAuth.scopes'))).toEqual(DEFAULT_SCOPES);
    expect(valueOf(byPath('ManagementApiOptions.scopes'))).toEqual(DEFAULT_MANAGEMENT_SCOPES);
    expect(valueOf(byPath('DashboardOptions.title'))).toBe(DEFAULT_DASHBOARD_TITLE);
    expect(valueOf(byPath('MongoBackendOptions.collectionPrefix'))).toBe(DEFAULT_COLLECTION_PREFIX);
    expect(valueOf(byPath('MongoJobStoreOptions.pendingHintMaxAgeMs'))).toBe(DEFAULT_PENDING_HINT_MAX_AGE_MS);
  });
});
