/**
 * Memory and load time of idle triggers (memory backend). Every phase runs in its own child
 * process (`--expose-gc`, a 6 GiB old space for the 1M phases), so heaps never mix.
 *
 * 1. Heap per idle trigger: gc, heapUsed; add 100,000 `{ every: '1h', startAt: now + 1 h }`
 *    triggers with `addTrigger` (not due within the look-ahead, so only the store holds them); gc,
 *    heapUsed; bytes / trigger. On a scheduler not started, and on a started one. Baseline: the same
 *    number of plain objects of the stored trigger's shape (same ids) in a `Map`.
 * 2. Loading 1,000,000 triggers: (a) `addTrigger` one by one (the public path) and then `start()`;
 *    (b) `MemoryTriggerStore.insert` of prebuilt records, then `new Scheduler({ triggerStore })`
 *    and `start()`. Baseline: building the same 1,000,000 plain records into a `Map`.
 *
 *   npx tsx bench/memory.ts [--n 100000] [--big 1000000]
 */
import { MemoryTriggerStore, Scheduler, type Trigger } from './pkg.js';
import { report, resultOf, runNode } from './child.js';
import { arg, banner, emitSummary, gc, hasGc, numArg, r, writeResult } from './lib.js';
import { idleTrigger } from './records.js';

const N = numArg('n', 100_000);
const BIG = numArg('big', 1_000_000);
const HOUR_MS = 3_600_000;

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

interface PerTrigger {
  mode: string;
  n: number;
  bytes: number;
  bytesPerTrigger: number;
  addMs: number;
}

async function perTrigger(mode: 'baseline' | 'not-started' | 'started'): Promise<PerTrigger> {
  if (!hasGc()) throw new Error('run with --expose-gc');
  const now = Date.now();
  const startAt = now + HOUR_MS;
  const ids: string[] = [];
  for (let i = 0; i < N; i++) ids.push(`idle-${i}`);
  if (mode === 'baseline') {
    const before = heapUsed();
    const t0 = performance.now();
    const map = new Map<string, Trigger>();
    for (const id of ids) map.set(id, idleTrigger(id, now, startAt));
    const addMs = performance.now() - t0;
    const bytes = heapUsed() - before;
    if (map.size !== N) throw new Error('lost objects');
    return { mode, n: N, bytes, bytesPerTrigger: bytes / N, addMs };
  }
  const scheduler = new Scheduler();
  scheduler.register('noop', async () => undefined);
  if (mode === 'started') await scheduler.start();
  // One trigger first, so lazily built things (cron/zone caches, handler maps) are not counted.
  await scheduler.addTrigger({ id: 'warm', handler: 'noop', schedule: { every: '1h', startAt: new Date(startAt) } });
  const before = heapUsed();
  const t0 = performance.now();
  for (const id of ids) await scheduler.addTrigger({ id, handler: 'noop', schedule: { every: '1h', startAt: new Date(startAt) } });
  const addMs = performance.now() - t0;
  const bytes = heapUsed() - before;
  const health = await scheduler.health();
  if (health.queued > 1) throw new Error(`idle triggers were queued (${health.queued}): they should not be due`);
  // Sanity: the stored record has exactly the fields the baseline objects have.
  const stored = await scheduler.getTrigger('idle-0');
  const want = Object.keys(idleTrigger('x', now, startAt)).sort().join(',');
  if (!stored || Object.keys(stored).sort().join(',') !== want) throw new Error(`baseline shape differs from the stored trigger: ${Object.keys(stored ?? {}).sort().join(',')}`);
  await scheduler.stop();
  return { mode, n: N, bytes, bytesPerTrigger: bytes / N, addMs };
}

interface Load {
  mode: string;
  n: number;
  loadMs: number;
  startMs: number;
  totalMs: number;
  heapMiB: number;
}

async function load(mode: 'baseline' | 'addTrigger' | 'store-insert'): Promise<Load> {
  const now = Date.now();
  const startAt = now + HOUR_MS;
  gc();
  if (mode === 'baseline') {
    const t0 = performance.now();
    const map = new Map<string, Trigger>();
    for (let i = 0; i < BIG; i++) {
      const id = `big-${i}`;
      map.set(id, idleTrigger(id, now, startAt));
    }
    const loadMs = performance.now() - t0;
    return { mode, n: BIG, loadMs, startMs: 0, totalMs: loadMs, heapMiB: heapUsed() / 2 ** 20 };
  }
  if (mode === 'addTrigger') {
    const scheduler = new Scheduler();
    scheduler.register('noop', async () => undefined);
    const t0 = performance.now();
    for (let i = 0; i < BIG; i++) {
      await scheduler.addTrigger({ id: `big-${i}`, handler: 'noop', schedule: { every: '1h', startAt: new Date(startAt) } });
    }
    const loadMs = performance.now() - t0;
    const t1 = performance.now();
    await scheduler.start();
    const startMs = performance.now() - t1;
    const heapMiB = heapUsed() / 2 ** 20;
    await scheduler.stop();
    return { mode, n: BIG, loadMs, startMs, totalMs: loadMs + startMs, heapMiB };
  }
  // Prebuilt records (building them is not timed: a real host would read them from somewhere).
  const records: Trigger[] = [];
  for (let i = 0; i < BIG; i++) records.push(idleTrigger(`big-${i}`, now, startAt));
  gc();
  const store = new MemoryTriggerStore();
  const t0 = performance.now();
  for (const record of records) await store.insert(record);
  const loadMs = performance.now() - t0;
  records.length = 0;
  const t1 = performance.now();
  const scheduler = new Scheduler({ triggerStore: store });
  scheduler.register('noop', async () => undefined);
  await scheduler.start();
  const startMs = performance.now() - t1;
  const heapMiB = heapUsed() / 2 ** 20;
  await scheduler.stop();
  return { mode, n: BIG, loadMs, startMs, totalMs: loadMs + startMs, heapMiB };
}

