import { describe, expect, it } from 'vitest';
import { PermanentJobError } from '../../../src/errors.js';
import { serializeError } from '../../../src/runners/protocol.js';
import { reviveError } from '../../../src/runners/worker-outcome.js';

describe('error transport between threads', () => {
  it('keeps name, message, code, stack and the cause chain', () => {
    const cause = Object.assign(new Error('root'), { code: 42 });
    const error = Object.assign(new TypeError('outer', { cause }), { code: 'E_OUTER' });
    const revived = reviveError(serializeError(error)) as Error & { code?: string; cause?: unknown };
    expect(revived).toMatchObject({ name: 'TypeError', message: 'outer', code: 'E_OUTER' });
    expect(revived.stack).toBe(error.stack);
    expect(revived.cause).toMatchObject({ name: 'Error', message: 'root', code: '42' });
  });

  it('rebuilds PermanentJobError by name or by code', () => {
    const byName = reviveError({ name: 'PermanentJobError', message: 'm', code: null, stack: 'S', cause: null });
    expect(byName).toBeInstanceOf(PermanentJobError);
    expect(byName).toMatchObject({ name: 'PermanentJobError', code: 'ERR_PERMANENT_JOB', message: 'm', stack: 'S' });
    const byCode = reviveError({ name: 'Custom', message: 'm', code: 'ERR_PERMANENT_JOB', stack: null, cause: null });
    expect(byCode).toBeInstanceOf(PermanentJobError);
    expect(byCode.name).toBe('Custom');
    expect(byCode.stack).toBe('Custom: m');
  });

  it('describes thrown non-errors and survives hostile errors', () => {
    expect(serializeError('text')).toMatchObject({ name: 'Error', message: 'non-error value thrown: text' });
    expect(serializeError({ a: 1 }).message).toBe('non-error value thrown: {"a":1}');
    const hostile = new Error('h');
    Object.defineProperty(hostile, 'code', {
      get() {
        throw new Error('getter');
      },
    });
    expect(serializeError(hostile)).toMatchObject({ message: 'h', code: null });
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(serializeError(cyclic).message).toBe('non-error value thrown: [object Object]');
  });

  it('cuts long cause chains', () => {
    let error = new Error('0');
    for (let i = 1; i < 10; i++) error = new Error(String(i), { cause: error });
    let depth = 0;
    for (let s = serializeError(error); s.cause !== null; s = s.cause) depth++;
    expect(depth).toBe(4);
  });
});
