/**
 * Browser script (vanilla ES2020, no modules): `IBWords`, the pure helpers of the page that turn
 * records into words — a schedule described in English, times with their zone, durations, byte
 * counts. Kept apart from the DOM code so it can be run and tested in Node (`vm`) as the very text
 * the browser gets.
 *
 * Written inside `String.raw` so backslashes reach the browser unchanged; the text must contain no
 * backtick and no dollar-brace pair.
 */
export const SCHEDULE_WORDS_JS = String.raw`
var IBWords = (function () {
  'use strict';
  var DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  var DAY_ABBR = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
  var MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
    'September', 'October', 'November', 'December'];
  var MONTH_ABBR = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
  var MACROS = {
    '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *',
    '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *'
  };

  function pad2(n) { return n < 10 ? '0' + n : String(n); }

  /** 'a', 'a and b', 'a, b and c'. */
  function joinWords(list) {
    if (list.length <= 1) return list.join('');
    return list.slice(0, -1).join(', ') + ' and ' + list[list.length - 1];
  }

  function ordinal(n) {
    var mod100 = n % 100;
    if (mod100 >= 11 && mod100 <= 13) return n + 'th';
    var mod10 = n % 10;
    return n + (mod10 === 1 ? 'st' : mod10 === 2 ? 'nd' : mod10 === 3 ? 'rd' : 'th');
  }

  function plural(n, word) { return n === 1 ? word : n + ' ' + word + 's'; }

  /** A field value as a number, with month and day names allowed; NaN when it is not one. */
  function fieldNumber(text, names) {
    if (/^\d+$/.test(text)) return Number(text);
    var i = names ? names.indexOf(text.toUpperCase()) : -1;
    return i >= 0 ? i + (names === MONTH_ABBR ? 1 : 0) : NaN;
  }

  /**
   * Words for one cron field: 'name' maps a number to its word ('Monday', '09', ...). Returns null
   * when the field uses syntax this describer does not know (L, W, #, ?), so the caller falls back.
   */
  function fieldWords(text, names, name) {
    var parts = text.split(',');
    var words = [];
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i];
      var m = /^([^-/]+)-([^-/]+)$/.exec(part);
      if (m) {
        var a = fieldNumber(m[1], names), b = fieldNumber(m[2], names);
        if (isNaN(a) || isNaN(b)) return null;
        words.push(name(a) + ' to ' + name(b));
        continue;
      }
      var n = fieldNumber(part, names);
      if (isNaN(n)) return null;
      words.push(name(n));
    }
    return joinWords(words);
  }

  function isNumber(text) { return /^\d+$/.test(text); }
  function stepOf(text) { var m = /^\*\/(\d+)$/.exec(text); return m ? Number(m[1]) : null; }

  function dayName(n) { return DAY_NAMES[n % 7] || String(n); }
  function monthName(n) { return MONTH_NAMES[n - 1] || String(n); }

  /** The time-of-day part of a cron expression, or null when it is not a common shape. */
  function timeWords(sec, min, hour) {
    var secStep = stepOf(sec);
    var prefix = '';
    if (sec === '*') return hour === '*' && min === '*' ? 'every second' : null;
    if (secStep !== null) {
      if (min === '*' && hour === '*') return 'every ' + plural(secStep, 'second');
      return null;
    }
    if (!isNumber(sec)) return null;
    if (sec !== '0') prefix = ' and ' + plural(Number(sec), 'second');
    var minStep = stepOf(min);
    if (min === '*' && hour === '*') return sec === '0' ? 'every minute' : 'every minute at second ' + sec;
    if (minStep !== null && hour === '*') return 'every ' + plural(minStep, 'minute') + prefix;
    if (isNumber(min) && hour === '*') {
      return (min === '0' ? 'every hour, on the hour' : 'every hour at ' + plural(Number(min), 'minute') + ' past') + prefix;
    }
    var hourStep = stepOf(hour);
    if (isNumber(min) && hourStep !== null) {
      return 'every ' + plural(hourStep, 'hour') + ' at minute ' + min + prefix;
    }
    if (isNumber(min) && /^[\d,]+$/.test(hour)) {
      var secText = sec === '0' ? '' : ':' + pad2(Number(sec));
      var times = hour.split(',').map(function (h) { return 'at ' + pad2(Number(h)) + ':' + pad2(Number(min)) + secText; });
      return joinWords(times);
    }
    if (isNumber(min) && /^\d+-\d+$/.test(hour)) {
      var range = hour.split('-');
      return 'every hour from ' + pad2(Number(range[0])) + ':' + pad2(Number(min)) + ' to ' +
        pad2(Number(range[1])) + ':' + pad2(Number(min)) + prefix;
    }
    if (minStep !== null && /^\d+-\d+$/.test(hour)) {
      var span = hour.split('-');
      return 'every ' + plural(minStep, 'minute') + ' between ' + pad2(Number(span[0])) + ':00 and ' +
        pad2(Number(span[1])) + ':59';
    }
    return null;
  }

  /**
   * A cron expression in words, e.g. '0 9 * * MON-FRI' -> 'at 09:00, Monday to Friday'. Anything
   * unusual falls back to 'cron <expression>' rather than a wrong sentence.
   */
  function describeCron(expression) {
    var text = String(expression).trim();
    var expanded = MACROS[text.toLowerCase()] || text;
    var f = expanded.split(/\s+/);
    if (f.length === 5) f.unshift('0');
    if (f.length !== 6) return 'cron ' + text;
    var time = timeWords(f[0], f[1], f[2]);
    if (time === null) return 'cron ' + text;
    var dom = f[3], month = f[4], dow = f[5];
    var parts = [time];
    var dowStar = dow === '*' || dow === '?';
    var domStar = dom === '*' || dom === '?';
    if (!domStar) {
      var days = fieldWords(dom, null, ordinal);
      if (days === null) return 'cron ' + text;
      parts.push('on the ' + days + ' of the month');
    }
    if (!dowStar) {
      var weekdays = fieldWords(dow, DAY_ABBR, dayName);
      if (weekdays === null) return 'cron ' + text;
      // Vixie cron semantics: with both day fields set, either one matching fires.
      parts.push((domStar ? '' : 'or ') + (/ to /.test(weekdays) ? weekdays : 'on ' + weekdays));
    }
    if (month !== '*') {
      var months = fieldWords(month, MONTH_ABBR, monthName);
      if (months === null) return 'cron ' + text;
      parts.push('in ' + months);
    }
    if (domStar && dowStar && month === '*' && /^at /.test(time)) parts.push('every day');
    return parts.join(', ');
  }

  /** Milliseconds as the largest whole unit that divides them: 90000 -> '90 seconds', 3600000 -> '1 hour'. */
  function intervalWords(ms) {
    var units = [[86400000, 'day'], [3600000, 'hour'], [60000, 'minute'], [1000, 'second']];
    for (var i = 0; i < units.length; i++) {
      if (ms % units[i][0] === 0) return plural(ms / units[i][0], units[i][1]);
    }
    return ms + ' ms';
  }

  var ON_WORDS = { success: 'succeeds', failure: 'fails', completion: 'finishes' };

  /**
   * A stored (normalized) schedule in words. 'localTime' formats an ISO instant for one-shot
   * schedules (the page passes its own date formatter).
   */
  function describeSchedule(schedule, localTime) {
    if (!schedule || typeof schedule !== 'object') return 'unknown schedule';
    switch (schedule.kind) {
      case 'cron': return describeCron(schedule.cron);
      case 'every': return 'every ' + intervalWords(Number(schedule.every));
      case 'at': return 'once, ' + (localTime ? localTime(schedule.at) : String(schedule.at));
      case 'manual': return 'manually (run now only)';
      case 'event': {
        var keys = schedule.filter ? Object.keys(schedule.filter) : [];
        var filter = keys.map(function (k) { return k + ' = ' + JSON.stringify(schedule.filter[k]); });
        return 'on event "' + schedule.event + '"' + (filter.length ? ' where ' + joinWords(filter) : '');
      }
      case 'after': return 'when "' + schedule.after + '" ' + (ON_WORDS[schedule.on] || schedule.on);
      default: return 'unknown schedule';
    }
  }

  /** A duration for a table cell: '850 ms', '12.3 s', '4 min 05 s', '2 h 10 min'. */
  function formatDuration(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) return '—';
    var abs = Math.abs(ms);
    if (abs < 1000) return Math.round(ms) + ' ms';
    if (abs < 60000) return (ms / 1000).toFixed(abs < 10000 ? 2 : 1) + ' s';
    if (abs < 3600000) return Math.floor(ms / 60000) + ' min ' + pad2(Math.round((ms % 60000) / 1000)) + ' s';
    return Math.floor(ms / 3600000) + ' h ' + pad2(Math.round((ms % 3600000) / 60000)) + ' min';
  }

  /** Bytes for a metric: '512 B', '1.5 KiB', '23.4 MiB'; negative heap growth keeps its sign. */
  function formatBytes(n) {
    if (n === null || n === undefined || isNaN(n)) return '—';
    var abs = Math.abs(n);
    var units = ['B', 'KiB', 'MiB', 'GiB'];
    var i = 0;
    while (abs >= 1024 && i < units.length - 1) { abs /= 1024; i++; }
    var text = i === 0 ? String(abs) : abs.toFixed(abs < 10 ? 2 : 1);
    return (n < 0 ? '−' : '') + text + ' ' + units[i];
  }

  /** 'in 5 min', '3 h ago' relative to 'now' (ms). */
  function relativeTime(iso, now) {
    var t = Date.parse(iso);
    if (isNaN(t)) return '';
    var d = t - now;
    var abs = Math.abs(d);
    var text;
    if (abs < 45000) return d >= 0 ? 'in a few seconds' : 'just now';
    if (abs < 3600000) text = Math.round(abs / 60000) + ' min';
    else if (abs < 86400000) text = Math.round(abs / 3600000) + ' h';
    else text = Math.round(abs / 86400000) + ' d';
    return d >= 0 ? 'in ' + text : text + ' ago';
  }

  var formatters = new Map();
  function formatter(zone) {
    var key = zone || '';
    var f = formatters.get(key);
    if (!f) {
      var opts = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
      if (zone) opts.timeZone = zone;
      try { f = new Intl.DateTimeFormat('en-CA', opts); } catch (e) { f = new Intl.DateTimeFormat('en-CA', { hourCycle: 'h23' }); }
      formatters.set(key, f);
    }
    return f;
  }

  /** 'YYYY-MM-DD HH:mm:ss' in 'zone' (the browser's zone when omitted). */
  function fmtTime(iso, zone) {
    if (!iso) return '—';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    var parts = {};
    formatter(zone).formatToParts(d).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + '-' + parts.month + '-' + parts.day + ' ' + parts.hour + ':' + parts.minute + ':' + parts.second;
  }

  /** The browser's own IANA zone (the one times without a zone are shown in). */
  function browserZone() { return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; }

  var offsetFormatters = new Map();
  function offsetFormatter(zone) {
    var key = zone || '';
    var f = offsetFormatters.get(key);
    if (!f) {
      var opts = { timeZoneName: 'shortOffset' };
      if (zone) opts.timeZone = zone;
      try { f = new Intl.DateTimeFormat('en-US', opts); } catch (e) { opts.timeZoneName = 'short'; try { f = new Intl.DateTimeFormat('en-US', opts); } catch (e2) { f = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }); } }
      offsetFormatters.set(key, f);
    }
    return f;
  }

  /** The UTC offset of 'zone' at 'iso' ('UTC', 'UTC+1', 'UTC-5', 'UTC+5:30'): DST moves it, so it is per instant. */
  function zoneLabel(iso, zone) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    var name = '';
    offsetFormatter(zone).formatToParts(d).forEach(function (p) { if (p.type === 'timeZoneName') name = p.value; });
    return name.replace(/^GMT/, 'UTC');
  }

  /**
   * 'YYYY-MM-DD HH:mm:ss UTC+1': every time on the page says which zone it is in. A narrow
   * column may break the line after the date only (no-break space before the zone).
   */
  function fmtZoned(iso, zone) {
    if (!iso) return '—';
    var label = zoneLabel(iso, zone);
    return fmtTime(iso, zone) + (label ? '\u00a0' + label : '');
  }

  return {
    fmtTime: fmtTime,
    zoneLabel: zoneLabel,
    fmtZoned: fmtZoned,
    browserZone: browserZone,
    describeCron: describeCron,
    describeSchedule: describeSchedule,
    intervalWords: intervalWords,
    formatDuration: formatDuration,
    formatBytes: formatBytes,
    relativeTime: relativeTime
  };
})();
`;
