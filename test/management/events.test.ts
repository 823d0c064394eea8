/**
 * `GET /events`: local changes at once, changes made by a second Scheduler on the same store by
 * polling, and no timers or listeners left once the client goes.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import type { Job, Trigger } from '../../src/types.js';
import { setup, T0 } from '../helpers/setup.js';
import { eventually } from '../helpers/time.js';
import { closeAll, onClose, serve } from './helpers.js';
import { openStream } from './sse.js';

afterEach(closeAll);

function twoInstances() {
  const rig = setup();
  rig.scheduler.register('ok', () => 'done');
  // A second instance on the same stores, as a second process on one MongoDB would be.
  const other = new Scheduler({
    triggerStore: rig.triggerStore,
    jobStore: rig.jobStore,
    lockManager: rig.lockManager,
    clock: new ManualClock(T0),
    instanceId: 'other',
  });
  other.register('ok', () => 'done');
  return { rig, other };
}

describe('GET /events', () => {
  it('streams changes made by another instance sharing the store, and local ones', async () => {
    const { rig, other } = twoInstances();
    await rig.scheduler.addTrigger({ id: 't', handler: 'ok', schedule: { manual: true } });
    const http = await serve(rig.scheduler, { auth: { none: true }, eventsPollMs: 50 });
    const stream = await openStream(http.port, '/events');
    onClose(async () => stream.close());
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toContain('text/event-stream');
    // Let the first poll learn the current state.
    await new Promise((r) => setTimeout(r, 150));

    const remoteJob = await other.runTrigger('t', { payload: { from: 'other' } });
    const seenJob = await stream.waitFor((e) => e.event === 'job' && (e.data as Job).id === remoteJob.id);
    // Frames are summaries: the payload comes with GET /jobs/:id.
    expect(seenJob.data).not.toHaveProperty('payload');
    expect(seenJob.data).toMatchObject({ triggerId: 't', historyLength: 1 });

    await other.pauseTrigger('t');
    const seenTrigger = await stream.waitFor((e) => e.event === 'trigger' && (e.data as Trigger).status === 'paused');
    expect((seenTrigger.data as Trigger).id).toBe('t');

    await other.removeTrigger('t');
    await stream.waitFor((e) => e.event === 'trigger-removed' && (e.data as { id: string }).id === 't');

    // A local change arrives from the scheduler's own events, and only once despite the polls.
    await rig.scheduler.addTrigger({ id: 'local', handler: 'ok', schedule: { manual: true } });
    await stream.waitFor((e) => e.event === 'trigger' && (e.data as Trigger).id === 'local');
    await new Promise((r) => setTimeout(r, 200));
    expect(stream.events.filter((e) => e.event === 'trigger' && (e.data as Trigger).id === 'local')).toHaveLength(1);
  });

  it('filters by triggerId and sends pings', async () => {
    const { rig } = twoInstances();
    await rig.scheduler.addTrigger({ id: 'a', handler: 'ok', schedule: { manual: true } });
    await rig.scheduler.addTrigger({ id: 'b', handler: 'ok', schedule: { manual: true } });
    const http = await serve(rig.scheduler, { auth: { none: true }, eventsPollMs: 50, eventsPingMs: 50 });
    const stream = await openStream(http.port, '/events?triggerId=b');
    onClose(async () => stream.close());
    await rig.scheduler.runTrigger('a');
    const b = await rig.scheduler.runTrigger('b');
    await stream.waitFor((e) => e.event === 'job' && (e.data as Job).id === b.id);
    expect(stream.events.every((e) => (e.data as Job).triggerId === 'b')).toBe(true);
    await eventually(() => stream.raw().includes(': ping\n\n'), 2000, 'a ping');
  });

  it('stops polling and unsubscribes when the client disconnects', async () => {
    const { rig } = twoInstances();
    const listJobs = vi.spyOn(rig.scheduler, 'listJobs');
    // The rig records events through its own listeners.
    const baseline = rig.scheduler.listenerCount('job:scheduled');
    const http = await serve(rig.scheduler, { auth: { none: true }, eventsPollMs: 20 });
    const stream = await openStream(http.port, '/events');
    await eventually(() => listJobs.mock.calls.length >= 4, 2000, 'polls');
    expect(rig.scheduler.listenerCount('job:scheduled')).toBe(baseline + 1);
    stream.close();
    await eventually(() => rig.scheduler.listenerCount('job:scheduled') === baseline, 2000, 'the listener to go');
    expect(rig.scheduler.listenerCount('trigger:removed')).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    const calls = listJobs.mock.calls.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(listJobs.mock.calls.length).toBe(calls);
  });
});
