/**
 * The dashboard's browser script, bundled into one classic script (an IIFE, no modules, no
 * framework) served as `assets/dashboard.<hash>.js`; see ../assets/client-script.ts for how.
 * This entry wires the views and starts: at once, or after sign-in for `{ jwt }` dashboards.
 *
 * Rules kept throughout: record data only ever reaches the DOM as `textContent` or attribute values
 * (no HTML strings, so nothing a handler returns can inject markup); write actions are not rendered
 * at all in read-only mode; every control is a real `button`, `a`, `select` or `input` with a label.
 */
import { failed, token } from './api.js';
import { initAuth, showLogin } from './auth.js';
import { AUTH, BROWSER_ZONE, state } from './context.js';
import { $ } from './dom.js';
import { loadHealth } from './health.js';
import { connectStream, stopStream } from './live.js';
import { route } from './router.js';
import { loadTriggerIndex } from './trigger-index.js';
import { initJob } from './views/job.js';
import { initJobs } from './views/jobs.js';
import { initStats } from './views/stats.js';
import { initTrigger } from './views/trigger.js';
import { initTriggers } from './views/triggers.js';
import { zoneLabel } from './words.js';

let healthTimer: number | undefined;

/** Signed in (or no sign-in needed): stream, health every 15 s, the trigger names, then the view. */
function start(): void {
  state.started = true;
  $('jobs-zone').textContent = `Times are in your browser's zone, ${BROWSER_ZONE} (${zoneLabel(new Date().toISOString())}).`;
  $('sign-out').hidden = AUTH !== 'jwt';
  stopStream();
  connectStream(500);
  void loadHealth();
  window.clearInterval(healthTimer);
  healthTimer = window.setInterval(() => { void loadHealth(); }, 15000);
  loadTriggerIndex().then(route, failed);
}

initAuth(start);
initTriggers();
initTrigger();
initJobs(route);
initJob();
initStats();
window.addEventListener('hashchange', route);

if (AUTH === 'jwt' && !token()) showLogin(null); else start();
