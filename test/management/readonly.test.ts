/**
 * `readOnly`: every write route is refused with 403 ERR_READ_ONLY and the store is unchanged;
 * every read route still answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/management/routes.js';
import { setup } from '../helpers/setup.js';
import { closeAll, errorOf, serve } from './helpers.js';

afterEach(closeAll);

function concrete(path: string, jobId: string): string {
  return path.replace(':id', path.startsWith('/jobs') ? jobId : 't');
}

describe('readOnly', () => {
  it('refuses every write route and changes nothing', async () => {
    const rig = setup();
    rig.scheduler.register('ok', () => 'done');
    await rig.scheduler.addTrigger({ id: 't', handler: 'ok', schedule: { every: '1h' } });
    const job = await rig.scheduler.runTrigger('t');
    await rig.scheduler.cancelJob(job.id);
    const http = await serve(rig.scheduler, { auth: { none: true }, readOnly: true });
    const before = {
      triggers: JSON.stringify(await rig.scheduler.listTriggers()),
      jobs: JSON.stringify(await rig.scheduler.listJobs()),
    };

    const writes = ROUTES.filter((r) => r.write);
    expect(writes.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'DELETE /triggers/:id',
      'POST /jobs/:id/cancel',
      'POST /jobs/:id/retry',
      'POST /triggers/:id/pause',
      'POST /triggers/:id/resume',
      'POST /triggers/:id/run',
    ]);
    for (const route of writes) {
      const reply = await http.call(route.method, concrete(route.path, job.id), route.method === 'POST' ? { body: {} } : {});
      expect(reply.status, `${route.method} ${route.path}`).toBe(403);
      expect(errorOf(reply).code).toBe('ERR_READ_ONLY');
    }
    expect(JSON.stringify(await rig.scheduler.listTriggers())).toBe(before.triggers);
    expect(JSON.stringify(await rig.scheduler.listJobs())).toBe(before.jobs);

    for (const route of ROUTES.filter((r) => !r.write && r.path !== '/events')) {
      const path = route.path === '/next' ? '/next?cron=0%209%20*%20*%20*' : concrete(route.path, job.id);
      const reply = await http.call(route.method, path);
      expect(reply.status, `${route.method} ${route.path}`).toBe(200);
    }
  });
});
