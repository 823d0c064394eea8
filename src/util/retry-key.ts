/**
 * The idempotency key of a job made by `Scheduler.retryJob`: `retry:<original job id>:<new id>`.
 *
 * The key is the one field of a job the engine leaves free-form, so the link to the original job
 * lives there without a new stored field (records stay the same on every backend). The new id
 * keeps the keys apart when the same failed job is retried more than once.
 */

const PREFIX = 'retry:';

/** The key of a retry of job `originalId`, made unique by `uniqueId`. */
export function retryKey(originalId: string, uniqueId: string): string {
  return `${PREFIX}${originalId}:${uniqueId}`;
}

/**
 * The id of the job that `key` retries, or `null` when the key is not a retry's. The unique suffix
 * is a `newId()` (hex and dashes, never a `:`), so the last `:` ends the original id.
 */
export function retryOfKey(key: string): string | null {
  if (!key.startsWith(PREFIX)) return null;
  const end = key.lastIndexOf(':');
  return end > PREFIX.length ? key.slice(PREFIX.length, end) : null;
}
