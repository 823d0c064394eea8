/**
 * Fits the loggers apps already have to the `Logger` port, each called the way it expects:
 * pino (and any logger shaped like the port) takes `(fields, message)` and is used as it is;
 * winston takes `(message, meta)`; the console takes `(...args)` and gets the message first.
 */
import { Console } from 'node:console';
import { InvalidTriggerConfigError } from './errors.js';
import type { LogFields, Logger } from './logger.js';

/**
 * One log method of any of the accepted loggers. `never[]` parameters let pino's, winston's and
 * the console's own overloaded signatures be passed as they are; the adapter decides how each is called.
 */
export type LogMethodLike = (...args: never[]) => unknown;

/** A logger with the four levels, whatever its call signature: pino, winston, `console`, or the port itself. */
export interface LoggerLike {
  /** Diagnostic detail. */
  debug: LogMethodLike;
  /** Normal operation. */
  info: LogMethodLike;
  /** Something went wrong but the scheduler carries on. */
  warn: LogMethodLike;
  /** An operation failed. */
  error: LogMethodLike;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];
type Call = (...args: unknown[]) => unknown;

/**
 * The port over a given logger. Throws `InvalidTriggerConfigError` naming `field` when the value
 * lacks one of the four level methods.
 */
export function toLogger(value: LoggerLike, field = 'logger'): Logger {
  if (typeof value !== 'object' || value === null) throw new InvalidTriggerConfigError(field, 'must be an object with debug, info, warn and error methods');
  for (const level of LEVELS) {
    if (typeof value[level] !== 'function') throw new InvalidTriggerConfigError(field, `must have a ${level} method (pino, winston, console or the Logger port)`);
  }
  if (isConsole(value)) return adapt(value, (call, fields, message) => (message === undefined ? call(fields) : call(message, fields)));
  if (isWinston(value)) return adapt(value, (call, fields, message) => call(message ?? '', fields));
  // pino and the port itself: fields first, message second. Called as methods, since pino's
  // level methods read their logger from `this`.
  return value;
}

function adapt(value: LoggerLike, shape: (call: Call, fields: LogFields, message: string | undefined) => unknown): Logger {
  const method = (level: Level) => {
    const call: Call = (...args) => (value[level] as Call).apply(value, args);
    return (fields: LogFields, message?: string): void => {
      shape(call, fields, message);
    };
  };
  return { debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') };
}

function isConsole(value: LoggerLike): boolean {
  return value === globalThis.console || value instanceof Console;
}

/**
 * winston's loggers carry their `transports` and a `log(level, message, meta)`; pino's carry
 * neither (pino has `levels` and `child`).
 */
function isWinston(value: LoggerLike): boolean {
  const candidate = value as { transports?: unknown; log?: unknown };
  return typeof candidate.log === 'function' && Array.isArray(candidate.transports);
}
