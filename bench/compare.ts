/**
 * `npm run bench:compare -- --base <git-ref>`: the core benchmarks on two builds of the package,
 * side by side in one run, so that a change (a refactor above all) is judged by head ÷ base on the
 * same noisy machine at the same hour, not against figures from another day.
 *
 *   npm run bench:compare -- --base main
 *   npm run bench:compare -- --base HEAD~3 --only lateness,throughput --rounds 5
 *   npm run bench:compare -- --base v0.1.0 --only worker-pool --verbose
 *
 * Options:
 *  - `--base <ref>` (required): any commit-ish `git rev-parse` takes.
 *  - `--only a,b`: benchmarks from bench/benches.ts. Default: the ones `npm run bench` runs, less
 *    `mongo` and `worker-pool` (see {@link NOT_BY_DEFAULT}).
 *  - `--rounds N` (default 3): runs per build and benchmark.
 *  - `--verbose`: stream each benchmark's own output.
 *
 * The two builds:
 *  - base: the ref's tree exported with `git archive` into a temporary directory, the repo's
 *    node_modules linked in, built by its own tsup config (`npx tsup`). The `dist/` is kept in
 *    `.bench-out/base-<sha>/` and reused by every later comparison with that commit (a commit's
 *    build never changes); delete the directory to force a rebuild.
 *  - head: the working tree, built with `npm run build` and copied to `.bench-out/head/dist`, so
 *    that a rebuild of `dist/` by someone else during the comparison cannot change what is measured.
 * The benchmark code is the working tree's for both: only the package under test differs (each
 * child gets `BENCH_DIST`, see bench/pkg.ts). A base whose API the current benchmarks do not fit
 * shows up as a crashed run.
 *
 * Order: per benchmark, rounds alternate ABBA (base, head, head, base, base, head, ...), each run
 * its own child process, so a drift of the machine (heat, another job starting) falls on both
 * builds alike. Every figure is the median over a build's runs.
 *
 * Output: per summary row (matched by benchmark + metric), the base and head medians of the cell's
 * leading figure (for a `p50 / p99` cell, the p50), head ÷ base, which way is better, and "within
 * 5 %": yes when head is at most 5 % worse than base in that direction (an improvement is a yes),
 * "-" where the direction is not known ({@link BETTER}). Printed, and written to
 * `.bench-out/compare.md` (the table) and `.bench-out/compare.json` (every run's figures too).
 *
 * With 2 cores and 3 rounds, the ratios of one comparison move by several percent on their own
 * (lateness max and cron-herd p99 by far more): a "NO" is a reason to rerun with more rounds, not a
 * verdict. As with `npm run bench`, nothing is asserted: the exit code is non-zero only when a
 * benchmark crashed (or a build failed, or the arguments are wrong). Early fires are reported loudly.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCHES, type BenchSpec } from './benches.js';
import { runNode } from './child.js';
import { OUT_DIR, arg, median, r, type SummaryRow } from './lib.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Run only when named with `--only`: `mongo` needs a server and takes minutes per run, and
 * `worker-pool` mostly measures worker threads (tinypool), not the engine a refactor changes;
 * with the default three rounds on each build, either would multiply the comparison's time.
 */
const NOT_BY_DEFAULT = new Set(['mongo', 'worker-pool']);

type Build = 'base' | 'head';
type Better = 'higher' | 'lower';

/**
 * Which way is better, by metric name (first match wins). Explicit, because neither the unit nor
 * the target says it reliably: "next-slot computations" is a bare count, a `target` is "-" on most
 * rows. A metric not listed gets "-" in the "within 5 %" column rather than a guess.
 */
const BETTER: Array<{ metric: RegExp; better: Better }> = [
  { metric: /^jobs\/s|^jobs per CPU-second|^server floor/, better: 'higher' },
  { metric: /^early fires$|lateness|^spread |^first job start/, better: 'lower' },
  { metric: /µs per fire|^per-job wall|^event-loop delay/, better: 'lower' },
  { metric: /^heap per idle trigger|^load .* via /, better: 'lower' },
  { metric: /^next-slot computations|^round trips per fired job/, better: 'lower' },
];

