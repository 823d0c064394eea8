/**
 * The dashboard's words: a schedule described in English, times with their zone, durations, byte
 * counts. Pure (no DOM, only `Intl`), so the tests import it in Node as it is bundled.
 */
import type { Wire } from '../../management/types.js';
import type { NormalizedSchedule } from '../../types.js';

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_ABBR = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];
const MONTH_ABBR = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

function pad2(n: number): string { return n < 10 ? `0${n}` : String(n); }

/** 'a', 'a and b', 'a, b and c'. */
function joinWords(list: readonly string[]): string {
  if (list.length <= 1) return list.join('');
  return `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}

function ordinal(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  const mod10 = n % 10;
  return n + (mod10 === 1 ? 'st' : mod10 === 2 ? 'nd' : mod10 === 3 ? 'rd' : 'th');
}

function plural(n: number, word: string): string { return n === 1 ? word : `${n} ${word}s`; }

/** A field value as a number, with month and day names allowed; NaN when it is not one. */
function fieldNumber(text: string, names: readonly string[] | null): number {
  if (/^\d+$/.test(text)) return Number(text);
  const i = names ? names.indexOf(text.toUpperCase()) : -1;
  return i >= 0 ? i + (names === MONTH_ABBR ? 1 : 0) : NaN;
}

/**
 * Words for one cron field: `name` maps a number to its word ('Monday', '09', ...). Returns null
 * when the field uses syntax this describer does not know (L, W, #, ?), so the caller falls back.
 */
function fieldWords(text: string, names: readonly string[] | null, name: (n: number) => string): string | null {
  const words: string[] = [];
  for (const part of text.split(',')) {
    const m = /^([^-/]+)-([^-/]+)$/.exec(part);
    if (m) {
      const a = fieldNumber(m[1]!, names);
      const b = fieldNumber(m[2]!, names);
      if (isNaN(a) || isNaN(b)) return null;
      words.push(`${name(a)} to ${name(b)}`);
      continue;
    }
    const n = fieldNumber(part, names);
    if (isNaN(n)) return null;
    words.push(name(n));
  }
  return joinWords(words);
}

function isNumber(text: string): boolean { return /^\d+$/.test(text); }
function stepOf(text: string): number | null { const m = /^\*\/(\d+)$/.exec(text); return m ? Number(m[1]) : null; }

function dayName(n: number): string { return DAY_NAMES[n % 7] ?? String(n); }
function monthName(n: number): string { return MONTH_NAMES[n - 1] ?? String(n); }

/** The time-of-day part of a cron expression, or null when it is not a common shape. */
function timeWords(sec: string, min: string, hour: string): string | null {
  const secStep = stepOf(sec);
  let prefix = '';
  if (sec === '*') return hour === '*' && min === '*' ? 'every second' : null;
  if (secStep !== null) {
    if (min === '*' && hour === '*') return `every ${plural(secStep, 'second')}`;
    return null;
  }
  if (!isNumber(sec)) return null;
  if (sec !== '0') prefix = ` and ${plural(Number(sec), 'second')}`;
  const minStep = stepOf(min);
  if (min === '*' && hour === '*') return sec === '0' ? 'every minute' : `every minute at second ${sec}`;
  if (minStep !== null && hour === '*') return `every ${plural(minStep, 'minute')}${prefix}`;
  if (isNumber(min) && hour === '*') {
    return (min === '0' ? 'every hour, on the hour' : `every hour at ${plural(Number(min), 'minute')} past`) + prefix;
  }
  const hourStep = stepOf(hour);
  if (isNumber(min) && hourStep !== null) return `every ${plural(hourStep, 'hour')} at minute ${min}${prefix}`;
  if (isNumber(min) && /^[\d,]+$/.test(hour)) {
    const secText = sec === '0' ? '' : `:${pad2(Number(sec))}`;
    return joinWords(hour.split(',').map((h) => `at ${pad2(Number(h))}:${pad2(Number(min))}${secText}`));
  }
  if (isNumber(min) && /^\d+-\d+$/.test(hour)) {
    const [from = '', to = ''] = hour.split('-');
    return `every hour from ${pad2(Number(from))}:${pad2(Number(min))} to ${pad2(Number(to))}:${pad2(Number(min))}${prefix}`;
  }
  if (minStep !== null && /^\d+-\d+$/.test(hour)) {
    const [from = '', to = ''] = hour.split('-');
    return `every ${plural(minStep, 'minute')} between ${pad2(Number(from))}:00 and ${pad2(Number(to))}:59`;
  }
  return null;
}

/**
 * A cron expression in words, e.g. '0 9 * * MON-FRI' -> 'at 09:00, Monday to Friday'. Anything
 * unusual falls back to 'cron <expression>' rather than a wrong sentence.
 */
export function describeCron(expression: string): string {
  const text = String(expression).trim();
  const expanded = MACROS[text.toLowerCase()] ?? text;
  const f = expanded.split(/\s+/);
  if (f.length === 5) f.unshift('0');
  const [sec, min, hour, dom, month, dow] = f;
  if (f.length !== 6 || sec === undefined || min === undefined || hour === undefined || dom === undefined || month === undefined || dow === undefined) {
    return `cron ${text}`;
  }
  const time = timeWords(sec, min, hour);
  if (time === null) return `cron ${text}`;
  const parts = [time];
  const dowStar = dow === '*' || dow === '?';
  const domStar = dom === '*' || dom === '?';
  if (!domStar) {
    const days = fieldWords(dom, null, ordinal);
    if (days === null) return `cron ${text}`;
    parts.push(`on the ${days} of the month`);
  }
  if (!dowStar) {
    const weekdays = fieldWords(dow, DAY_ABBR, dayName);
    if (weekdays === null) return `cron ${text}`;
    // Vixie cron semantics: with both day fields set, either one matching fires.
    parts.push((domStar ? '' : 'or ') + (/ to /.test(weekdays) ? weekdays : `on ${weekdays}`));
  }
  if (month !== '*') {
    const months = fieldWords(month, MONTH_ABBR, monthName);
    if (months === null) return `cron ${text}`;
    parts.push(`in ${months}`);
  }
  if (domStar && dowStar && month === '*' && /^at /.test(time)) parts.push('every day');
  return parts.join(', ');
}

const UNITS: readonly (readonly [number, string])[] = [[86400000, 'day'], [3600000, 'hour'], [60000, 'minute'], [1000, 'second']];

/** Milliseconds as the largest whole unit that divides them: 90000 -> '90 seconds', 3600000 -> '1 hour'. */
export function intervalWords(ms: number): string {
  for (const [size, unit] of UNITS) if (ms % size === 0) return plural(ms / size, unit);
  return `${ms} ms`;
}

const ON_WORDS: Readonly<Record<string, string>> = { success: 'succeeds', failure: 'fails', completion: 'finishes' };

/**
 * A stored (normalized) schedule in words. `localTime` formats an ISO instant for one-shot
 * schedules (the page passes its own date formatter).
 */
export function describeSchedule(schedule: Wire<NormalizedSchedule> | null | undefined, localTime?: (iso: string) => string): string {
  if (!schedule || typeof schedule !== 'object') return 'unknown schedule';
  switch (schedule.kind) {
    case 'cron': return describeCron(schedule.cron);
    case 'every': return `every ${intervalWords(Number(schedule.every))}`;
    case 'at': return `once, ${localTime ? localTime(schedule.at) : String(schedule.at)}`;
    case 'manual': return 'manually (run now only)';
    case 'event': {
      const filter = Object.entries(schedule.filter ?? {}).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
      return `on event "${schedule.event}"${filter.length ? ` where ${joinWords(filter)}` : ''}`;
    }
    case 'after': return `when "${schedule.after}" ${ON_WORDS[schedule.on] ?? schedule.on}`;
    default: return 'unknown schedule';
  }
}

/** A duration for a table cell: '850 ms', '12.3 s', '4 min 05 s', '2 h 10 min'. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || isNaN(ms)) return '—';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 60000) return `${(ms / 1000).toFixed(abs < 10000 ? 2 : 1)} s`;
  if (abs < 3600000) return `${Math.floor(ms / 60000)} min ${pad2(Math.round((ms % 60000) / 1000))} s`;
  return `${Math.floor(ms / 3600000)} h ${pad2(Math.round((ms % 3600000) / 60000))} min`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB'];

/** Bytes for a metric: '512 B', '1.5 KiB', '23.4 MiB'; negative heap growth keeps its sign. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || isNaN(n)) return '—';
  let abs = Math.abs(n);
  let i = 0;
  while (abs >= 1024 && i < BYTE_UNITS.length - 1) { abs /= 1024; i++; }
  const text = i === 0 ? String(abs) : abs.toFixed(abs < 10 ? 2 : 1);
  return `${n < 0 ? '−' : ''}${text} ${BYTE_UNITS[i]}`;
}

/** 'in 5 min', '3 h ago' relative to `now` (ms). */
export function relativeTime(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (isNaN(t)) return '';
  const d = t - now;
  const abs = Math.abs(d);
  if (abs < 45000) return d >= 0 ? 'in a few seconds' : 'just now';
  const text = abs < 3600000 ? `${Math.round(abs / 60000)} min` : abs < 86400000 ? `${Math.round(abs / 3600000)} h` : `${Math.round(abs / 86400000)} d`;
  return d >= 0 ? `in ${text}` : `${text} ago`;
}

/** One `Intl.DateTimeFormat` per zone and kind: building one is slow, and a table formats hundreds of times. */
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The first of `options` that `Intl` accepts (an unknown zone throws), memoized under `key`. */
function cachedFormat(key: string, locale: string, options: readonly Intl.DateTimeFormatOptions[]): Intl.DateTimeFormat {
  let f = formatters.get(key);
  if (f) return f;
  for (const option of options) {
    try { f = new Intl.DateTimeFormat(locale, option); break; } catch { /* try the next, simpler one */ }
  }
  f ??= new Intl.DateTimeFormat(locale);
  formatters.set(key, f);
  return f;
}

function zoned(options: Intl.DateTimeFormatOptions, zone: string | null | undefined): Intl.DateTimeFormatOptions {
  return zone ? { ...options, timeZone: zone } : options;
}

function timeFormatter(zone: string | null | undefined): Intl.DateTimeFormat {
  const options: Intl.DateTimeFormatOptions = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
  return cachedFormat(`t:${zone ?? ''}`, 'en-CA', [zoned(options, zone), { hourCycle: 'h23' }]);
}

function offsetFormatter(zone: string | null | undefined): Intl.DateTimeFormat {
  return cachedFormat(`o:${zone ?? ''}`, 'en-US', [
    zoned({ timeZoneName: 'shortOffset' }, zone),
    zoned({ timeZoneName: 'short' }, zone),
    { timeZoneName: 'short' },
  ]);
}

/** 'YYYY-MM-DD HH:mm:ss' in `zone` (the browser's zone when omitted). */
export function fmtTime(iso: string | null | undefined, zone?: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso);
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const p of timeFormatter(zone).formatToParts(d)) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/** The browser's own IANA zone (the one times without a zone are shown in). */
export function browserZone(): string { return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; }

/** The UTC offset of `zone` at `iso` ('UTC', 'UTC+1', 'UTC-5', 'UTC+5:30'): DST moves it, so it is per instant. */
export function zoneLabel(iso: string, zone?: string | null): string {
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  const name = offsetFormatter(zone).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '';
  return name.replace(/^GMT/, 'UTC');
}

/**
 * 'YYYY-MM-DD HH:mm:ss UTC+1': every time on the page says which zone it is in. A narrow
 * column may break the line after the date only (no-break space before the zone).
 */
export function fmtZoned(iso: string | null | undefined, zone?: string | null): string {
  if (!iso) return '—';
  const label = zoneLabel(iso, zone);
  return fmtTime(iso, zone) + (label ? `\u00a0${label}` : '');
}
