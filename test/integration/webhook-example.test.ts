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
    expect(stdout).toContain('first delivery: 202 {"jobs":[{"id":"job-1","triggerId":"notify-on-testrun"}]}');
    expect(stdout).toContain('retried delivery: 202 {"jobs":[{"id":"job-1","triggerId":"notify-on-testrun"}]}');
    expect(stdout).toContain('unsigned request: 401');
    expect(stdout).toContain('health: 200 {"status":"ok"}');
    expect(stdout.match(/fired with/g)).toHaveLength(1);
  });
});
