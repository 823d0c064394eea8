/**
 * Logging port, shaped like pino's so a pino (or compatible) logger can be passed as it is.
 */

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** The logging port. Each method takes fields first and an optional message, like pino. */
export interface Logger {
  /** Diagnostic detail. */
  debug(fields: LogFields, message?: string): void;
  /** Normal operation. */
  info(fields: LogFields, message?: string): void;
  /** Something went wrong but the scheduler carries on. */
  warn(fields: LogFields, message?: string): void;
  /** An operation failed. */
  error(fields: LogFields, message?: string): void;
}

/** Logger that drops everything: the default, so an embedded scheduler never writes to stdout. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Logger that writes one JSON line per call to the console, for examples and debugging. */
export function consoleLogger(level: 'debug' | 'info' | 'warn' | 'error' = 'info'): Logger {
  const order = ['debug', 'info', 'warn', 'error'] as const;
  const min = order.indexOf(level);
  const write =
    (lvl: (typeof order)[number]) =>
    (fields: LogFields, message?: string): void => {
      if (order.indexOf(lvl) < min) return;
      const line = JSON.stringify({ level: lvl, time: new Date().toISOString(), msg: message, ...fields });
      if (lvl === 'error' || lvl === 'warn') console.error(line);
      else console.log(line);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
