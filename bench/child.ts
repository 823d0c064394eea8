/**
 * Run a benchmark file (or one phase of it) in a child Node process, so that heaps of different
 * measurements never share a process. A child reports with one `RESULT {json}` line on stdout.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Node flags every child gets: TypeScript through tsx, and a callable `gc()`. */
export const CHILD_FLAGS = ['--import', 'tsx', '--expose-gc'];

export interface ChildOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Whether `taskset` (util-linux) can pin a child to one CPU here. */
export function canPin(): boolean {
  return spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}

/**
 * Run `node [flags] bench/<file> [...args]`, streaming its output when `echo` is set; with `core`,
 * pinned to that one CPU (`taskset -c`), garbage-collector threads included. `env` replaces the
 * child's environment (default: this process's), which is how bench/compare.ts points a run at
 * another build (`BENCH_DIST`); a benchmark's own children inherit it from there.
 */
export function runNode(
  file: string,
  args: string[] = [],
  options: { flags?: string[]; echo?: boolean; timeoutMs?: number; core?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildOutput> {
  const script = fileURLToPath(new URL(file, import.meta.url));
  const flags = [...CHILD_FLAGS, ...(options.flags ?? [])];
  const command = [process.execPath, ...flags, script, ...args];
  if (options.core !== undefined) command.unshift('taskset', '-c', String(options.core));
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    const timer = options.timeoutMs
      ? setTimeout(() => {
          stderr += `\n[killed after ${options.timeoutMs} ms]`;
          child.kill('SIGKILL');
        }, options.timeoutMs)
      : null;
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stdout += text;
      if (options.echo) {
        for (const line of text.split('\n')) {
          if (line && !line.startsWith('BENCH_SUMMARY ') && !line.startsWith('RESULT ')) process.stdout.write(`${line}\n`);
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderr += text;
      // npm's config warnings are noise; everything else (early fires!) is shown.
      if (options.echo) for (const line of text.split('\n')) if (line && !line.startsWith('npm warn')) process.stderr.write(`${line}\n`);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Parse the `RESULT {json}` line of a child. */
export function resultOf<T>(out: ChildOutput): T {
  const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`child gave no RESULT (exit ${out.code}): ${out.stderr.slice(-2000)}`);
  return JSON.parse(line.slice('RESULT '.length)) as T;
}

/** Report from inside a child. */
export function report(data: unknown): void {
  console.log(`RESULT ${JSON.stringify(data)}`);
}

/** A child started by {@link startNode}: lines in both directions while it runs. */
export interface LiveChild {
  /** Send one line to the child's stdin (ignored once it has exited). */
  send(line: string): void;
  /** Resolves when the child has exited (killed after `timeoutMs`). */
  done: Promise<ChildOutput>;
  /** SIGKILL it (no-op once exited). */
  kill(): void;
}

/**
 * Like {@link runNode}, but the child's stdin is a pipe the parent can write lines to, and every
 * stdout line is handed to `onLine` as it arrives, so a benchmark can coordinate its processes
 * (wait until all have booted, then give them a shared timeline). A child that reads stdin should
 * exit when it closes: this process is gone then.
 */
export function startNode(file: string, args: string[], onLine: (line: string) => void, options: { timeoutMs: number; env?: NodeJS.ProcessEnv }): LiveChild {
  const script = fileURLToPath(new URL(file, import.meta.url));
  const child = spawn(process.execPath, [...CHILD_FLAGS, script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
  let stdout = '';
  let stderr = '';
  let partial = '';
  let exited = false;
  const timer = setTimeout(() => {
    stderr += `\n[killed after ${options.timeoutMs} ms]`;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  child.stdout.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    stdout += chunk.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  // A write to a child that just exited fails with EPIPE: nothing to do about it.
  child.stdin.on('error', () => undefined);
  const done = new Promise<ChildOutput>((resolve) => {
    child.on('close', (code) => {
      exited = true;
      clearTimeout(timer);
      if (partial) onLine(partial);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
  return {
    send: (line) => {
      if (!exited) child.stdin.write(`${line}\n`);
    },
    done,
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
  };
}
