/**
 * Clock skew against the database server.
 */
import type { Db } from 'mongodb';
import { StoreError } from '../../errors.js';

/**
 * Server time minus local system time (`Date.now()`) in ms, from one `hello` round trip (MongoDB
 * and FerretDB both report `localTime`). Positive: the server is ahead.
 */
export async function measureClockOffset(db: Db): Promise<number> {
  const before = Date.now();
  const reply = await db.command({ hello: 1 });
  const after = Date.now();
  const serverTime: unknown = reply['localTime'];
  if (!(serverTime instanceof Date)) throw new StoreError('the server did not report its time (no localTime in the hello reply)');
  // The server read its clock somewhere in the round trip; the midpoint halves the worst-case error.
  return Math.round(serverTime.getTime() - (before + after) / 2);
}
