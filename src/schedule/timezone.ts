/**
 * Time zones are IANA names resolved by the platform's Intl data (through luxon), so a zone is
 * valid exactly when the runtime can compute its offsets.
 */
import { IANAZone } from 'luxon';
import { InvalidTriggerConfigError } from '../errors.js';
import { describe } from './describe.js';

/**
 * Check that `zone` is an IANA time zone name the runtime knows (`'UTC'` included).
 *
 * @param zone zone name such as `'Europe/Berlin'`
 * @param field dotted path named in the error
 * @throws InvalidTriggerConfigError naming the zone when it is unknown or not a string
 */
export function assertTimeZone(zone: string, field: string): void {
  // Callers are untrusted JS, so the declared type is not a guarantee.
  const value: unknown = zone;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidTriggerConfigError(field, `expected an IANA time zone name, got ${describe(value)}`);
  }
  if (!IANAZone.isValidZone(value)) {
    throw new InvalidTriggerConfigError(field, `unknown time zone "${value}"`);
  }
}

/**
 * Offset of `zone` from UTC at `epochMs`, in milliseconds (positive east of Greenwich).
 *
 * @param zone a zone that passed {@link assertTimeZone}
 * @param epochMs instant
 */
export function zoneOffsetMs(zone: string, epochMs: number): number {
  return IANAZone.create(zone).offset(epochMs) * 60_000;
}
