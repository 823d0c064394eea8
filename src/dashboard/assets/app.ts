/**
 * Browser script (vanilla ES2020, no modules, no framework) of the dashboard: routing between the
 * views, calls to the management API mounted at `api/` next to the page, the live event stream, and
 * the SVG charts. Uses `IBWords` from `schedule-words.ts`, served in front of it in the same file.
 *
 * Rules kept throughout: record data only ever reaches the DOM as `textContent` or attribute values
 * (no HTML strings, so nothing a handler returns can inject markup); write actions are not rendered
 * at all in read-only mode; every control is a real `button`, `a`, `select` or `input` with a label.
 *
 * Written inside `String.raw` so backslashes reach the browser unchanged; the text must contain no
 * backtick and no dollar-brace pair.
 */
export const APP_JS = String.raw`
(function () {
  'use strict';
  var W = IBWords;
  var body = document.body;
  var READ_ONLY = body.getAttribute('data-read-only') === 'true';
  var AUTH = body.getAttribute('data-auth');
  var TOKEN_KEY = 'intellibrowse-scheduler.token';
  var JOB_PAGE = 50;
  var TERMINAL = { succeeded: true, failed: true, cancelled: true, skipped: true };
  var SLOT_STATUSES = ['succeeded', 'failed', 'running', 'pending', 'cancelled', 'skipped', 'missed', 'coalesced'];
  var SLOT_LABELS = {
    succeeded: 'Succeeded', failed: 'Failed', running: 'Running', pending: 'Pending', cancelled: 'Cancelled',
    skipped: 'Skipped (overlap or window)', missed: 'Missed (misfire policy)', coalesced: 'Coalesced into one run'
  };

  var state = {
    view: null,
    triggers: new Map(),
    triggerCursor: null,
    jobs: new Map(),
    jobFilter: {},
    jobCursor: null,
    jobId: null,
    triggerId: null,
    stream: null,
    started: false
  };

  // ---------------------------------------------------------------- DOM helpers (dom.ts)

  var D = IBDom;
  var $ = D.$, append = D.append, el = D.el, svg = D.svg, clear = D.clear, toast = D.toast, announce = D.announce;
  var labelCells = D.labelCells, localInputToIso = D.localInputToIso, isoToLocalInput = D.isoToLocalInput;

  function badge(status) { return el('span', { class: 'badge s-' + status, text: status }); }

  // ---------------------------------------------------------------- time

  var fmtTime = W.fmtTime;
  var fmtZoned = W.fmtZoned;
  var zoneLabel = W.zoneLabel;
  /** The browser's own zone: where a job's times are shown, and a trigger's without a zone. */
  var BROWSER_ZONE = W.browserZone();

  function timeCell(iso, zone) {
    if (!iso) return el('td', { class: 'muted', text: '—' });
    return el('td', { title: new Date(iso).toISOString() }, [
      el('time', { datetime: iso, text: fmtZoned(iso, zone) }),
      el('span', { class: 'sub', text: W.relativeTime(iso, Date.now()) })
    ]);
  }

  function zoneOf(trigger) {
    if (!trigger) return null;
    if (trigger.schedule && trigger.schedule.kind === 'cron') return trigger.schedule.timezone;
    if (trigger.window && trigger.window.timezone) return trigger.window.timezone;
    return null;
  }

  // ---------------------------------------------------------------- API

  function token() { try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; } }

  function requestHeaders(extra) {
    var h = { Accept: 'application/json' };
    var t = token();
    if (AUTH === 'jwt' && t) h.Authorization = 'Bearer ' + t;
    if (extra) Object.keys(extra).forEach(function (k) { h[k] = extra[k]; });
    return h;
  }

  function ApiError(status, code, message) {
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.message = message;
  }
  ApiError.prototype = Object.create(Error.prototype);

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v !== undefined && v !== null && v !== '') parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
    });
    return parts.length ? '?' + parts.join('&') : '';
  }

  function api(method, path, payload) {
    var init = { method: method, headers: requestHeaders(method === 'GET' ? null : { 'Content-Type': 'application/json' }), cache: 'no-store', credentials: 'same-origin' };
    if (payload !== undefined) init.body = JSON.stringify(payload);
    return fetch('api/' + path, init).then(function (res) {
      if (res.status === 204) return null;
      return res.text().then(function (text) {
        var data = null;
        if (text) {
          try { data = JSON.parse(text); } catch (e) { throw new ApiError(res.status, 'ERR_BAD_ANSWER', 'the server answered something that is not JSON'); }
        }
        if (!res.ok) {
          var err = (data && data.error) || {};
          throw new ApiError(res.status, err.code || 'ERR_HTTP_' + res.status, err.message || ('HTTP ' + res.status));
        }
        return data;
      });
    });
  }

  function id(part) { return encodeURIComponent(part); }

  function failed(err) {
    if (err && err.status === 401 && AUTH === 'jwt') { showLogin(err.message); return; }
    if (err && err.status === 403) { toast('Not allowed: ' + err.message, 'error'); return; }
    toast((err && err.message) || String(err), 'error');
  }

  /** Run 'work' with 'button' disabled, so a double click sends one request. */
  function busy(button, work) {
    button.disabled = true;
    return Promise.resolve().then(work).catch(failed).then(function () { button.disabled = false; });
  }

  // ---------------------------------------------------------------- auth

  function showLogin(message) {
    stopStream();
    state.started = false;
    setLive('idle', 'Signed out');
    $('health').hidden = true;
    showView('login');
    var error = $('login-error');
    error.hidden = !message;
    error.textContent = message ? 'Refused: ' + message : '';
    $('sign-out').hidden = true;
    $('token-input').focus();
  }

  $('login-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var value = $('token-input').value.trim().replace(/^Bearer\s+/i, '');
    if (!value) return;
    try { sessionStorage.setItem(TOKEN_KEY, value); } catch (e) { toast('This browser refuses session storage', 'error'); return; }
    $('token-input').value = '';
    // Check the token before leaving the form, so a bad one is refused right here.
    api('GET', 'health').then(function () { start(); }, function (err) {
      if (err.status === 401 || err.status === 403) { try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage gone: nothing to remove */ } }
      showLogin(err.message);
    });
  });

  $('sign-out').addEventListener('click', function () {
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage gone: nothing to remove */ }
    showLogin(null);
  });

  // ---------------------------------------------------------------- routing

  var VIEWS = ['login', 'triggers', 'trigger', 'jobs', 'job', 'stats'];

  function showView(name) {
    state.view = name;
    VIEWS.forEach(function (v) { $('view-' + v).hidden = v !== name; });
    var tab = name === 'trigger' ? 'triggers' : name === 'job' ? 'jobs' : name;
    Array.prototype.forEach.call(document.querySelectorAll('.tabs a'), function (a) {
      if (a.getAttribute('data-tab') === tab) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    });
  }

  function parseHash() {
    var hash = location.hash.replace(/^#\/?/, '');
    var q = hash.indexOf('?');
    var path = q < 0 ? hash : hash.slice(0, q);
    var params = {};
    if (q >= 0) {
      hash.slice(q + 1).split('&').forEach(function (pair) {
        if (!pair) return;
        var eq = pair.indexOf('=');
        var k = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
        params[k] = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
      });
    }
    var segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    return { segments: segments, params: params };
  }

  function route() {
    if (!state.started) return;
    var r = parseHash();
    var first = r.segments[0] || 'triggers';
    state.jobId = null;
    state.triggerId = null;
    if (first === 'jobs' && r.segments[1]) { state.jobId = r.segments[1]; clearJob(); showView('job'); loadJob(); }
    else if (first === 'jobs') { showView('jobs'); state.jobFilter = r.params; fillJobFilters(); loadJobs(false); }
    else if (first === 'triggers' && r.segments[1]) { state.triggerId = r.segments[1]; clearTrigger(); showView('trigger'); loadTrigger(); }
    else if (first === 'stats') { showView('stats'); loadStats(); }
    else { showView('triggers'); loadTriggers(false); }
    document.title = ($('view-' + state.view).querySelector('h1') || {}).textContent + ' · ' + document.querySelector('.brand span').textContent;
  }

  window.addEventListener('hashchange', route);

  // ---------------------------------------------------------------- triggers

  function triggerName(triggerId) {
    var t = state.triggers.get(triggerId);
    return t ? t.name : triggerId;
  }

  function scheduleText(trigger) {
    return W.describeSchedule(trigger.schedule, function (iso) { return fmtZoned(iso, zoneOf(trigger)); });
  }

  function scheduleCode(trigger) {
    var s = trigger.schedule || {};
    if (s.kind === 'cron') return s.cron;
    if (s.kind === 'every') return 'every ' + s.every + ' ms';
    if (s.kind === 'at') return s.at;
    return null;
  }

  function triggerActions(trigger, withLinks) {
    var list = [];
    if (!READ_ONLY) {
      if (trigger.status === 'active') list.push(el('button', { type: 'button', 'data-action': 'pause', 'data-id': trigger.id, 'aria-label': 'Pause ' + trigger.name, text: 'Pause' }));
      if (trigger.status === 'paused') list.push(el('button', { type: 'button', 'data-action': 'resume', 'data-id': trigger.id, 'aria-label': 'Resume ' + trigger.name, text: 'Resume' }));
      list.push(el('button', { type: 'button', class: 'primary', 'data-action': 'run', 'data-id': trigger.id, 'aria-label': 'Run ' + trigger.name + ' now', text: 'Run now' }));
    }
    if (withLinks) {
      list.push(el('a', { class: 'button', href: '#/triggers/' + id(trigger.id), 'aria-label': 'Timeline of ' + trigger.name, text: 'Timeline' }));
    } else {
      list.push(el('a', { class: 'button', href: '#/jobs?triggerId=' + id(trigger.id), 'aria-label': 'Jobs of ' + trigger.name, text: 'Jobs' }));
    }
    if (!READ_ONLY) list.push(el('button', { type: 'button', class: 'danger', 'data-action': 'remove', 'data-id': trigger.id, 'aria-label': 'Remove ' + trigger.name, text: 'Remove' }));
    return list;
  }

  /** A paused trigger's next run is not due, however soon 'nextRunAt' is: it says 'paused' instead. */
  function nextRunCell(trigger) {
    if (trigger.status === 'paused') return el('td', { class: 'muted', text: 'paused' });
    return timeCell(trigger.nextRunAt, zoneOf(trigger));
  }

  /** A zone name that may break after each '/', so 'America/Argentina/Buenos_Aires' does not widen its column. */
  function breakable(text) {
    var parts = [];
    text.split('/').forEach(function (part, i) { if (i) parts.push('/', el('wbr')); parts.push(part); });
    return parts;
  }

  function triggerRow(trigger) {
    var code = scheduleCode(trigger);
    return labelCells($('triggers-table'), el('tr', { 'data-trigger-id': trigger.id }, [
      el('td', null, [el('a', { href: '#/triggers/' + id(trigger.id), text: trigger.name }), el('span', { class: 'sub mono', text: trigger.id })]),
      el('td', null, [scheduleText(trigger), code ? el('span', { class: 'sub mono', text: code }) : null]),
      zoneOf(trigger) ? el('td', null, breakable(zoneOf(trigger))) : el('td', { class: 'muted' }, breakable(BROWSER_ZONE + ' (browser)')),
      nextRunCell(trigger),
      timeCell(trigger.lastRunAt, zoneOf(trigger)),
      el('td', null, [badge(trigger.status), IBAlerts.badges(trigger.id)]),
      el('td', { class: 'actions' }, el('div', { class: 'row-actions' }, triggerActions(trigger, true)))
    ]));
  }

  function emptyRow(colspan, text) { return el('tr', null, el('td', { colspan: colspan, class: 'empty', text: text })); }

  function loadTriggers(more) {
    var params = { limit: 100, status: $('trigger-status-filter').value, cursor: more ? state.triggerCursor : '' };
    return api('GET', 'triggers' + query(params)).then(function (page) {
      var tbody = $('triggers-table').tBodies[0];
      if (!more) clear(tbody);
      page.items.forEach(function (t) { state.triggers.set(t.id, t); tbody.appendChild(triggerRow(t)); });
      if (!tbody.rows.length) tbody.appendChild(emptyRow(7, 'No triggers.'));
      state.triggerCursor = page.nextCursor;
      $('triggers-more').hidden = !page.nextCursor;
      fillTriggerSelect();
    }).catch(failed);
  }

  /** Every trigger's name, for the jobs filter and the charts (walks all pages). */
  function loadTriggerIndex(cursor) {
    return api('GET', 'triggers' + query({ limit: 1000, cursor: cursor })).then(function (page) {
      page.items.forEach(function (t) { state.triggers.set(t.id, t); });
      if (page.nextCursor) return loadTriggerIndex(page.nextCursor);
      fillTriggerSelect();
    });
  }

  function fillTriggerSelect() {
    var select = $('jobs-trigger');
    var chosen = state.jobFilter.triggerId || select.value;
    clear(select).appendChild(el('option', { value: '', text: 'All' }));
    Array.from(state.triggers.values()).sort(function (a, b) { return a.name.localeCompare(b.name); }).forEach(function (t) {
      select.appendChild(el('option', { value: t.id, text: t.name }));
    });
    if (chosen && !state.triggers.has(chosen)) select.appendChild(el('option', { value: chosen, text: chosen }));
    select.value = chosen || '';
  }

  function updateTriggerRow(trigger) {
    var known = state.triggers.get(trigger.id); if (known && !('payload' in trigger) && 'payload' in known) trigger = Object.assign({}, trigger, { payload: known.payload }); // frames are summaries
    state.triggers.set(trigger.id, trigger);
    var tbody = $('triggers-table').tBodies[0];
    var row = tbody.querySelector('tr[data-trigger-id="' + CSS.escape(trigger.id) + '"]');
    var filter = $('trigger-status-filter').value;
    var fits = !filter || filter === trigger.status;
    if (row && fits) { var fresh = triggerRow(trigger); fresh.classList.add('flash'); tbody.replaceChild(fresh, row); }
    else if (row) tbody.removeChild(row);
    else if (fits && state.view === 'triggers') { var empty = tbody.querySelector('td.empty'); if (empty) clear(tbody); tbody.appendChild(triggerRow(trigger)); }
    if (state.view === 'trigger' && state.triggerId === trigger.id) {
      renderTriggerHead(trigger);
      // The cards and next fire times change with the status too (paused, resumed).
      scheduleRefresh('timeline', loadTrigger);
    }
  }

  function dropTriggerRow(triggerId) {
    state.triggers.delete(triggerId);
    var row = $('triggers-table').tBodies[0].querySelector('tr[data-trigger-id="' + CSS.escape(triggerId) + '"]');
    if (row) row.parentNode.removeChild(row);
  }

  function triggerAction(button) {
    var triggerId = button.getAttribute('data-id');
    var action = button.getAttribute('data-action');
    var name = triggerName(triggerId);
    if (action === 'remove' && !window.confirm('Remove trigger "' + name + '"? Its jobs stay in the store.')) return;
    busy(button, function () {
      if (action === 'pause' || action === 'resume') {
        return api('POST', 'triggers/' + id(triggerId) + '/' + action).then(function (data) {
          updateTriggerRow(data.trigger);
          toast((action === 'pause' ? 'Paused ' : 'Resumed ') + name);
        });
      }
      if (action === 'run') {
        return api('POST', 'triggers/' + id(triggerId) + '/run', {}).then(function (data) {
          upsertJob(data.job, true);
          toast('Started ' + name + ' (job ' + data.job.id + ')');
        });
      }
      return api('DELETE', 'triggers/' + id(triggerId)).then(function () {
        dropTriggerRow(triggerId);
        toast('Removed ' + name);
        if (state.view === 'trigger') location.hash = '#/triggers';
      });
    });
  }

  function onActionClick(event) {
    var button = event.target.closest('button[data-action]');
    if (!button || button.disabled) return;
    var action = button.getAttribute('data-action');
    if (action === 'retry' || action === 'cancel') jobAction(button); else triggerAction(button);
  }

  $('triggers-table').addEventListener('click', onActionClick);
  $('trigger-actions').addEventListener('click', onActionClick);
  $('jobs-table').addEventListener('click', onActionClick);
  $('job-actions').addEventListener('click', onActionClick);
  $('triggers-refresh').addEventListener('click', function () { loadTriggers(false); });
  $('triggers-more').addEventListener('click', function () { loadTriggers(true); });
  $('trigger-status-filter').addEventListener('change', function () { loadTriggers(false); });

  // ---------------------------------------------------------------- trigger detail and timeline

  function card(label, value, small) { return el('div', { class: 'card' }, [el('div', { class: 'label', text: label }), el('div', { class: small ? 'value small' : 'value', text: value })]); }

  function prop(list, name, value) {
    list.appendChild(el('dt', { text: name }));
    list.appendChild(el('dd', null, value));
  }

  function renderTriggerHead(trigger) {
    $('trigger-title').textContent = trigger.name;
    var sub = $('trigger-schedule');
    clear(sub);
    append(sub, [badge(trigger.status), IBAlerts.badges(trigger.id), ' ', scheduleText(trigger), ' (' + (zoneOf(trigger) || BROWSER_ZONE + ', your browser\'s zone') + ')']);
    append(clear($('trigger-actions')), triggerActions(trigger, false));
    var props = clear($('trigger-props'));
    prop(props, 'Id', el('code', { text: trigger.id }));
    prop(props, 'Handler', el('code', { text: trigger.handler }));
    if (scheduleCode(trigger)) prop(props, 'Schedule', el('code', { text: scheduleCode(trigger) }));
    prop(props, 'Misfire', trigger.misfire);
    prop(props, 'Overlap', trigger.overlap);
    if (trigger.retry) prop(props, 'Retry', trigger.retry.attempts + ' attempts' + (trigger.retry.backoff ? ', ' + trigger.retry.backoff.type + ' backoff from ' + W.formatDuration(trigger.retry.backoff.delayMs) : ''));
    if (trigger.timeoutMs) prop(props, 'Timeout', W.formatDuration(trigger.timeoutMs));
    if (trigger.maxConcurrent) prop(props, 'Max concurrent', String(trigger.maxConcurrent));
    if (trigger.tags && trigger.tags.length) prop(props, 'Tags', trigger.tags.join(', '));
    prop(props, 'Payload', el('pre', { class: 'json', text: JSON.stringify(trigger.payload, null, 2) }));
  }

  /** Empty the trigger view, so another trigger's figures never show under this one's name. */
  function clearTrigger() {
    ['trigger-cards', 'trigger-next', 'trigger-props', 'trigger-actions', 'timeline', 'timeline-legend', 'trigger-schedule'].forEach(function (name) { clear($(name)); });
    clear($('timeline-table').tBodies[0]);
    $('timeline').removeAttribute('data-trigger-id');
    $('trigger-title').textContent = state.triggers.has(state.triggerId) ? state.triggers.get(state.triggerId).name : state.triggerId;
  }

  function loadTrigger() {
    var triggerId = state.triggerId;
    return api('GET', 'triggers/' + id(triggerId)).then(function (data) {
      if (state.triggerId !== triggerId) return;
      var t = data.trigger;
      var s = data.stats || {};
      state.triggers.set(t.id, t); IBAlerts.fromStats(t.id, s);
      renderTriggerHead(t);
      append(clear($('trigger-cards')), [
        card('Next run', t.status === 'paused' ? 'paused' : fmtZoned(t.nextRunAt, zoneOf(t)), true), card('Last run', fmtZoned(t.lastRunAt, zoneOf(t)), true),
        card('Runs', String(s.runs || 0)), card('Succeeded', String(s.succeeded || 0)), card('Failed', String(s.failed || 0)),
        card('p50 duration', W.formatDuration(s.p50DurationMs)), card('p95 duration', W.formatDuration(s.p95DurationMs)), card('p95 start lag', W.formatDuration(s.p95LagMs)), card('Missed slots', String(s.skipped || 0))
      ]);
      var next = clear($('trigger-next'));
      if (t.status === 'paused') next.appendChild(el('li', { class: 'muted', text: 'Paused: none of these fires until it is resumed.' }));
      (data.next || []).forEach(function (n) {
        next.appendChild(el('li', { title: n.at }, [fmtZoned(n.at, zoneOf(t)), n.dst === 'skipped-hour' ? ' (at the DST jump: the local time does not exist that day)' : n.dst === 'repeated-hour' ? ' (in the repeated DST hour)' : '']));
      });
      if (!next.children.length) next.appendChild(el('li', { class: 'muted', text: 'No timed fires.' }));
      return loadTimeline();
    }).catch(failed);
  }

  var SHAPES = {
    succeeded: function (x, y) { return svg('circle', { cx: x, cy: y, r: 6, class: 'f-succeeded' }); },
    failed: function (x, y) { return svg('rect', { x: x - 6, y: y - 6, width: 12, height: 12, class: 'f-failed' }); },
    running: function (x, y) { return svg('circle', { cx: x, cy: y, r: 6, class: 'f-running' }); },
    pending: function (x, y) { return svg('circle', { cx: x, cy: y, r: 5, class: 'f-pending' }); },
    cancelled: function (x, y) { return svg('rect', { x: x - 5, y: y - 5, width: 10, height: 10, class: 'f-cancelled' }); },
    skipped: function (x, y) { return svg('circle', { cx: x, cy: y, r: 5, class: 'f-skipped' }); },
    missed: function (x, y) { return svg('path', { d: 'M' + x + ' ' + (y - 7) + 'L' + (x + 7) + ' ' + (y + 6) + 'L' + (x - 7) + ' ' + (y + 6) + 'Z', class: 'f-missed' }); },
    coalesced: function (x, y) { return svg('path', { d: 'M' + x + ' ' + (y - 7) + 'L' + (x + 7) + ' ' + y + 'L' + x + ' ' + (y + 7) + 'L' + (x - 7) + ' ' + y + 'Z', class: 'f-coalesced' }); }
  };

  function legend(list, keys, labels) {
    clear(list);
    keys.forEach(function (key) {
      var icon = svg('svg', { viewBox: '-8 -8 16 16', 'aria-hidden': 'true' }, SHAPES[key] ? SHAPES[key](0, 0) : svg('rect', { x: -7, y: -7, width: 14, height: 14, class: 'f-' + key }));
      list.appendChild(el('li', null, [icon, labels[key]]));
    });
  }

  function loadTimeline() {
    var triggerId = state.triggerId;
    var to = Date.now() + 60000;
    var from = to - Number($('timeline-range').value);
    var range = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    return api('GET', 'triggers/' + id(triggerId) + '/timeline' + query(range)).then(function (data) {
      if (state.triggerId !== triggerId) return;
      var start = from;
      var end = Math.min(to, Date.now());
      if ($('timeline-fit').checked && data.items.length) {
        // Zoom to the slots there are, so a young trigger's slots are not one dot at the right end.
        var first = Math.min.apply(null, data.items.map(function (slot) { return Date.parse(slot.scheduledFor); }));
        var last = Math.max(end, Math.max.apply(null, data.items.map(function (slot) { return Date.parse(slot.scheduledFor); })));
        var pad = Math.max((last - first) * 0.04, 1000);
        start = Math.max(from, first - pad);
        end = last + pad;
      }
      drawTimeline(data.items, start, end, zoneOf(state.triggers.get(triggerId)));
      $('timeline').setAttribute('data-trigger-id', triggerId);
    }).catch(failed);
  }

  /** An axis label: seconds for short spans, the date for long ones. */
  function tickLabel(t, span, zone) {
    var text = fmtTime(new Date(t).toISOString(), zone);
    if (span <= 2 * 3600000) return text.slice(11);
    if (span <= 36 * 3600000) return text.slice(11, 16);
    return text.slice(5, 16);
  }

  function drawTimeline(items, from, to, zone) {
    var width = 1000, left = 70, right = 16, lanes = { ran: 30, not: 66 };
    var scale = function (t) { return left + (Math.min(Math.max(t, from), to) - from) / (to - from) * (width - left - right); };
    var root = svg('svg', { viewBox: '0 0 ' + width + ' 110' });
    root.appendChild(svg('text', { x: 0, y: lanes.ran + 4, text: 'Ran' }));
    root.appendChild(svg('text', { x: 0, y: lanes.not + 4, text: 'Not run' }));
    root.appendChild(svg('line', { x1: left, x2: width - right, y1: lanes.ran, y2: lanes.ran, class: 'axis' }));
    root.appendChild(svg('line', { x1: left, x2: width - right, y1: lanes.not, y2: lanes.not, class: 'axis' }));
    for (var i = 0; i <= 4; i++) {
      var t = from + (to - from) * i / 4;
      root.appendChild(svg('line', { x1: scale(t), x2: scale(t), y1: 14, y2: 80, class: 'tick' }));
      root.appendChild(svg('text', { x: scale(t), y: 100, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle', text: tickLabel(t, to - from, zone) }));
    }
    var counts = {};
    items.forEach(function (slot) {
      counts[slot.status] = (counts[slot.status] || 0) + 1;
      var x = scale(Date.parse(slot.scheduledFor));
      var notRun = slot.status === 'skipped' || slot.status === 'missed' || slot.status === 'coalesced';
      var shape = (SHAPES[slot.status] || SHAPES.pending)(x, notRun ? lanes.not : lanes.ran);
      shape.setAttribute('data-status', slot.status);
      shape.appendChild(svg('title', { text: fmtZoned(slot.scheduledFor, zone) + ' — ' + slot.status + (slot.reason ? ': ' + slot.reason : '') }));
      root.appendChild(slot.jobId ? svg('a', { href: '#/jobs/' + id(slot.jobId) }, shape) : shape);
    });
    var box = clear($('timeline'));
    box.appendChild(root);
    var summary = SLOT_STATUSES.filter(function (s) { return counts[s]; }).map(function (s) { return counts[s] + ' ' + s; });
    box.setAttribute('aria-label', 'Run timeline: ' + (summary.length ? summary.join(', ') : 'no slots in this range'));
    legend($('timeline-legend'), SLOT_STATUSES, SLOT_LABELS);

    var tbody = clear($('timeline-table').tBodies[0]);
    items.slice().sort(function (a, b) { return Date.parse(b.scheduledFor) - Date.parse(a.scheduledFor); }).slice(0, 200).forEach(function (slot) {
      tbody.appendChild(labelCells($('timeline-table'), el('tr', { 'data-status': slot.status }, [
        el('td', { class: 'nowrap' }, slot.jobId ? el('a', { href: '#/jobs/' + id(slot.jobId), text: fmtZoned(slot.scheduledFor, zone) }) : fmtZoned(slot.scheduledFor, zone)),
        el('td', null, badge(slot.status)),
        el('td', { class: 'muted', text: slot.reason || '' })
      ])));
    });
    if (!tbody.rows.length) tbody.appendChild(emptyRow(3, 'No slots in this range.'));
  }

  $('timeline-range').addEventListener('change', function () { loadTimeline(); });
  $('timeline-fit').addEventListener('change', function () { loadTimeline(); });

  // ---------------------------------------------------------------- jobs

  function jobMatches(job) {
    var f = state.jobFilter;
    if (f.status && job.status !== f.status) return false;
    if (f.triggerId && job.triggerId !== f.triggerId) return false;
    var t = Date.parse(job.scheduledFor);
    if (f.from && t < Date.parse(f.from)) return false;
    if (f.to && t >= Date.parse(f.to)) return false;
    return true;
  }

  function jobActions(job) {
    if (READ_ONLY) return [];
    var list = [];
    if (job.status === 'failed' || job.status === 'cancelled') list.push(el('button', { type: 'button', 'data-action': 'retry', 'data-id': job.id, 'aria-label': 'Retry job ' + job.id, text: 'Retry' }));
    if (job.status === 'pending' || job.status === 'running') list.push(el('button', { type: 'button', class: 'danger', 'data-action': 'cancel', 'data-id': job.id, 'aria-label': 'Cancel job ' + job.id, text: 'Cancel' }));
    return list;
  }

  /** Ids are often UUIDs that differ at the end: the last 12 characters tell jobs apart in a table. */
  function shortId(jobId) { return jobId.length > 14 ? '…' + jobId.slice(-12) : jobId; }

  function jobRow(job) {
    var m = job.metrics || {};
    return labelCells($('jobs-table'), el('tr', { 'data-job-id': job.id, 'data-status': job.status }, [
      el('td', { class: 'nowrap' }, el('a', { href: '#/jobs/' + id(job.id), class: 'mono', title: job.id, 'aria-label': 'Job ' + job.id, text: shortId(job.id) })),
      el('td', null, [el('a', { href: '#/triggers/' + id(job.triggerId), text: triggerName(job.triggerId) }), el('span', { class: 'sub', text: job.source })]),
      el('td', null, badge(job.status)),
      timeCell(job.scheduledFor),
      timeCell(job.startedAt),
      el('td', { class: 'num', text: W.formatDuration(m.durationMs) }),
      el('td', { class: 'num', text: job.attempts + ' / ' + job.maxAttempts }),
      el('td', { class: 'mono', text: job.instanceId || '—' }),
      el('td', { class: 'actions' }, el('div', { class: 'row-actions' }, jobActions(job)))
    ]));
  }

  function fillJobFilters() {
    var f = state.jobFilter;
    $('jobs-status').value = f.status || '';
    fillTriggerSelect();
    $('jobs-from').value = isoToLocalInput(f.from);
    $('jobs-to').value = isoToLocalInput(f.to);
  }

  /**
   * Jobs the stream reported, by id, with the sequence number of the report: a list answer may
   * have been read from the store before a report that reached the page first, so reports newer
   * than the request are applied again on top of the answer.
   */
  var streamed = new Map();
  var streamSeq = 0;
  var MAX_STREAMED = 500;

  function rememberStreamed(job) {
    streamed.delete(job.id);
    streamed.set(job.id, { seq: ++streamSeq, job: job });
    if (streamed.size > MAX_STREAMED) streamed.delete(streamed.keys().next().value);
  }

  function loadJobs(more) {
    var f = state.jobFilter;
    var params = { limit: JOB_PAGE, status: f.status, triggerId: f.triggerId, from: f.from, to: f.to, cursor: more ? state.jobCursor : '' };
    var asked = streamSeq;
    return api('GET', 'jobs' + query(params)).then(function (page) {
      var tbody = $('jobs-table').tBodies[0];
      if (!more) { clear(tbody); state.jobs.clear(); }
      page.items.forEach(function (job) {
        if (state.jobs.has(job.id)) return;
        state.jobs.set(job.id, job);
        tbody.appendChild(jobRow(job));
      });
      if (!more) {
        streamed.forEach(function (entry) { if (entry.seq > asked) upsertJob(entry.job, true); });
      }
      if (!tbody.rows.length) tbody.appendChild(emptyRow(9, 'No jobs match.'));
      state.jobCursor = page.nextCursor;
      $('jobs-more').hidden = !page.nextCursor;
    }).catch(failed);
  }

  function historyCount(job) { return typeof job.historyLength === 'number' ? job.historyLength : (job.history || []).length; }
  /** A job the stream (or an action) reported: replace its row, or add it on top when it is new and fits the filters. */
  function upsertJob(job, fromAction) {
    if (state.view === 'job' && state.jobId === job.id) scheduleRefresh('job', loadJob); // frames are summaries
    if (state.view === 'trigger' && state.triggerId === job.triggerId) scheduleRefresh('timeline', loadTrigger);
    if (state.view === 'stats') scheduleRefresh('stats', loadStats);
    var tbody = $('jobs-table').tBodies[0];
    var row = tbody.querySelector('tr[data-job-id="' + CSS.escape(job.id) + '"]');
    var known = state.jobs.get(job.id);
    // Events can arrive out of order (local and polled ones); history is append-only, so a record
    // with fewer entries is older and must not replace a newer one.
    if (known && historyCount(known) > historyCount(job)) return;
    if (!jobMatches(job)) {
      if (row) { tbody.removeChild(row); state.jobs.delete(job.id); }
      return;
    }
    state.jobs.set(job.id, job);
    var fresh = jobRow(job);
    fresh.classList.add('flash');
    if (row) tbody.replaceChild(fresh, row);
    else {
      var empty = tbody.querySelector('td.empty');
      if (empty) clear(tbody);
      tbody.insertBefore(fresh, tbody.firstChild);
    }
    if (!fromAction && state.view === 'jobs') announce('Job of ' + triggerName(job.triggerId) + ' ' + job.status);
  }

  var refreshTimers = {};
  function scheduleRefresh(key, fn) {
    if (refreshTimers[key]) return;
    refreshTimers[key] = setTimeout(function () { refreshTimers[key] = null; fn(); }, 800);
  }

  function jobAction(button) {
    var jobId = button.getAttribute('data-id');
    var action = button.getAttribute('data-action');
    busy(button, function () {
      return api('POST', 'jobs/' + id(jobId) + '/' + action).then(function (data) {
        upsertJob(data.job, true);
        if (action === 'retry') {
          toast(data.job.id === jobId ? 'Retrying job ' + jobId : 'Retry started as job ' + data.job.id);
          if (state.view === 'job' && data.job.id !== jobId) location.hash = '#/jobs/' + id(data.job.id);
        } else {
          toast('Cancel requested for job ' + jobId);
        }
      });
    });
  }

  $('jobs-filters').addEventListener('submit', function (event) {
    event.preventDefault();
    var params = { status: $('jobs-status').value, triggerId: $('jobs-trigger').value, from: localInputToIso($('jobs-from').value), to: localInputToIso($('jobs-to').value) };
    var target = '#/jobs' + query(params);
    if (location.hash === target) route(); else location.hash = target;
  });
  $('jobs-filters').addEventListener('reset', function () { setTimeout(function () { location.hash = '#/jobs'; }, 0); });
  $('jobs-more').addEventListener('click', function () { loadJobs(true); });

  // ---------------------------------------------------------------- job detail

  /** Empty the job view, so the job seen before never shows (nor its buttons) under another id. */
  function clearJob() {
    $('job-title').textContent = 'Job ' + state.jobId;
    clear($('job-subtitle'));
    clear($('job-actions'));
    clear($('job-error')).hidden = true;
    $('job-body').hidden = true;
    clear($('job-missing')).hidden = true;
  }

  function loadJob() {
    var jobId = state.jobId;
    return api('GET', 'jobs/' + id(jobId)).then(function (data) {
      if (state.jobId === jobId) renderJob(data.job);
    }).catch(function (err) {
      if (state.jobId !== jobId) return;
      if (err && err.status === 404) showJobMissing(jobId); else failed(err);
    });
  }

  function showJobMissing(jobId) {
    $('job-title').textContent = 'Job not found';
    document.title = 'Job not found · ' + document.querySelector('.brand span').textContent;
    append(clear($('job-missing')), [
      el('p', null, ['There is no job ', el('code', { text: jobId }), ' in the store. Its link may be wrong, or the job was purged after the retention time.']),
      el('p', null, el('a', { href: '#/jobs', text: 'All jobs' }))
    ]).hidden = false;
  }

  function renderJob(job) {
    $('job-missing').hidden = true;
    $('job-body').hidden = false;
    $('job-title').textContent = 'Job ' + job.id;
    var sub = clear($('job-subtitle'));
    append(sub, [badge(job.status), ' ', el('a', { href: '#/triggers/' + id(job.triggerId), text: triggerName(job.triggerId) }), ' · ', job.source, ' · attempt ' + job.attempts + ' of ' + job.maxAttempts]);
    append(clear($('job-actions')), jobActions(job));

    var errorBox = clear($('job-error'));
    errorBox.hidden = !job.error;
    if (job.error) {
      append(errorBox, [el('strong', { text: job.error.name + (job.error.code ? ' (' + job.error.code + ')' : '') }), job.error.message]);
      if (job.error.stack) append(errorBox, el('details', null, [el('summary', { text: 'Stack trace' }), el('pre', { class: 'stack', text: job.error.stack })]));
    }

    var m = job.metrics || {};
    append(clear($('job-metrics')), [
      card('Duration', W.formatDuration(m.durationMs)), card('Queued', W.formatDuration(m.queuedMs)),
      card('CPU user', W.formatDuration(m.cpuUserMs)), card('CPU system', W.formatDuration(m.cpuSystemMs)),
      card('Heap', W.formatBytes(m.heapUsedBytes))
    ]);

    var history = clear($('job-history'));
    (job.history || []).forEach(function (h) {
      history.appendChild(el('li', { 'data-status': h.status }, [
        badge(h.status), el('span', { class: 'when', text: fmtZoned(h.at) + (h.instanceId ? ' on ' + h.instanceId : '') }),
        h.reason ? el('span', { class: 'why', text: h.reason }) : null
      ]));
    });

    var props = clear($('job-props'));
    prop(props, 'Trigger', el('a', { href: '#/triggers/' + id(job.triggerId), text: job.triggerId }));
    prop(props, 'Handler', el('code', { text: job.handler }));
    prop(props, 'Scheduled for', fmtZoned(job.scheduledFor));
    prop(props, 'Run at', fmtZoned(job.runAt));
    prop(props, 'Started', fmtZoned(job.startedAt));
    prop(props, 'Finished', fmtZoned(job.finishedAt));
    if (job.nextAttemptAt) prop(props, 'Next attempt', fmtZoned(job.nextAttemptAt));
    prop(props, 'Instance', job.instanceId || '—');
    if (job.event) prop(props, 'Event', job.event.name + ' (' + job.event.id + ')');
    if (job.upstream) prop(props, 'After job', el('a', { href: '#/jobs/' + id(job.upstream.jobId), text: job.upstream.jobId + ' (' + job.upstream.status + ')' }));
    $('job-payload').textContent = JSON.stringify(job.payload, null, 2);
    $('job-result').textContent = job.result === null || job.result === undefined ? '—' : JSON.stringify(job.result, null, 2);
  }

  // ---------------------------------------------------------------- stats

  /** The smallest 'nice' axis end (four steps of a round number) at or above 'max'. */
  function niceMax(max, integers) {
    if (max <= 0) return integers ? 4 : 1;
    var step = max / 4;
    var power = Math.pow(10, Math.floor(Math.log10(step)));
    var nice = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map(function (m) { return m * power; }).filter(function (v) { return v >= step && (!integers || v === Math.round(v)); })[0];
    return (nice || Math.ceil(step)) * 4;
  }

  /**
   * Horizontal bars, one row per entry ('values' side by side, or stacked). Drawn at the
   * container's pixel width, so text has the same size in every chart.
   */
  function barChart(container, rows, opts) {
    var rowH = opts.rowHeight || 26, left = 160, right = 70;
    var width = Math.max(container.clientWidth || 640, 320);
    var height = Math.max(rows.length, 1) * rowH + 26;
    var max = 0;
    rows.forEach(function (r) {
      if (opts.stacked) max = Math.max(max, r.values.reduce(function (sum, v) { return sum + (v.value || 0); }, 0));
      else r.values.forEach(function (v) { max = Math.max(max, v.value || 0); });
    });
    max = niceMax(max, !opts.tick);
    var scale = function (v) { return (v / max) * (width - left - right); };
    var root = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, width: width, height: height });
    for (var g = 0; g <= 4; g++) {
      var gx = left + (width - left - right) * g / 4;
      root.appendChild(svg('line', { x1: gx, x2: gx, y1: 0, y2: height - 20, class: 'grid' }));
      root.appendChild(svg('text', { x: gx, y: height - 6, 'text-anchor': 'middle', text: opts.tick ? opts.tick(max * g / 4) : String(max * g / 4) }));
    }
    rows.forEach(function (r, i) {
      var y = i * rowH + 4;
      var label = r.label.length > 22 ? r.label.slice(0, 21) + '…' : r.label;
      root.appendChild(svg('text', { x: left - 8, y: y + rowH / 2 + 1, 'text-anchor': 'end', text: label }, svg('title', { text: r.label })));
      var x = left;
      var barH = opts.stacked ? rowH - 8 : (rowH - 8) / r.values.length;
      r.values.forEach(function (v, j) {
        var w = scale(v.value || 0);
        var by = opts.stacked ? y : y + j * barH;
        var rect = svg('rect', { x: x, y: by, width: Math.max(w, v.value ? 2 : 0), height: barH - (opts.stacked ? 0 : 1), class: 'f-' + v.key, 'data-key': v.key, 'data-value': v.value || 0 },
          svg('title', { text: r.label + ' — ' + v.key + ': ' + (opts.tick ? opts.tick(v.value) : v.value) }));
        root.appendChild(rect);
        if (opts.stacked) x += w;
        else root.appendChild(svg('text', { x: left + w + 4, y: by + barH - 2, class: 'value', text: opts.tick ? opts.tick(v.value) : String(v.value) }));
      });
      if (opts.stacked) root.appendChild(svg('text', { x: x + 4, y: y + rowH / 2 + 1, class: 'value', text: r.values.map(function (v) { return v.value || 0; }).join(' / ') }));
    });
    if (!rows.length) root.appendChild(svg('text', { x: width / 2, y: 20, 'text-anchor': 'middle', text: 'No data yet' }));
    return root;
  }

  var STATUS_ORDER = ['succeeded', 'failed', 'running', 'pending', 'cancelled', 'skipped'];

  function loadStats() {
    return Promise.all([api('GET', 'stats'), state.triggers.size ? null : loadTriggerIndex()]).then(function (results) {
      var stats = results[0];
      var jobs = stats.jobs || {};
      var total = STATUS_ORDER.reduce(function (s, k) { return s + (jobs[k] || 0); }, 0);
      var done = (jobs.succeeded || 0) + (jobs.failed || 0);
      append(clear($('stats-cards')), [
        card('Jobs', String(total)), card('Succeeded', String(jobs.succeeded || 0)), card('Failed', String(jobs.failed || 0)),
        card('Running', String(jobs.running || 0)), card('Pending', String(jobs.pending || 0)),
        card('Success rate', done ? (100 * (jobs.succeeded || 0) / done).toFixed(1) + ' %' : '—')
      ]);
      var statusRows = STATUS_ORDER.map(function (k) { return { label: k, values: [{ key: k, value: jobs[k] || 0 }] }; });
      append(clear($('chart-status')), barChart($('chart-status'), statusRows, {}));
      $('chart-status').setAttribute('aria-label', 'Jobs per status: ' + STATUS_ORDER.map(function (k) { return k + ' ' + (jobs[k] || 0); }).join(', '));

      var ids = Object.keys(stats.triggers || {}).sort(function (a, b) { return triggerName(a).localeCompare(triggerName(b)); });
      var outcome = ids.map(function (tid) { var t = stats.triggers[tid]; return { label: triggerName(tid), values: [{ key: 'succeeded', value: t.succeeded }, { key: 'failed', value: t.failed }] }; });
      append(clear($('chart-outcome')), barChart($('chart-outcome'), outcome, { stacked: true }));
      $('chart-outcome').setAttribute('aria-label', 'Outcomes per trigger: ' + ids.map(function (tid) { return triggerName(tid) + ' ' + stats.triggers[tid].succeeded + ' succeeded, ' + stats.triggers[tid].failed + ' failed'; }).join('; '));
      legend($('chart-outcome-legend'), ['succeeded', 'failed'], { succeeded: 'Succeeded', failed: 'Failed' });

      var timed = ids.filter(function (tid) { return stats.triggers[tid].p50DurationMs !== null; });
      var durations = timed.map(function (tid) { var t = stats.triggers[tid]; return { label: triggerName(tid), values: [{ key: 'p50', value: t.p50DurationMs }, { key: 'p95', value: t.p95DurationMs }] }; });
      append(clear($('chart-duration')), barChart($('chart-duration'), durations, { rowHeight: 34, tick: W.formatDuration }));
      $('chart-duration').setAttribute('aria-label', 'Durations per trigger: ' + timed.map(function (tid) { return triggerName(tid) + ' p50 ' + W.formatDuration(stats.triggers[tid].p50DurationMs) + ', p95 ' + W.formatDuration(stats.triggers[tid].p95DurationMs); }).join('; '));
      legend($('chart-duration-legend'), ['p50', 'p95'], { p50: 'p50 (median)', p95: 'p95' });
    }).catch(failed);
  }

  $('stats-refresh').addEventListener('click', function () { loadStats(); });

  // ---------------------------------------------------------------- live events (fetch streaming)

  function setLive(mode, text) {
    var node = $('live');
    node.setAttribute('data-state', mode);
    node.textContent = text;
  }

  function stopStream() {
    if (state.stream) { state.stream.stopped = true; state.stream.controller.abort(); state.stream = null; }
  }

  /**
   * The API's 'events' stream read with fetch rather than EventSource, because EventSource cannot
   * send the Authorization header. Reconnects with a growing delay (1 s up to 15 s).
   */
  function connectStream(delay) {
    var stream = { controller: new AbortController(), stopped: false };
    state.stream = stream;
    var retry = function (reason) {
      if (stream.stopped) return;
      var next = Math.min((delay || 500) * 2, 15000);
      setLive('error', 'Reconnecting…');
      if (reason) $('live').setAttribute('title', reason);
      setTimeout(function () { if (!stream.stopped) connectStream(next); }, next);
    };
    fetch('api/events', { headers: requestHeaders({ Accept: 'text/event-stream' }), signal: stream.controller.signal, cache: 'no-store', credentials: 'same-origin' })
      .then(function (res) {
        if (res.status === 401 && AUTH === 'jwt') { stream.stopped = true; showLogin('the event stream refused the token'); return; }
        if (!res.ok || !res.body) { retry('HTTP ' + res.status); return; }
        setLive('live', 'Live');
        $('live').removeAttribute('title');
        var reader = res.body.getReader();
        var decoder = new TextDecoder();
        var buffer = '';
        var pump = function () {
          return reader.read().then(function (chunk) {
            if (chunk.done) { retry('stream ended'); return; }
            buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, '\n');
            var end;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              dispatchBlock(buffer.slice(0, end));
              buffer = buffer.slice(end + 2);
            }
            return pump();
          });
        };
        return pump();
      })
      .catch(function (err) { if (!stream.stopped) retry(err && err.message); });
  }

  function dispatchBlock(block) {
    var type = 'message';
    var data = [];
    block.split('\n').forEach(function (line) {
      if (!line || line.charAt(0) === ':') return;
      var colon = line.indexOf(':');
      var field = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    });
    if (!data.length) return;
    var record;
    try { record = JSON.parse(data.join('\n')); } catch (e) { console.warn('dashboard: event "' + type + '" with data that is not JSON', e); return; }
    if (type === 'job' && record && record.id) { rememberStreamed(record); upsertJob(record, false); }
    else if (type === 'trigger' && record && record.id) updateTriggerRow(record);
    else if (type === 'trigger-removed' && record && record.id) dropTriggerRow(record.id);
  }

  // ---------------------------------------------------------------- health

  function loadHealth() {
    return api('GET', 'health').then(function (h) {
      var node = $('health');
      node.hidden = false;
      node.className = 'badge s-' + (h.status === 'ok' ? 'succeeded' : h.status === 'degraded' ? 'missed' : 'skipped');
      node.textContent = h.instanceId + ': ' + h.status + (h.members > 1 ? ' · ' + h.members + ' instances' : '');
      // Work no live instance can run (health().unhandled): name the handlers, or it waits unseen.
      var unhandled = h.unhandled || [];
      if (unhandled.length > 0) {
        node.className = 'badge s-missed';
        node.textContent += ' · no live instance runs ' + unhandled.map(function (u) {
          return u.handler + ' (' + u.pendingJobs + ' pending, ' + u.activeTriggers + ' active triggers)';
        }).join(', ');
      }
      IBAlerts.fromHealth(h);
    }).catch(function (err) {
      if (err && err.status === 401) { failed(err); return; }
      // Shown, not thrown: the rest of the page may still work (a store that does not answer).
      var node = $('health');
      node.hidden = false;
      node.className = 'badge s-failed';
      node.textContent = 'health: ' + ((err && err.message) || 'unreachable');
    });
  }

  // ---------------------------------------------------------------- start

  function start() {
    state.started = true;
    $('jobs-zone').textContent = 'Times are in your browser\'s zone, ' + BROWSER_ZONE + ' (' + zoneLabel(new Date().toISOString()) + ').';
    $('sign-out').hidden = AUTH !== 'jwt';
    stopStream();
    connectStream(500);
    loadHealth();
    clearInterval(start.healthTimer);
    start.healthTimer = setInterval(loadHealth, 15000);
    loadTriggerIndex().then(route, failed);
  }

  if (AUTH === 'jwt' && !token()) showLogin(null); else start();
})();
`;