/** How much worse than base head may be and still count as keeping speed. */
const TOLERANCE = 0.05;

interface RunRecord {
  bench: string;
  build: Build;
  round: number;
  seconds: number;
  exitCode: number;
  ok: boolean;
}

interface Samples {
  bench: string;
  metric: string;
  unit: string;
  base: number[];
  head: number[];
}

interface CompareRow {
  bench: string;
  metric: string;
  unit: string;
  better: Better | null;
  base: number | null;
  head: number | null;
  ratio: number | null;
  within: boolean | null;
  baseRuns: number[];
  headRuns: number[];
}

function usage(message: string): never {
  console.error(`${message}\nusage: npm run bench:compare -- --base <git-ref> [--only a,b] [--rounds N] [--verbose]`);
  process.exit(2);
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/**
 * The base ref's `dist/`, from `.bench-out/base-<sha>/` when it was built before. `git archive`
 * rather than a worktree: nothing gets registered in `.git`, so a run killed mid-build leaves at
 * most a directory in the temp dir behind. The cache appears by one rename, so a killed build
 * never leaves a half-copied `dist/` that a later run would take for a good one.
 */
function baseBuild(ref: string): { sha: string; dist: string; cached: boolean } {
  let sha: string;
  try {
    sha = git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
  } catch {
    usage(`--base ${ref}: not a commit in this repository`);
  }
  const cache = join(OUT_DIR, `base-${sha}`);
  const dist = join(cache, 'dist');
  if (existsSync(join(dist, 'index.js'))) return { sha, dist, cached: true };
  rmSync(cache, { recursive: true, force: true });
  const tree = mkdtempSync(join(tmpdir(), `bench-base-${sha.slice(0, 12)}-`));
  try {
    const tar = join(tree, '.tree.tar');
    git('archive', '--format=tar', '-o', tar, sha);
    execFileSync('tar', ['-xf', tar, '-C', tree]);
    rmSync(tar);
    symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'), 'dir');
    const t0 = performance.now();
    console.log(`building base ${ref} (${sha.slice(0, 12)}) with its tsup config in ${tree} ...`);
    const build = spawnSync('npx', ['tsup'], { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] });
    if (build.status !== 0) throw new Error(`building ${ref} (${sha}) failed (exit ${build.status ?? build.signal})`);
    console.log(`  built in ${r((performance.now() - t0) / 1000, 1)} s`);
    mkdirSync(OUT_DIR, { recursive: true });
    const partial = `${cache}.partial-${process.pid}`;
    cpSync(join(tree, 'dist'), join(partial, 'dist'), { recursive: true });
    writeFileSync(join(partial, 'build.json'), JSON.stringify({ ref, sha, node: process.version, at: new Date().toISOString() }, null, 2));
    try {
      renameSync(partial, cache);
    } catch (error) {
      // Another comparison finished the same build first: keep its copy.
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(join(dist, 'index.js'))) throw error;
    }
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
  return { sha, dist, cached: false };
}