async function child(): Promise<void> {
  const phase = arg('phase');
  const mode = arg('mode');
  if (phase === 'per-trigger') report(await perTrigger(mode as 'baseline' | 'not-started' | 'started'));
  else if (phase === 'load') report(await load(mode as 'baseline' | 'addTrigger' | 'store-insert'));
  else throw new Error(`unknown phase ${phase}`);
}

async function main(): Promise<void> {
  banner(`memory: heap per idle trigger (${N}), loading ${BIG} triggers`);
  const common = ['--n', String(N), '--big', String(BIG)];
  const per: Record<string, PerTrigger> = {};
  for (const mode of ['baseline', 'not-started', 'started'] as const) {
    const out = await runNode('memory.ts', ['--child', '--phase', 'per-trigger', '--mode', mode, ...common], { echo: true });
    per[mode] = resultOf<PerTrigger>(out);
    console.log(
      `per trigger, ${mode.padEnd(12)} ${r(per[mode].bytesPerTrigger, 0).toString().padStart(6)} B/trigger  (${r(per[mode].bytes / 2 ** 20, 1)} MiB for ${N}; ${r((per[mode].addMs / N) * 1000, 2)} µs per add)`,
    );
  }
  const loads: Record<string, Load> = {};
  for (const mode of ['baseline', 'store-insert', 'addTrigger'] as const) {
    const out = await runNode('memory.ts', ['--child', '--phase', 'load', '--mode', mode, ...common], { echo: true, flags: ['--max-old-space-size=6144'] });
    loads[mode] = resultOf<Load>(out);
    const l = loads[mode];
    console.log(
      `load ${BIG}, ${mode.padEnd(12)} ${r(l.totalMs / 1000, 2).toFixed(2).padStart(6)} s  (load ${r(l.loadMs / 1000, 2)} s + start ${r(l.startMs, 0)} ms; heap ${r(l.heapMiB, 0)} MiB; ${r((l.loadMs / BIG) * 1000, 2)} µs per trigger)`,
    );
  }
  const worst = Math.max(per['not-started']!.bytesPerTrigger, per['started']!.bytesPerTrigger);
  const base = per['baseline']!.bytesPerTrigger;
  const memMet = worst <= 1024;
  const addMet = loads['addTrigger']!.totalMs <= 5000;
  const storeMet = loads['store-insert']!.totalMs <= 5000;
  console.log(`\nheap per idle trigger ${r(worst, 0)} B (target <= 1024 B: ${memMet ? 'MET' : 'MISSED'}); baseline ${r(base, 0)} B`);
  console.log(`1M via addTrigger ${r(loads['addTrigger']!.totalMs / 1000, 2)} s (target <= 5 s: ${addMet ? 'MET' : 'MISSED'}); via store insert + start ${r(loads['store-insert']!.totalMs / 1000, 2)} s (${storeMet ? 'MET' : 'MISSED'})`);
  writeResult('memory', { config: { n: N, big: BIG }, perTrigger: per, load: loads, target: { bytesPerTrigger: 1024, memMet, loadSeconds: 5, addMet, storeMet } });
  emitSummary([
    {
      bench: 'memory',
      metric: `heap per idle trigger, not started (${N / 1000}k)`,
      value: `${r(per['not-started']!.bytesPerTrigger, 0)} B`,
      baseline: `${r(base, 0)} B plain`,
      ratio: `${r(per['not-started']!.bytesPerTrigger / base, 2)}x`,
      target: '<= 1024 B',
      met: per['not-started']!.bytesPerTrigger <= 1024,
    },
    {
      bench: 'memory',
      metric: 'heap per idle trigger, started',
      value: `${r(per['started']!.bytesPerTrigger, 0)} B`,
      baseline: `${r(base, 0)} B plain`,
      ratio: `${r(per['started']!.bytesPerTrigger / base, 2)}x`,
      target: '<= 1024 B',
      met: per['started']!.bytesPerTrigger <= 1024,
    },
    {
      bench: 'memory',
      metric: `load ${BIG / 1e6}M via addTrigger + start()`,
      value: `${r(loads['addTrigger']!.totalMs / 1000, 2)} s`,
      baseline: `${r(loads['baseline']!.totalMs / 1000, 2)} s Map`,
      ratio: `${r(loads['addTrigger']!.totalMs / loads['baseline']!.totalMs, 1)}x`,
      target: '<= 5 s',
      met: addMet,
    },
    {
      bench: 'memory',
      metric: `load ${BIG / 1e6}M via store.insert + start()`,
      value: `${r(loads['store-insert']!.totalMs / 1000, 2)} s`,
      baseline: `${r(loads['baseline']!.totalMs / 1000, 2)} s Map`,
      ratio: `${r(loads['store-insert']!.totalMs / loads['baseline']!.totalMs, 1)}x`,
      target: '<= 5 s',
      met: storeMet,
    },
  ]);
}

if (arg('child') !== undefined) await child();
else await main();
