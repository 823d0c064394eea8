/**
 * Browser script (vanilla ES2020, no modules): `IBAlerts`, the late and failing badges of triggers
 * (#20). It keeps the cluster's late and failing trigger ids from `health()` (and a trigger's own
 * `stats`), draws a trigger's badges in a container, and repaints every container when they change.
 * Kept apart from app.ts, which is at its size ceiling.
 *
 * Written inside `String.raw`: the text must contain no backtick and no dollar-brace pair.
 */
export const ALERTS_JS = String.raw`
var IBAlerts = (function () {
  'use strict';
  var late = new Set();
  var failing = new Set();
  function badge(cls, title, text) {
    var node = document.createElement('span');
    node.className = 'badge ' + cls;
    node.title = title;
    node.textContent = text;
    return node;
  }
  /** A trigger's badges, in a container that repaint() finds again. */
  function badges(triggerId) {
    var box = document.createElement('span');
    box.className = 'alerts';
    box.setAttribute('data-alerts-for', triggerId);
    if (late.has(triggerId)) box.append(' ', badge('s-late', 'its next slot has not started alertAfterMs after its time', 'late'));
    if (failing.has(triggerId)) box.append(' ', badge('s-failing', 'its latest jobs all failed', 'failing'));
    return box;
  }
  function repaint() {
    Array.prototype.forEach.call(document.querySelectorAll('.alerts[data-alerts-for]'), function (box) {
      box.parentNode.replaceChild(badges(box.getAttribute('data-alerts-for')), box);
    });
  }
  /** The cluster-wide sets, from a health report (left as they are when the store did not answer). */
  function fromHealth(h) {
    if (!h || !h.lateTriggers || !h.failingTriggers) return;
    late = new Set(h.lateTriggers.map(function (l) { return l.triggerId; }));
    failing = new Set(h.failingTriggers);
    repaint();
  }
  /** One trigger's flags, from its stats. */
  function fromStats(triggerId, s) {
    if (s && s.late) late.add(triggerId); else late.delete(triggerId);
    if (s && s.failing) failing.add(triggerId); else failing.delete(triggerId);
  }
  return { badges: badges, fromHealth: fromHealth, fromStats: fromStats };
})();
`;
