/**
 * Summarise a V8 `.cpuprofile` (from `node --cpu-prof`): top functions by self time, and by
 * inclusive ("total") time. Usage:
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir=.bench-out/prof bench/throughput.ts --profile
 *   npx tsx bench/profile-summary.ts .bench-out/prof/<file>.cpuprofile [top=25]
 *
 * Self time is attributed per function (name + file + line), summed over all call sites.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  fn: string;
  selfMs: number;
  selfPct: number;
  totalMs: number;
  totalPct: number;
}

function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  let file = frame.url.replace(/^file:\/\//, '');
  try {
    file = relative(process.cwd(), file);
  } catch {
    // keep absolute
  }
  return `${name} ${file}:${frame.lineNumber + 1}`;
}

/** Self and inclusive time per function, sorted by self time. */
export function summarise(profile: CpuProfile): { rows: ProfileRow[]; totalMs: number } {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    totalUs += us;
    const node = byId.get(id);
    if (!node) continue;
    const key = label(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets the sample once.
    const seen = new Set<string>();
    for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) {
      const frame = byId.get(cursor);
      if (!frame) break;
      const k = label(frame.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  const rows: ProfileRow[] = [...self.entries()].map(([fn, us]) => ({
    fn,
    selfMs: us / 1000,
    selfPct: (100 * us) / totalUs,
    totalMs: (total.get(fn) ?? 0) / 1000,
    totalPct: (100 * (total.get(fn) ?? 0)) / totalUs,
  }));
  rows.sort((a, b) => b.selfMs - a.selfMs);
  return { rows, totalMs: totalUs / 1000 };
}

/** Top inclusive-time rows (excluding the root pseudo-frames). */
export function topInclusive(profile: CpuProfile, top: number): ProfileRow[] {
  const { rows } = summarise(profile);
  return rows
    .filter((r) => !/^\((root|program|idle)\)/.test(r.fn))
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, top);
}

function print(rows: ProfileRow[], heading: string): void {
  console.log(heading);
  console.log('   self ms  self %  total ms total %  function');
  for (const r of rows) {
    console.log(
      `${r.selfMs.toFixed(1).padStart(10)} ${r.selfPct.toFixed(1).padStart(6)}% ${r.totalMs.toFixed(1).padStart(9)} ${r.totalPct.toFixed(1).padStart(6)}%  ${r.fn}`,
    );
  }
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('profile-summary.ts');
if (isMain) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { rows, totalMs } = summarise(profile);
  console.log(`${file}: ${totalMs.toFixed(0)} ms sampled`);
  print(rows.slice(0, top), `\nTop ${top} by self time`);
  print(topInclusive(profile, top), `\nTop ${top} by inclusive time`);
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/** Bytes allocated per function (self) from a sampling heap profile (`HeapProfiler.stopSampling`). */
export function summariseAllocations(profile: { head: HeapNode }, top = 15): Array<{ fn: string; mib: number; pct: number }> {
  const bytes = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode): void => {
    if (node.selfSize > 0) {
      const key = label(node.callFrame);
      bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  return [...bytes.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, b]) => ({ fn, mib: b / 2 ** 20, pct: (100 * b) / total }));
}
