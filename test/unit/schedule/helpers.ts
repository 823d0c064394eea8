import { expect } from 'vitest';
import { InvalidTriggerConfigError } from '../../../src/errors.js';

/** Run `fn`, assert it throws an `InvalidTriggerConfigError`, and return the error. */
export function configError(fn: () => unknown): InvalidTriggerConfigError {
  let thrown: unknown = null;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidTriggerConfigError);
  const err = thrown as InvalidTriggerConfigError;
  expect(err.code).toBe('ERR_INVALID_TRIGGER_CONFIG');
  expect(err.message.startsWith(`${err.field}: `)).toBe(true);
  return err;
}
