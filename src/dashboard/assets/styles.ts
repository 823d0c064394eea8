/**
 * The page's style sheet. Served as a file (not inline) so the Content-Security-Policy can forbid
 * inline styles; colours live in custom properties so the dark scheme is one block.
 */
export const DASHBOARD_CSS = String.raw`
:root {
  --bg: #f5f6f8; --panel: #ffffff; --text: #1d2330; --muted: #5b6475; --line: #e2e5ea;
  --accent: #2f5bd3; --accent-soft: #e8eefc; --focus: #2f5bd3; --on-accent: #ffffff;
  --ok: #1f8a4c; --ok-soft: #e3f4ea; --fail: #c9352b; --fail-soft: #fbe7e5;
  --warn: #b26b00; --warn-soft: #fdf1dc; --run: #2f5bd3; --run-soft: #e8eefc;
  --idle: #6b7280; --idle-soft: #eef0f3; --coal: #7c4dcc; --coal-soft: #efe8fb;
  --radius: 8px; --shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 1px 3px rgba(16, 24, 40, .08);
  color-scheme: light;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #11141a; --panel: #1a1e26; --text: #e6e8ec; --muted: #9aa3b2; --line: #2b313c;
    --accent: #7aa2ff; --accent-soft: #1f2a44; --focus: #7aa2ff; --on-accent: #0b1020;
    --ok: #4cc38a; --ok-soft: #17301f; --fail: #ff7b72; --fail-soft: #3a1a18;
    --warn: #e3a33b; --warn-soft: #37290f; --run: #7aa2ff; --run-soft: #1f2a44;
    --idle: #9aa3b2; --idle-soft: #262b35; --coal: #b18cff; --coal-soft: #2c2142;
    color-scheme: dark;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body {
  background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
[hidden] { display: none !important; }
.skip-link { position: absolute; left: -9999px; top: 0; }
.skip-link:focus { left: 8px; top: 8px; z-index: 10; background: var(--panel); padding: 6px 10px; }
:focus-visible { outline: 2px solid var(--focus); outline-offset: 2px; }

.topbar {
  display: flex; align-items: center; gap: 16px; padding: 10px 24px;
  background: var(--panel); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 5;
}
.brand { display: flex; align-items: center; gap: 10px; font-weight: 650; font-size: 16px; }
.brand svg { width: 24px; height: 24px; }
.tabs { display: flex; gap: 4px; margin-left: 16px; }
.tabs a {
  text-decoration: none; color: var(--muted); padding: 6px 12px; border-radius: 6px; font-weight: 550;
}
.tabs a:hover { background: var(--idle-soft); color: var(--text); }
.tabs a[aria-current="page"] { background: var(--accent-soft); color: var(--accent); }
.topbar .spacer { flex: 1; }
.live { display: inline-flex; align-items: center; gap: 6px; color: var(--muted); font-size: 13px; }
.live::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--idle); }
.live[data-state="live"]::before { background: var(--ok); box-shadow: 0 0 0 3px var(--ok-soft); }
.live[data-state="error"]::before { background: var(--fail); }
.mode { font-size: 12px; color: var(--warn); background: var(--warn-soft); padding: 2px 8px; border-radius: 999px; }

main { max-width: 1440px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 0 0 12px; }
.subtitle { color: var(--muted); margin: 0 0 16px; }
.view-head { display: flex; align-items: flex-end; justify-content: space-between; gap: 12px; margin-bottom: 12px; }
.panel {
  background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius);
  box-shadow: var(--shadow); padding: 16px; margin-bottom: 16px;
}
.panel.flush { padding: 0; overflow-x: auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(135px, 1fr)); gap: 12px; margin-bottom: 16px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 12px 14px; box-shadow: var(--shadow); }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 20px; font-weight: 650; margin-top: 2px; }
.card .value.small { font-size: 15px; font-variant-numeric: tabular-nums; }
.nowrap { white-space: nowrap; }
label.check { display: inline-flex; align-items: center; gap: 6px; font-size: 13px; color: var(--muted); }
label.check input { min-width: 0; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(380px, 100%), 1fr)); gap: 16px; }
.grid2 > * { min-width: 0; }

table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 9px 12px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .04em; background: var(--panel); }
tbody tr:last-child td { border-bottom: 0; }
tbody tr:hover td { background: var(--idle-soft); }
tr.flash td { animation: flash 1.6s ease-out; }
@keyframes flash { from { background: var(--accent-soft); } to { background: transparent; } }
td time { white-space: normal; }
td .sub { display: block; color: var(--muted); font-size: 12px; }
/* Buttons wrap inside their cell rather than widen the table past the panel, which would hide
   the last ones (Remove) behind the panel's sideways scroll on a laptop screen. */
.row-actions { display: flex; flex-wrap: wrap; gap: 4px; min-width: 140px; }
#triggers-table td:first-child { min-width: 150px; }
#triggers-table td:nth-child(2) { min-width: 170px; }
td .sub.mono { overflow-wrap: anywhere; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.empty { color: var(--muted); text-align: center; padding: 28px; }

.badge {
  display: inline-flex; align-items: center; gap: 5px; padding: 2px 9px; border-radius: 999px;
  font-size: 12px; font-weight: 600; background: var(--idle-soft); color: var(--idle); white-space: nowrap;
}
.badge::before { content: ""; width: 6px; height: 6px; border-radius: 50%; background: currentColor; }
.s-succeeded, .s-active { background: var(--ok-soft); color: var(--ok); }
.s-failed { background: var(--fail-soft); color: var(--fail); }
.s-running, .s-pending { background: var(--run-soft); color: var(--run); }
.s-paused, .s-missed, .s-late { background: var(--warn-soft); color: var(--warn); }
.s-failing { background: var(--fail-soft); color: var(--fail); }
.s-coalesced { background: var(--coal-soft); color: var(--coal); }
.s-skipped, .s-cancelled, .s-completed { background: var(--idle-soft); color: var(--idle); }

button, .button {
  font: inherit; font-size: 13px; font-weight: 550; border-radius: 6px; padding: 5px 11px; cursor: pointer;
  border: 1px solid var(--line); background: var(--panel); color: var(--text); text-decoration: none; display: inline-block;
}
button:hover, .button:hover { border-color: var(--muted); }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--on-accent); }
button.danger { color: var(--fail); }
button.danger:hover { border-color: var(--fail); }
button:disabled { opacity: .5; cursor: not-allowed; }
td.actions button, td.actions .button { padding: 3px 9px; font-size: 12.5px; }

form.filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-end; }
label.field { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); font-weight: 600; }
input, select, textarea {
  font: inherit; font-size: 13px; padding: 6px 8px; border-radius: 6px; border: 1px solid var(--line);
  background: var(--panel); color: var(--text); min-width: 150px;
}
textarea { width: 100%; min-height: 90px; }

dl.props { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; margin: 0; }
dl.props dt { color: var(--muted); }
dl.props dd { margin: 0; }
pre.json { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 10px; overflow: auto; max-height: 260px; margin: 0; }
.error-box { border: 1px solid var(--fail); background: var(--fail-soft); color: var(--fail); border-radius: 6px; padding: 10px 12px; margin-bottom: 16px; }
.error-box strong { display: block; }
.error-box details { margin-top: 8px; color: var(--text); }
.error-box summary { cursor: pointer; color: var(--fail); font-weight: 600; }
.error-box pre.stack { margin: 8px 0 0; padding: 10px; overflow: auto; max-height: 320px; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; white-space: pre; }
.missing p { margin: 0 0 8px; }
.missing p:last-child { margin: 0; }

ol.history { list-style: none; margin: 0; padding: 0 0 0 6px; }
ol.history li { position: relative; padding: 0 0 14px 22px; border-left: 2px solid var(--line); }
ol.history li:last-child { border-left-color: transparent; }
ol.history li::before {
  content: ""; position: absolute; left: -7px; top: 3px; width: 12px; height: 12px; border-radius: 50%;
  background: var(--panel); border: 2px solid currentColor;
}
ol.history li[data-status="succeeded"]::before { border-color: var(--ok); background: var(--ok); }
ol.history li[data-status="failed"]::before { border-color: var(--fail); background: var(--fail); }
ol.history li[data-status="running"]::before, ol.history li[data-status="pending"]::before { border-color: var(--run); }
ol.history li[data-status="cancelled"]::before, ol.history li[data-status="skipped"]::before { border-color: var(--idle); }
ol.history .when { color: var(--muted); font-size: 12px; margin-left: 8px; }
ol.history .why { display: block; color: var(--muted); font-size: 12.5px; }

.chart svg { max-width: 100%; height: auto; display: block; }
.chart text { fill: var(--muted); font-size: 11px; }
.chart text.value { fill: var(--text); font-weight: 600; }
.chart .grid { stroke: var(--line); }
.f-succeeded { fill: var(--ok); } .f-failed { fill: var(--fail); } .f-running { fill: var(--run); }
.f-pending { fill: var(--accent); opacity: .55; } .f-cancelled { fill: var(--idle); }
.f-skipped { fill: none; stroke: var(--idle); stroke-width: 2; } .f-missed { fill: var(--warn); }
.f-coalesced { fill: var(--coal); } .f-p50 { fill: var(--accent); } .f-p95 { fill: var(--coal); }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 8px 0 0; padding: 0; list-style: none; color: var(--muted); font-size: 12.5px; }
.legend li { display: inline-flex; align-items: center; gap: 6px; }
.legend svg { width: 14px; height: 14px; }
.timeline svg { width: 100%; height: auto; display: block; }
.timeline .axis { stroke: var(--line); stroke-width: 2; }
.timeline .tick { stroke: var(--line); stroke-dasharray: 2 4; }
.timeline text { fill: var(--muted); font-size: 11px; }

.login { max-width: 520px; margin: 48px auto; }
.toast {
  position: fixed; right: 20px; bottom: 20px; max-width: 420px; padding: 10px 14px; border-radius: 8px;
  background: var(--text); color: var(--panel); box-shadow: var(--shadow); font-size: 13px;
}
.toast[data-kind="error"] { background: var(--fail); color: #fff; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.toolbar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.muted { color: var(--muted); }

/* Phones: the header wraps, forms and grids take one column, and each table row becomes a card
   whose cells carry their column's name (data-label), so nothing is wider than the screen. */
@media (max-width: 720px) {
  .topbar { flex-wrap: wrap; gap: 8px 12px; padding: 8px 12px; }
  .tabs { margin-left: 0; }
  main { padding: 12px 12px 32px; }
  .view-head { flex-wrap: wrap; align-items: flex-start; }
  input, select, textarea { min-width: 0; max-width: 100%; }
  form.filters > label.field { flex: 1 1 100%; min-width: 0; }
  label.field select, label.field input { width: 100%; }
  dl.props { grid-template-columns: minmax(0, max-content) minmax(0, 1fr); overflow-wrap: anywhere; }
  .panel.flush { overflow-x: visible; }
  .panel.flush table, .panel.flush tbody, .panel.flush tr, .panel.flush td { display: block; width: 100%; }
  .panel.flush thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  .panel.flush tr { border-bottom: 1px solid var(--line); padding: 6px 0; }
  .panel.flush tbody tr:last-child { border-bottom: 0; }
  .panel.flush td { position: relative; border: 0; padding: 4px 12px; min-width: 0 !important; text-align: left; overflow-wrap: anywhere; }
  .panel.flush td[data-label] { padding-left: 116px; min-height: 28px; }
  .panel.flush td[data-label]::before {
    content: attr(data-label); position: absolute; left: 12px; top: 6px; width: 96px; color: var(--muted);
    font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em;
  }
  .row-actions { min-width: 0; }
  .toast { left: 12px; right: 12px; max-width: none; }
}
`;
