/**
 * The page's HTML: the static shell of every view. The script fills it through the DOM
 * (`textContent`, `createElement`), never through HTML strings, so no record can inject markup.
 * Configuration reaches the script through `data-*` attributes, since the Content-Security-Policy
 * forbids inline scripts.
 */

/** What the page shell needs to know. */
export interface PageConfig {
  /** Document title and heading; escaped here. */
  title: string;
  /** File names of the assets, relative to the page (they carry a content hash). */
  scriptFile: string;
  styleFile: string;
  iconFile: string;
  /** How the API authenticates: `jwt` makes the page ask for a bearer token. */
  auth: 'none' | 'jwt';
  /** Whether write actions are hidden. */
  readOnly: boolean;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escape text for an HTML text node or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** The small clock-and-check mark of the brand and the favicon. */
export const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f5bd3"/>' +
  '<circle cx="16" cy="16" r="9" fill="none" stroke="#fff" stroke-width="2.5"/>' +
  '<path d="M16 10.5V16l3.5 2.5" fill="none" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/></svg>';

/** The HTML document for `config`. */
export function renderPage(config: PageConfig): string {
  const title = escapeHtml(config.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="icon" href="assets/${escapeHtml(config.iconFile)}" type="image/svg+xml">
<link rel="stylesheet" href="assets/${escapeHtml(config.styleFile)}">
<script src="assets/${escapeHtml(config.scriptFile)}" defer></script>
</head>
<body data-auth="${config.auth}" data-read-only="${config.readOnly ? 'true' : 'false'}">
<a class="skip-link" href="#main">Skip to content</a>
<header class="topbar">
  <div class="brand">${ICON_SVG.replace('<svg ', '<svg aria-hidden="true" focusable="false" ')}<span>${title}</span></div>
  <nav class="tabs" aria-label="Views">
    <a href="#/triggers" data-tab="triggers">Triggers</a>
    <a href="#/jobs" data-tab="jobs">Jobs</a>
    <a href="#/stats" data-tab="stats">Stats</a>
  </nav>
  <div class="spacer"></div>
  ${config.readOnly ? '<span class="mode" title="Write actions are turned off">Read-only</span>' : ''}
  <span id="health" class="badge" title="Health of the instance serving this page" hidden></span>
  <span id="live" class="live" data-state="idle">Connecting…</span>
  <button type="button" id="sign-out" hidden>Sign out</button>
</header>
<main id="main" tabindex="-1">
  <section id="view-login" class="login" hidden aria-labelledby="login-title">
    <div class="panel">
      <h1 id="login-title">Sign in</h1>
      <p class="subtitle">This dashboard needs a bearer token (a JWT with the <code>scheduler:read</code> scope; <code>scheduler:write</code> for actions). It is kept in this tab's session storage only.</p>
      <form id="login-form">
        <label class="field" for="token-input">Bearer token</label>
        <textarea id="token-input" name="token" required autocomplete="off" spellcheck="false"></textarea>
        <p id="login-error" class="error-box" role="alert" hidden></p>
        <p><button type="submit" class="primary">Sign in</button></p>
      </form>
    </div>
  </section>

  <section id="view-triggers" hidden aria-labelledby="triggers-title">
    <div class="view-head">
      <div><h1 id="triggers-title">Triggers</h1><p class="subtitle">What is scheduled, when it runs next and when it last ran. Times are in each trigger's own zone (your browser's where it has none).</p></div>
      <div class="toolbar">
        <label class="field" for="trigger-status-filter">Status
          <select id="trigger-status-filter">
            <option value="">All</option><option value="active">Active</option>
            <option value="paused">Paused</option><option value="completed">Completed</option>
          </select>
        </label>
        <button type="button" id="triggers-refresh">Refresh</button>
      </div>
    </div>
    <div class="panel flush">
      <table id="triggers-table">
        <caption class="sr-only">Triggers</caption>
        <thead><tr><th scope="col">Trigger</th><th scope="col">Schedule</th><th scope="col">Zone</th><th scope="col">Next run</th><th scope="col">Last run</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p><button type="button" id="triggers-more" hidden>Load more</button></p>
  </section>

  <section id="view-trigger" hidden aria-labelledby="trigger-title">
    <div class="view-head">
      <div><p class="subtitle"><a href="#/triggers">← Triggers</a></p><h1 id="trigger-title">Trigger</h1><p class="subtitle" id="trigger-schedule"></p></div>
      <div class="toolbar" id="trigger-actions"></div>
    </div>
    <div class="cards" id="trigger-cards"></div>
    <div class="panel">
      <div class="view-head">
        <h2 id="timeline-title">Run timeline</h2>
        <div class="toolbar">
        <label class="check" for="timeline-fit"><input type="checkbox" id="timeline-fit" checked> Zoom to slots</label>
        <label class="field" for="timeline-range">Range
          <select id="timeline-range">
            <option value="3600000">Last hour</option><option value="21600000">Last 6 hours</option>
            <option value="86400000" selected>Last 24 hours</option><option value="604800000">Last 7 days</option>
          </select>
        </label>
        </div>
      </div>
      <div class="timeline" id="timeline" role="img" aria-labelledby="timeline-title"></div>
      <ul class="legend" id="timeline-legend" aria-label="Legend"></ul>
    </div>
    <div class="grid2">
      <div class="panel flush">
        <table id="timeline-table">
          <caption class="sr-only">Slots of the timeline</caption>
          <thead><tr><th scope="col">Slot</th><th scope="col">Outcome</th><th scope="col">Why</th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
      <div class="panel">
        <h2>Next fire times</h2>
        <ol id="trigger-next" class="mono"></ol>
        <h2>Definition</h2>
        <dl class="props" id="trigger-props"></dl>
      </div>
    </div>
  </section>

  <section id="view-jobs" hidden aria-labelledby="jobs-title">
    <div class="view-head">
      <div><h1 id="jobs-title">Jobs</h1><p class="subtitle">Every run, newest first. New and changed jobs appear live. <span id="jobs-zone"></span></p></div>
    </div>
    <div class="panel">
      <form id="jobs-filters" class="filters">
        <label class="field" for="jobs-status">Status
          <select id="jobs-status" name="status">
            <option value="">All</option><option value="pending">Pending</option><option value="running">Running</option>
            <option value="succeeded">Succeeded</option><option value="failed">Failed</option>
            <option value="cancelled">Cancelled</option><option value="skipped">Skipped</option>
          </select>
        </label>
        <label class="field" for="jobs-trigger">Trigger
          <select id="jobs-trigger" name="triggerId"><option value="">All</option></select>
        </label>
        <label class="field" for="jobs-from">Scheduled from<input type="datetime-local" id="jobs-from" name="from"></label>
        <label class="field" for="jobs-to">Scheduled before<input type="datetime-local" id="jobs-to" name="to"></label>
        <button type="submit" class="primary">Apply</button>
        <button type="reset">Clear</button>
      </form>
    </div>
    <div class="panel flush">
      <table id="jobs-table">
        <caption class="sr-only">Jobs</caption>
        <thead><tr><th scope="col">Job</th><th scope="col">Trigger</th><th scope="col">Status</th><th scope="col">Scheduled for</th><th scope="col">Started</th><th scope="col" class="num">Duration</th><th scope="col" class="num">Attempts</th><th scope="col">Instance</th><th scope="col">Actions</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p><button type="button" id="jobs-more" hidden>Load more</button></p>
  </section>

  <section id="view-job" hidden aria-labelledby="job-title">
    <div class="view-head">
      <div><p class="subtitle"><a href="#/jobs">← Jobs</a></p><h1 id="job-title">Job</h1><p class="subtitle" id="job-subtitle"></p></div>
      <div class="toolbar" id="job-actions"></div>
    </div>
    <div id="job-missing" class="panel missing" role="status" hidden></div>
    <div id="job-error" class="error-box" hidden></div>
    <div id="job-body" hidden>
    <div class="cards" id="job-metrics"></div>
    <div class="grid2">
      <div class="panel"><h2>History</h2><ol class="history" id="job-history"></ol></div>
      <div class="panel"><h2>Details</h2><dl class="props" id="job-props"></dl></div>
    </div>
    <div class="grid2">
      <div class="panel"><h2>Payload</h2><pre class="json" id="job-payload"></pre></div>
      <div class="panel"><h2>Result</h2><pre class="json" id="job-result"></pre></div>
    </div>
    </div>
  </section>

  <section id="view-stats" hidden aria-labelledby="stats-title">
    <div class="view-head">
      <div><h1 id="stats-title">Stats</h1><p class="subtitle">Jobs in the store, across every instance.</p></div>
      <button type="button" id="stats-refresh">Refresh</button>
    </div>
    <div class="cards" id="stats-cards"></div>
    <div class="grid2">
      <div class="panel chart"><h2 id="chart-status-title">Jobs per status</h2><div id="chart-status" role="img" aria-labelledby="chart-status-title"></div></div>
      <div class="panel chart"><h2 id="chart-outcome-title">Outcomes per trigger</h2><div id="chart-outcome" role="img" aria-labelledby="chart-outcome-title"></div><ul class="legend" id="chart-outcome-legend"></ul></div>
    </div>
    <div class="panel chart"><h2 id="chart-duration-title">Durations per trigger (p50 / p95)</h2><div id="chart-duration" role="img" aria-labelledby="chart-duration-title"></div><ul class="legend" id="chart-duration-legend"></ul></div>
  </section>
</main>
<div id="announcer" class="sr-only" aria-live="polite" aria-atomic="true"></div>
<div id="toast" class="toast" role="status" aria-live="polite" hidden></div>
</body>
</html>
`;
}
