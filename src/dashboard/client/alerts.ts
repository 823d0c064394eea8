/**
 * The late and failing badges of triggers: the cluster's late and failing trigger ids from
 * `health()` (and a trigger's own `stats`), a trigger's badges in a container, and every container
 * repainted when they change.
 */
import type { HealthAnswer, TriggerDetailAnswer } from '../../management/types.js';

let late = new Set<string>();
let failing = new Set<string>();

function badge(cls: string, title: string, text: string): HTMLSpanElement {
  const node = document.createElement('span');
  node.className = `badge ${cls}`;
  node.title = title;
  node.textContent = text;
  return node;
}

/** A trigger's badges, in a container that `repaint` finds again. */
export function alertBadges(triggerId: string): HTMLSpanElement {
  const box = document.createElement('span');
  box.className = 'alerts';
  box.setAttribute('data-alerts-for', triggerId);
  if (late.has(triggerId)) box.append(' ', badge('s-late', 'its next slot has not started alertAfterMs after its time', 'late'));
  if (failing.has(triggerId)) box.append(' ', badge('s-failing', 'its latest jobs all failed', 'failing'));
  return box;
}

function repaint(): void {
  for (const box of document.querySelectorAll('.alerts[data-alerts-for]')) {
    box.replaceWith(alertBadges(box.getAttribute('data-alerts-for') ?? ''));
  }
}

/** The cluster-wide sets, from a health report (left as they are when the store did not answer). */
export function alertsFromHealth(health: HealthAnswer): void {
  if (!health.lateTriggers || !health.failingTriggers) return;
  late = new Set(health.lateTriggers.map((l) => l.triggerId));
  failing = new Set(health.failingTriggers);
  repaint();
}

/** One trigger's flags, from its stats. */
export function alertsFromStats(triggerId: string, stats: TriggerDetailAnswer['stats']): void {
  if (stats?.late) late.add(triggerId); else late.delete(triggerId);
  if (stats?.failing) failing.add(triggerId); else failing.delete(triggerId);
}