/** Build the working tree and copy its `dist/` aside (see the header: others may rebuild `dist/`). */
function headBuild(): string {
  console.log('building head (npm run build) ...');
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.status ?? build.signal})`);
  const dist = join(OUT_DIR, 'head', 'dist');
  rmSync(dist, { recursive: true, force: true });
  cpSync(join(ROOT, 'dist'), dist, { recursive: true });
  return dist;
}

/** A cell's leading figure and its unit (`"86157/s"` → 86157 "/s", `"0.75 ms"` → 0.75 "ms"), or null. */
function figureOf(cell: string): { value: number; unit: string } | null {
  const match = /^\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*(\/[A-Za-z-]+|[^\s\d(),/][^\s\d(),]*)?/i.exec(cell.replace(/(\d),(?=\d{3}\b)/g, '$1'));
  if (!match) return null;
  return { value: Number(match[1]), unit: match[2] ?? '' };
}

function betterOf(metric: string): Better | null {
  return BETTER.find((x) => x.metric.test(metric))?.better ?? null;
}

/** Whether head keeps base's figure within {@link TOLERANCE}; comparing without a division so a base of 0 works. */
function withinTolerance(better: Better, base: number, head: number): boolean {
  return better === 'higher' ? head >= base * (1 - TOLERANCE) : head <= base * (1 + TOLERANCE);
}

function show(value: number | null, unit: string): string {
  if (value === null) return '-';
  const text = Math.abs(value) >= 1000 ? value.toFixed(0) : String(Number(value.toPrecision(4)));
  if (!unit) return text;
  return unit.startsWith('/') ? `${text}${unit}` : `${text} ${unit}`;
}

const HEADER = ['benchmark', 'metric', 'better', 'base (median)', 'head (median)', 'head ÷ base', 'within 5 %'];

function cells(x: CompareRow): string[] {
  return [
    x.bench,
    x.metric,
    x.better ?? '-',
    show(x.base, x.unit),
    show(x.head, x.unit),
    x.ratio === null ? '-' : x.ratio.toFixed(3),
    x.within === null ? '-' : x.within ? 'yes' : 'NO',
  ];
}

function textTable(rows: CompareRow[]): string {
  const body = rows.map(cells);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (row: string[]): string => row.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

function markdownTable(rows: CompareRow[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`];
  for (const x of rows) out.push(`| ${cells(x).map((c, i) => (i === 6 && c === 'NO' ? '**NO**' : esc(c))).join(' | ')} |`);
  return out.join('\n');
}

