/**
 * The health badge of the top bar: the serving instance's status, the size of the cluster, work no
 * live instance can run, and the late and failing triggers (alerts.ts); read every 15 s.
 */
import type { HealthAnswer } from '../../management/types.js';
import { alertsFromHealth } from './alerts.js';
import { ApiError, api, failed } from './api.js';
import { $ } from './dom.js';

/** Read `health` and show it; a failure is shown in the badge (a 401 asks for a token). */
export async function loadHealth(): Promise<void> {
  try {
    const h = await api<HealthAnswer>('GET', 'health');
    const node = $('health');
    node.hidden = false;
    node.className = `badge s-${h.status === 'ok' ? 'succeeded' : h.status === 'degraded' ? 'missed' : 'skipped'}`;
    node.textContent = `${h.instanceId}: ${h.status}${h.members > 1 ? ` · ${h.members} instances` : ''}`;
    // Work no live instance can run (health().unhandled): name the handlers, or it waits unseen.
    const unhandled = h.unhandled ?? [];
    if (unhandled.length > 0) {
      node.className = 'badge s-missed';
      node.textContent += ` · no live instance runs ${unhandled.map((u) => `${u.handler} (${u.pendingJobs} pending, ${u.activeTriggers} active triggers)`).join(', ')}`;
    }
    alertsFromHealth(h);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) { failed(err); return; }
    // Shown, not thrown: the rest of the page may still work (a store that does not answer).
    const node = $('health');
    node.hidden = false;
    node.className = 'badge s-failed';
    node.textContent = `health: ${(err instanceof Error && err.message) || 'unreachable'}`;
  }
}
