/**
 * Durations: intervals and delays are stored as integer milliseconds, but people write them as
 * `'30s'` or `'1h30m'`. Parsing is strict so that a typo fails when the trigger is added instead of
 * silently becoming a different interval.
 */
import { InvalidTriggerConfigError } from '../errors.js';
import { describe } from './describe.js';

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;

/** Units in the only order they may appear, so `'30m1h'` is read as the typo it probably is. */
const UNIT_ORDER: readonly Unit[] = ['d', 'h', 'm', 's', 'ms'];

// `ms` must be tried before `m`, hence the alternation order.
const PART = /(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)\s*/y;

/**
 * Parse an interval given as milliseconds or as a duration string.
 *
 * Numbers are milliseconds and must be positive safe integers. Strings combine parts with the units
 * `d`, `h`, `m`, `s`, `ms`, largest first, each at most once: `'250ms'`, `'30s'`, `'1h30m'`,
 * `'1.5h'`. The total must be a positive whole number of milliseconds.
 *
 * @param value what the caller gave
 * @param field dotted path named in the error
 * @returns the duration in milliseconds
 * @throws InvalidTriggerConfigError when the value is not a positive whole number of milliseconds
 */
export function parseDuration(value: number | string, field: string): number {
  if (typeof value === 'number') return checkMs(value, field, String(value));
  if (typeof value !== 'string') {
    throw new InvalidTriggerConfigError(field, `expected milliseconds or a duration such as '30s', got ${describe(value)}`);
  }
  const text = value.trim();
  if (text === '') throw new InvalidTriggerConfigError(field, 'must not be empty');
  if (/^\d+(?:\.\d+)?$/.test(text)) {
    throw new InvalidTriggerConfigError(field, `"${value}" has no unit; pass a number for milliseconds or add ms, s, m, h or d`);
  }
  let total = 0;
  let lastUnit = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const match = PART.exec(text);
    if (!match || match.index !== at) {
      throw new InvalidTriggerConfigError(field, `"${value}" is not a duration (expected e.g. '250ms', '30s', '5m', '2h', '1d', '1h30m')`);
    }
    const unit = match[2] as Unit;
    const rank = UNIT_ORDER.indexOf(unit);
    if (rank <= lastUnit) {
      throw new InvalidTriggerConfigError(field, `"${value}": units must appear once each, largest first`);
    }
    lastUnit = rank;
    total += Number(match[1]) * UNIT_MS[unit];
  }
  // Decimal parts are summed in floating point; snap values within float noise of a whole number.
  const rounded = Math.round(total);
  return checkMs(Math.abs(total - rounded) < 1e-6 ? rounded : total, field, `"${value}"`);
}

function checkMs(ms: number, field: string, shown: string): number {
  if (!Number.isFinite(ms)) throw new InvalidTriggerConfigError(field, `${shown} is not a finite duration`);
  if (ms <= 0) throw new InvalidTriggerConfigError(field, `${shown} must be greater than 0`);
  if (!Number.isInteger(ms)) throw new InvalidTriggerConfigError(field, `${shown} is not a whole number of milliseconds`);
  if (!Number.isSafeInteger(ms)) throw new InvalidTriggerConfigError(field, `${shown} is too large`);
  return ms;
}
