/**
 * CPU time of the database server behind `MONGODB_URI`, read from /proc (Linux, same host only), so
 * that the MongoDB benchmark can report server CPU per job. The FerretDB (or mongod) process is found
 * by `MONGODB_SERVER_PID`, the `PID=` line of `FERRETDB_STATE_FILE` (.ci/ferretdb.sh), or the process
 * listening on the URI's port; FerretDB's PostgreSQL (postgresql handler) by `POSTGRES_STATE_FILE`
 * (.ci/postgres.sh) or the port of the `--postgresql-url` on FerretDB's command line. PostgreSQL runs
 * one process per connection: its CPU is the postmaster's, its live children's, and the children's
 * that have exited (the postmaster's cutime + cstime). Anything not found reads as null ("n/a").
 * Benchmarks only.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const HZ = 100;

/** One reading: CPU ms of each server part found, and their sum (null when none was found). */
export interface ServerCpuSample {
  ferretdbMs: number | null;
  postgresMs: number | null;
  totalMs: number | null;
}

/** The processes measured, for the report. */
export interface ServerProcesses {
  serverPid: number | null;
  postgresPid: number | null;
  /** How each was found (or why not). */
  how: string;
}

interface Stat {
  ppid: number;
  /** utime + stime, ticks. */
  own: number;
  /** cutime + cstime (children waited for), ticks. */
  children: number;
}

function stat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): state is field 3.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

function pidFromStateFile(file: string | undefined): number | null {
  if (!file) return null;
  try {
    const match = /^PID=(\d+)$/m.exec(readFileSync(file, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** The pid of the process listening on TCP `port` (IPv4 or IPv6), or null. */
export function pidListeningOn(port: number): number | null {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is `ADDR:PORT` in hex; state 0A is LISTEN; field 9 is the socket inode.
      if (f.length < 10 || f[3] !== '0A') continue;
      if (Number.parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return Number(entry);
      } catch {
        // The fd closed while we looked.
      }
    }
  }
  return null;
}

function localPort(uri: string): number | null {
  const match = /^[a-z+]+:\/\/(?:[^@/]*@)?(localhost|127\.0\.0\.1|\[::1\]):(\d+)/i.exec(uri);
  return match ? Number(match[2]) : null;
}

/** Finds the server's processes once; `sample()` reads their CPU time. */
export class ServerCpu {
  readonly processes: ServerProcesses;

  constructor(uri: string, env: NodeJS.ProcessEnv = process.env) {
    const how: string[] = [];
    let serverPid: number | null = null;
    const pinned = env['MONGODB_SERVER_PID'];
    if (pinned && /^\d+$/.test(pinned)) {
      serverPid = Number(pinned);
      how.push('server: MONGODB_SERVER_PID');
    } else if ((serverPid = pidFromStateFile(env['FERRETDB_STATE_FILE'])) !== null) {
      how.push('server: FERRETDB_STATE_FILE');
    } else {
      const port = localPort(uri);
      serverPid = port === null ? null : pidListeningOn(port);
      how.push(serverPid !== null ? `server: listening on port ${port}` : port === null ? 'server: not local (n/a)' : `server: no readable process on port ${port} (n/a)`);
    }
    if (serverPid !== null && stat(serverPid) === null) {
      how.push(`pid ${serverPid} not readable (n/a)`);
      serverPid = null;
    }
    let postgresPid = pidFromStateFile(env['POSTGRES_STATE_FILE']);
    if (postgresPid !== null) how.push('postgres: POSTGRES_STATE_FILE');
    else if (serverPid !== null) {
      // FerretDB's postgresql handler: the PostgreSQL URL is on its command line.
      try {
        const cmdline = readFileSync(`/proc/${serverPid}/cmdline`, 'utf8').split('\0');
        const url = cmdline.find((a) => a.startsWith('--postgresql-url='))?.slice('--postgresql-url='.length);
        const port = url ? localPort(url) : null;
        if (port !== null) {
          postgresPid = pidListeningOn(port);
          how.push(postgresPid !== null ? `postgres: listening on port ${port}` : `postgres: no readable process on port ${port} (n/a)`);
        }
      } catch {
        // Not readable: no PostgreSQL figure.
      }
    }
    this.processes = { serverPid, postgresPid, how: how.join('; ') };
  }

  /** CPU ms used so far by the server (and PostgreSQL with its backends). */
  sample(): ServerCpuSample {
    const ferretdbMs = this.#own(this.processes.serverPid);
    const postgresMs = this.#tree(this.processes.postgresPid);
    const totalMs = ferretdbMs === null && postgresMs === null ? null : (ferretdbMs ?? 0) + (postgresMs ?? 0);
    return { ferretdbMs, postgresMs, totalMs };
  }

  /** CPU ms between two samples, or null when nothing was measured. */
  static delta(a: ServerCpuSample, b: ServerCpuSample): ServerCpuSample {
    const d = (x: number | null, y: number | null): number | null => (x === null || y === null ? null : y - x);
    return { ferretdbMs: d(a.ferretdbMs, b.ferretdbMs), postgresMs: d(a.postgresMs, b.postgresMs), totalMs: d(a.totalMs, b.totalMs) };
  }

  #own(pid: number | null): number | null {
    if (pid === null) return null;
    const s = stat(pid);
    return s === null ? null : (s.own * 1000) / HZ;
  }

  /** The process, its live children and its exited (waited-for) children. */
  #tree(pid: number | null): number | null {
    if (pid === null) return null;
    const root = stat(pid);
    if (root === null) return null;
    let ticks = root.own + root.children;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === pid) continue;
      const s = stat(Number(entry));
      if (s !== null && s.ppid === pid) ticks += s.own;
    }
    return (ticks * 1000) / HZ;
  }
}
