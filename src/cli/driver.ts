/**
 * Loading the MongoDB driver on demand. `mongodb` is an optional peer dependency: an app that uses
 * only the memory backend does not have it, and the CLI's store-free commands must still work, so
 * it is imported here, by the commands that need it, rather than at the top of the CLI.
 */

/** The driver could not be found: the message says what to install, in one line. */
export class DriverMissingError extends Error {
  constructor() {
    super('this command reads a MongoDB store and needs the MongoDB driver: run "npm install mongodb" (version 7 or later) in your app');
    this.name = 'DriverMissingError';
  }
}

/** Whether `err` says the `mongodb` package itself is missing (not one of its own dependencies). */
function isMissingDriver(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  // Node names the package it could not find: "Cannot find package 'mongodb' imported from …" (ESM)
  // or "Cannot find module 'mongodb'" (CJS). Anything else is another failure, reported as it is.
  return typeof message === 'string' && /['"]mongodb['"]/.test(message);
}

/**
 * Import `mongodb`.
 *
 * @throws DriverMissingError when the package is not installed
 */
export async function loadDriver(): Promise<typeof import('mongodb')> {
  try {
    return await import('mongodb');
  } catch (err) {
    if (isMissingDriver(err)) throw new DriverMissingError();
    throw err;
  }
}
