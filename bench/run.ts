/**
 * `npm run bench`: every core benchmark in sequence, each in its own child process
 * (`node --import tsx --expose-gc bench/<name>.ts`), then one summary table. Each benchmark writes
 * `.bench-out/<name>.json`; the table also goes to `.bench-out/summary.json` and `summary.md`.
 *
 * It builds `dist/` first: the benchmarks measure the package as published (bench/pkg.ts).
 *
 * These are measurements, not tests: a missed target is reported, never asserted. The exit code is
 * non-zero only when a benchmark crashes or a job fires before its slot.
 *
 *   npm run bench                         # all (about 3.5 minutes on 2 cores)
 *   npm run bench -- --only lateness,scale
 *
 * `mongo` (the MongoDB backend against Agenda, ~3 more minutes) runs only when `MONGODB_URI` is set;
 * without it, it is skipped and the run says so.
 */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BENCHES } from './benches.js';
import { runNode } from './child.js';
import { OUT_DIR, arg, r, type SummaryRow } from './lib.js';

function table(rows: SummaryRow[]): string {
  const header = ['benchmark', 'metric', 'scheduler', 'baseline (same run)', 'ratio', 'target', 'met'];
  const body = rows.map((x) => [x.bench, x.metric, x.value, x.baseline, x.ratio, x.target, x.met === null ? '-' : x.met ? 'yes' : 'NO']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

function markdown(rows: SummaryRow[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const out = ['| benchmark | metric | scheduler | baseline (same run) | ratio | target | met |', '|---|---|---|---|---|---|---|'];
  for (const x of rows) {
    out.push(`| ${[x.bench, x.metric, x.value, x.baseline, x.ratio, x.target, x.met === null ? '-' : x.met ? 'yes' : '**no**'].map(esc).join(' | ')} |`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const only = arg('only')?.split(',');
  const selected = only ? BENCHES.filter((b) => only.includes(b.name)) : BENCHES;
  const cpu = cpus();
  console.log(`@intellibrowse/scheduler benchmarks — Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${r(totalmem() / 2 ** 30, 1)} GiB RAM`);
  // The benchmarks measure the built package (see bench/pkg.ts): build it from the sources first.
  console.log('building dist/ (npm run build) ...');
  const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.status})`);
  const started = performance.now();
  const rows: SummaryRow[] = [];
  const failures: string[] = [];
  const durations: Record<string, number> = {};
  for (const bench of selected) {
    const skipped = bench.skip?.() ?? null;
    if (skipped !== null) {
      console.log(`\n(${bench.name}: skipped — ${skipped})`);
      continue;
    }
    const t0 = performance.now();
    const out = await runNode(`${bench.name}.ts`, [...bench.args, ...(bench.diagnosticArgs ?? [])], { echo: true, timeoutMs: (bench.timeoutMinutes ?? 5) * 60_000 });
    durations[bench.name] = (performance.now() - t0) / 1000;
    const line = out.stdout.split('\n').find((l) => l.startsWith('BENCH_SUMMARY '));
    if (out.code !== 0 || !line) {
      failures.push(bench.name);
      console.error(`\n${bench.name} FAILED (exit ${out.code}):\n${out.stderr.split('\n').filter((l) => !l.startsWith('npm warn')).slice(-30).join('\n')}`);
      continue;
    }
    rows.push(...(JSON.parse(line.slice('BENCH_SUMMARY '.length)) as SummaryRow[]));
    console.log(`(${bench.name}: ${r(durations[bench.name]!, 1)} s)`);
  }
  const totalS = (performance.now() - started) / 1000;
  console.log(`\n══ Summary (${r(totalS, 0)} s) ${'═'.repeat(60)}\n`);
  console.log(table(rows));
  const early = rows.filter((x) => x.metric === 'early fires' && x.value !== '0');
  if (early.length > 0) console.error(`\n!!! EARLY FIRES in ${early.map((x) => x.bench).join(', ')}: a job started before its slot. This is a bug.`);
  if (failures.length > 0) console.error(`\n!!! benchmarks that failed: ${failures.join(', ')}`);
  mkdirSync(OUT_DIR, { recursive: true });
  const meta = { node: process.version, cpus: cpu.length, cpuModel: cpu[0]?.model ?? null, totalMemGiB: totalmem() / 2 ** 30, at: new Date().toISOString(), totalSeconds: totalS, durations };
  writeFileSync(join(OUT_DIR, 'summary.json'), JSON.stringify({ ...meta, rows, failures }, null, 2));
  writeFileSync(join(OUT_DIR, 'summary.md'), `${markdown(rows)}\n`);
  console.log(`\nresults: ${OUT_DIR}/*.json, table: ${join(OUT_DIR, 'summary.md')}`);
  if (failures.length > 0 || early.length > 0) process.exitCode = 1;
}

await main();
