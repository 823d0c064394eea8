/**
 * examples/webhook.ts runs end to end: signed delivery accepted, retry deduplicated, unsigned refused.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('examples/webhook.ts', () => {
  it('runs and prints the expected answers', async () => {
    const env = { ...process.env };
    delete env['SCHEDULER_WEBHOOK_SECRET'];
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/webhook.ts'], {
      cwd: root,
      env,
      timeout: 30_000,
    });
    const first = /first delivery: 202 (\{.*\})/.exec(stdout);
    const retried = /retried delivery: 202 (\{.*\})/.exec(stdout);
    expect(first).not.toBeNull();
    const jobs = (JSON.parse(first![1]!) as { jobs: Array<{ id: string; triggerId: string }> }).jobs;
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.triggerId).toBe('notify-on-testrun');
    // The retried delivery answers with the very same job: it fired once.
    expect(retried?.[1]).toBe(first![1]);
    expect(stdout).toContain('unsigned request: 401');
    expect(stdout).toMatch(/health: 200 \{"status":"ok"/);
    expect(stdout.match(/fired with/g)).toHaveLength(1);
  });
});
