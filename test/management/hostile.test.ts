/**
 * The management API against a hostile page or caller: cross-site writes, DNS rebinding, prototype
 * keys, costly previews, oversized lists, long-lived streams, leaky logs and abusive bodies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createManagementApi } from '../../src/management/index.js';
import { Scheduler } from '../../src/scheduler.js';
import { cloneJson } from '../../src/util/clone.js';
import { closeAll, errorOf, send, serve } from './helpers.js';

afterEach(closeAll);

async function rig(): Promise<Scheduler> {
  const scheduler = new Scheduler({ instanceId: 'hostile' });
  scheduler.register('noop', async () => null);
  await scheduler.addTrigger({ id: 'spy', handler: 'noop', schedule: { manual: true } });
  return scheduler;
}

describe('cross-site writes and DNS rebinding (auth none)', () => {
  it('a write without Content-Type: application/json is refused even with an empty body', async () => {
    const scheduler = await rig();
    const { port } = await serve(scheduler);
    for (const headers of [{}, { 'Content-Type': 'text/plain' }, { 'Content-Type': 'application/x-www-form-urlencoded' }]) {
      const reply = await send(port, { method: 'POST', path: '/triggers/spy/pause', headers });
      expect(reply.status).toBe(415);
    }
    expect((await scheduler.getTrigger('spy'))?.status).toBe('active');
  });

  it('refuses Sec-Fetch-Site cross-site and same-site, and a foreign or null Origin', async () => {
    const scheduler = await rig();
    const http = await serve(scheduler);
    const json = { 'Content-Type': 'application/json' };
    const refused = [
      { ...json, 'Sec-Fetch-Site': 'cross-site' },
      { ...json, 'Sec-Fetch-Site': 'same-site' },
      { ...json, Origin: 'http://evil.example' },
      { ...json, Origin: `http://127.0.0.1:${http.port + 1}` },
      { ...json, Origin: 'null' },
    ];
    for (const headers of refused) {
      const reply = await send(http.port, { method: 'POST', path: '/triggers/spy/run', headers });
      expect(reply.status).toBe(403);
      expect(errorOf(reply).code).toBe('ERR_FORBIDDEN');
    }
    expect((await scheduler.listJobs({ triggerId: 'spy' })).items).toHaveLength(0);
    // The page's own origin, and a script or server that sends neither header, pass.
    const own = await send(http.port, { method: 'POST', path: '/triggers/spy/pause', headers: { ...json, Origin: `http://127.0.0.1:${http.port}`, 'Sec-Fetch-Site': 'same-origin' } });
    expect(own.status).toBe(200);
    // Behind a proxy that rewrites Host, X-Forwarded-Host names the public host.
    const proxied = await send(http.port, { method: 'POST', path: '/triggers/spy/resume', headers: { ...json, Origin: 'https://ops.example', 'X-Forwarded-Host': 'ops.example' } });
    expect(proxied.status).toBe(200);
  });

  it('answers only to loopback Host names by default with auth none; allowedHosts widens it', async () => {
    const scheduler = await rig();
    const http = await serve(scheduler);
    const rebound = await send(http.port, { path: '/jobs', headers: { Host: `rebind.example:${http.port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.text).not.toContain('items');
    for (const host of [`localhost:${http.port}`, `127.0.0.1:${http.port}`, `[::1]:${http.port}`]) {
      expect((await send(http.port, { path: '/jobs', headers: { Host: host } })).status).toBe(200);
    }
    const wide = await serve(scheduler, { auth: { none: true }, allowedHosts: ['ops.internal'] });
    expect((await send(wide.port, { path: '/jobs', headers: { Host: 'ops.internal:8080' } })).status).toBe(200);
    expect((await send(wide.port, { path: '/jobs', headers: { Host: `127.0.0.1:${wide.port}` } })).status).toBe(403);
    const any = await serve(scheduler, { auth: { none: true }, allowedHosts: 'any' });
    expect((await send(any.port, { path: '/jobs', headers: { Host: 'anything.example' } })).status).toBe(200);
  });

  it('validates allowedHosts at creation', () => {
    const scheduler = new Scheduler({ instanceId: 'hosts' });
    expect(() => createManagementApi(scheduler, { auth: { none: true }, allowedHosts: [] })).toThrow(/allowedHosts/);
    expect(() => createManagementApi(scheduler, { auth: { none: true }, allowedHosts: ['host:80'] })).toThrow(/allowedHosts\.0/);
  });
});

describe('prototype keys and unsafe names', () => {
  it('refuses __proto__, constructor, prototype, control and bidi characters as ids, handler and event names', async () => {
    const scheduler = await rig();
    for (const bad of ['__proto__', 'constructor', 'prototype', 'a\u0007b', 'a\u009bb', 'invoice\u202egnp.exe', 'x\u2066y']) {
      await expect(scheduler.addTrigger({ id: bad, handler: 'noop', schedule: { manual: true } })).rejects.toMatchObject({ field: 'id' });
      expect(() => scheduler.register(bad, async () => null)).toThrow(expect.objectContaining({ field: 'name' }));
      await expect(scheduler.publish(bad)).rejects.toMatchObject({ field: 'event' });
      await expect(scheduler.addTrigger({ id: 'ok', handler: 'noop', schedule: { event: bad } })).rejects.toMatchObject({ field: 'schedule.event' });
    }
    expect((await scheduler.listTriggers()).items.map((t) => t.id)).toEqual(['spy']);
    const http = await serve(scheduler);
    const reply = await send(http.port, { path: '/stats?triggerId=__proto__' });
    expect(reply.status).toBe(400);
    expect(errorOf(reply).field).toBe('triggerId');
  });

  it('copies keep a "__proto__" payload key as data and never change a prototype', () => {
    const payload = JSON.parse('{"__proto__":{"polluted":true},"n":1}') as Record<string, unknown>;
    const copy = cloneJson(payload as never) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({ polluted: true });
  });
});