function selectBenches(): BenchSpec[] {
  const only = arg('only');
  if (only === undefined) return BENCHES.filter((b) => !NOT_BY_DEFAULT.has(b.name));
  const names = only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (only === 'true' || names.length === 0 || unknown.length > 0) usage(`--only: unknown benchmark(s) ${unknown.join(', ') || '(none named)'}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  return BENCHES.filter((b) => names.includes(b.name));
}

async function main(): Promise<void> {
  const ref = arg('base');
  if (ref === undefined || ref === 'true') usage('--base <git-ref> is required');
  const roundsArg = arg('rounds') ?? '3';
  const rounds = Number(roundsArg);
  if (!Number.isInteger(rounds) || rounds < 1) usage(`--rounds must be a whole number >= 1, got ${roundsArg}`);
  const verbose = arg('verbose') !== undefined;
  const selected = selectBenches();

  const cpu = cpus();
  const headCommit = git('rev-parse', 'HEAD');
  const srcChanged = git('status', '--porcelain', '--', 'src').length > 0;
  console.log(`@intellibrowse/scheduler bench:compare — Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${r(totalmem() / 2 ** 30, 1)} GiB RAM, load ${loadavg().map((x) => r(x, 2)).join(' ')}`);
  const base = baseBuild(ref);
  console.log(`base: ${ref} = ${base.sha.slice(0, 12)}, ${base.cached ? 'cached build' : 'built now'} in ${base.dist}`);
  const headDist = headBuild();
  console.log(`head: working tree on ${headCommit.slice(0, 12)}${srcChanged ? ' with uncommitted changes in src/' : ''}, built into ${headDist}`);
  console.log(`${selected.map((b) => b.name).join(', ')}: ${rounds} round(s) per build, ABBA order\n`);

  const dists: Record<Build, string> = { base: base.dist, head: headDist };
  const samples = new Map<string, Samples>();
  const runs: RunRecord[] = [];
  const failures: string[] = [];
  const earlyFires: string[] = [];
  const started = performance.now();
  for (const bench of selected) {
    const skipped = bench.skip?.() ?? null;
    if (skipped !== null) {
      console.log(`(${bench.name}: skipped — ${skipped})`);
      continue;
    }
    for (let round = 1; round <= rounds; round++) {
      const order: Build[] = round % 2 === 1 ? ['base', 'head'] : ['head', 'base'];
      for (const build of order) {
        const t0 = performance.now();
        const out = await runNode(`${bench.name}.ts`, bench.args, {
          echo: verbose,
          timeoutMs: (bench.timeoutMinutes ?? 5) * 60_000,
          env: { ...process.env, BENCH_DIST: dists[build] },
        });
        const seconds = (performance.now() - t0) / 1000;
        const line = out.stdout.split('\n').find((l) => l.startsWith('BENCH_SUMMARY '));
        const ok = out.code === 0 && line !== undefined;
        runs.push({ bench: bench.name, build, round, seconds: r(seconds, 2), exitCode: out.code, ok });
        const label = `${bench.name.padEnd(12)} round ${round}/${rounds}  ${build}`;
        if (!ok) {
          failures.push(`${bench.name} (${build}, round ${round})`);
          console.error(`${label}  FAILED (exit ${out.code}) after ${r(seconds, 1)} s:\n${out.stderr.split('\n').filter((l) => !l.startsWith('npm warn')).slice(-20).join('\n')}`);
          continue;
        }
        console.log(`${label}  ${r(seconds, 1)} s`);
        for (const row of JSON.parse(line.slice('BENCH_SUMMARY '.length)) as SummaryRow[]) {
          if (row.metric === 'early fires' && row.value !== '0') earlyFires.push(`${row.bench} on ${build}, round ${round}: ${row.value}`);
          const figure = figureOf(row.value);
          if (figure === null) continue;
          const key = `${row.bench}\u0000${row.metric}`;
          const entry = samples.get(key) ?? { bench: row.bench, metric: row.metric, unit: figure.unit, base: [], head: [] };
          entry[build].push(figure.value);
          samples.set(key, entry);
        }
      }
    }
  }
  const totalSeconds = (performance.now() - started) / 1000;

  const rows: CompareRow[] = [...samples.values()].map((s) => {
    const b = s.base.length > 0 ? median(s.base) : null;
    const h = s.head.length > 0 ? median(s.head) : null;
    const better = betterOf(s.metric);
    return {
      bench: s.bench,
      metric: s.metric,
      unit: s.unit,
      better,
      base: b,
      head: h,
      ratio: b !== null && h !== null && b !== 0 ? h / b : null,
      within: better !== null && b !== null && h !== null ? withinTolerance(better, b, h) : null,
      baseRuns: s.base,
      headRuns: s.head,
    };
  });

  const perRun = selected
    .map((b) => ({ name: b.name, seconds: runs.filter((x) => x.bench === b.name).map((x) => x.seconds) }))
    .filter((x) => x.seconds.length > 0)
    .map((x) => `${x.name} ${r(median(x.seconds), 1)} s`);
  const title = `base ${ref} (${base.sha.slice(0, 12)}) vs head (working tree on ${headCommit.slice(0, 12)}${srcChanged ? ', src/ changed' : ''}), ${rounds} round(s) per build`;
  console.log(`\n══ Comparison (${r(totalSeconds, 0)} s) ${'═'.repeat(56)}\n${title}\n`);
  console.log(textTable(rows));
  console.log(`\nper run (median): ${perRun.join(', ') || '-'}`);
  if (earlyFires.length > 0) console.error(`\n!!! EARLY FIRES (a job started before its slot; a bug): ${earlyFires.join('; ')}`);
  if (failures.length > 0) console.error(`\n!!! runs that failed: ${failures.join(', ')}`);

  mkdirSync(OUT_DIR, { recursive: true });
  const meta = { node: process.version, cpus: cpu.length, cpuModel: cpu[0]?.model ?? null, totalMemGiB: totalmem() / 2 ** 30, at: new Date().toISOString(), totalSeconds };
  writeFileSync(
    join(OUT_DIR, 'compare.json'),
    JSON.stringify({ ...meta, base: { ref, ...base }, head: { commit: headCommit, srcChanged, dist: headDist }, rounds, tolerance: TOLERANCE, runs, rows, failures, earlyFires }, null, 2),
  );
  writeFileSync(join(OUT_DIR, 'compare.md'), `${title}\n\n${markdownTable(rows)}\n`);
  console.log(`\nresults: ${join(OUT_DIR, 'compare.json')}, table: ${join(OUT_DIR, 'compare.md')}`);
  if (failures.length > 0) process.exitCode = 1;
}

await main();
