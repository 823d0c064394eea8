/**
 * A real Prometheus (Debian's `prometheus`, installed by `.ci/run`) scrapes `GET /metrics` from a
 * cluster of two scheduler processes on one MongoDB; PromQL through its HTTP API returns the job
 * counts and a lag histogram. Then one process is killed, and the other raises `trigger:late` for
 * the trigger only the dead one could run. Prometheus runs under `timeout`, so it stops by itself
 * even if this test process dies without its teardown.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTestDb, type TestDb } from '../helpers/mongo.js';

const here = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(here, '../..');
const PROMETHEUS = process.env.PROMETHEUS_BIN ?? 'prometheus';
/** Longest Prometheus may live, whatever happens to this process. */
const PROMETHEUS_MAX_SECONDS = 240;

interface Member {
  child: ChildProcess;
  port: number;
  lines: string[];
}

const children: ChildProcess[] = [];
let prometheus: ChildProcess | null = null;
let dataDir = '';
let db: TestDb | null = null;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined> | T | null | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function startMember(instanceId: string, handlers: string, triggers: boolean): Promise<Member> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'metrics-process.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, MONGODB_URI: uri(), DB_NAME: db!.dbName, INSTANCE_ID: instanceId, HANDLERS: handlers, TRIGGERS: triggers ? '1' : '0' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
  return until(`${instanceId} to listen`, () => {
    for (const line of lines) {
      const port = (JSON.parse(line) as { port?: number }).port;
      if (port) return { child, port, lines };
    }
    if (child.exitCode !== null) throw new Error(`${instanceId} exited with ${child.exitCode}`);
    return null;
  });
}

function uri(): string {
  const value = process.env.MONGODB_URI;
  if (!value) throw new Error('MONGODB_URI is not set: start FerretDB (eval "$(bash .ci/ferretdb.sh start)")');
  return value;
}

/** A PromQL instant query's vector: [labels, value] pairs. */
async function query(port: number, promql: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as { status: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> }; error?: string };
  if (body.status !== 'success') throw new Error(`PromQL ${promql}: ${body.error}`);
  return body.data!.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

describe('Prometheus scrapes a cluster of two processes', { timeout: 180_000 }, () => {
  let promPort = 0;
  let a: Member;
  let b: Member;

  beforeAll(async () => {
    const found = spawnSync(PROMETHEUS, ['--version'], { encoding: 'utf8' });
    if (found.error || found.status !== 0) {
      throw new Error(`no prometheus binary (${PROMETHEUS}): .ci/run installs Debian's prometheus; locally: apt-get install prometheus`);
    }
    uri();
    db = await withTestDb('prometheus');
    a = await startMember('a', 'tick,only-a', true);
    b = await startMember('b', 'tick', false);
    dataDir = mkdtempSync(join(tmpdir(), 'scheduler-prometheus-'));
    promPort = await freePort();
    const config = [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: scheduler',
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${a.port}', '127.0.0.1:${b.port}']`,
      '',
    ].join('\n');
    writeFileSync(join(dataDir, 'prometheus.yml'), config);
    // `timeout` forwards SIGTERM to Prometheus, and kills it itself when the time is up.
    prometheus = spawn(
      'timeout',
      [
        String(PROMETHEUS_MAX_SECONDS),
        PROMETHEUS,
        `--config.file=${join(dataDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dataDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const started = prometheus;
    const log: string[] = [];
    createInterface({ input: started.stderr! }).on('line', (line) => log.push(line));
    await until('prometheus to be ready', async () => {
      if (started.exitCode !== null) throw new Error(`prometheus exited: ${log.slice(-5).join('\n')}`);
      return (await fetch(`http://127.0.0.1:${promPort}/-/ready`).catch(() => null))?.ok ? true : null;
    });
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    // SIGTERM, not SIGKILL: `timeout` passes it on to Prometheus (a killed `timeout` would leave it running).
    const running = prometheus;
    if (running && running.exitCode === null) {
      const exited = new Promise((done) => running.once('exit', done));
      running.kill('SIGTERM');
      await exited;
    }
    await db?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('PromQL returns the job counts of both instances and a lag histogram', async () => {
    // Both targets up.
    await until('both targets up', async () => ((await query(promPort, 'sum(up{job="scheduler"})'))[0]?.value === 2 ? true : null));
    // At least 5 ticks succeeded across the cluster, as Prometheus saw them.
    const scraped = await until('5 ticks in Prometheus', async () => {
      const v = (await query(promPort, 'sum(scheduler_jobs_total{handler="tick",outcome="succeeded"})'))[0]?.value ?? 0;
      return v >= 5 ? v : null;
    });
    const inStore = await db!.db.collection('scheduler_jobs').countDocuments({ triggerId: 'tick', status: 'succeeded' });
    // Prometheus saw a scrape from a moment ago: never more than the store holds now.
    expect(scraped).toBeLessThanOrEqual(inStore);
    // Cluster figures are the same on both instances: max, not sum, gives the store's count.
    const failedTick = await query(promPort, 'max by (trigger) (scheduler_cluster_jobs{trigger="tick",status="failed"})');
    expect(failedTick[0]?.value).toBe(0);
    const lastSuccess = await query(promPort, 'max(scheduler_trigger_last_success_timestamp_seconds{trigger="tick"})');
    expect(lastSuccess[0]!.value).toBeGreaterThan(Date.now() / 1000 - 60);
    // The lag histogram: counts in buckets, and a quantile from them.
    const lagCount = await query(promPort, 'sum(scheduler_schedule_lag_seconds_count{handler="tick"})');
    expect(lagCount[0]!.value).toBeGreaterThanOrEqual(5);
    const p99 = await until('a lag quantile', async () => {
      const r = await query(promPort, 'histogram_quantile(0.99, sum by (le) (rate(scheduler_schedule_lag_seconds_bucket{handler="tick"}[30s])))');
      return r[0] && Number.isFinite(r[0].value) ? r[0].value : null;
    });
    expect(p99).toBeGreaterThanOrEqual(0);
    expect(p99).toBeLessThan(5);
  });

  it('raises trigger:late for the trigger whose only instance was killed, and Prometheus sees it late', async () => {
    a.child.kill('SIGKILL');
    await until('trigger:late on b', () => (b.lines.some((line) => line.includes('"late":"quiet"')) ? true : null), 60_000);
    const late = await until('scheduler_trigger_late in Prometheus', async () => {
      const r = await query(promPort, 'max by (trigger) (scheduler_trigger_late{trigger="quiet"})');
      return r[0]?.value === 1 ? r : null;
    });
    expect(late[0]!.metric.trigger).toBe('quiet');
    // The event's counter reaches Prometheus at the next scrape of b after the event.
    const counted = await until('scheduler_trigger_late_total in Prometheus', async () => (await query(promPort, 'sum(scheduler_trigger_late_total{handler="only-a"})'))[0]?.value, 10_000);
    expect(counted).toBe(1);
  });
});
