import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../src/errors.js';
import { assertTransition, canTransition, isFinal, sourcesOf } from '../../src/engine/job-state.js';
import type { JobStatus } from '../../src/types.js';

const all: JobStatus[] = ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'];
const legal = new Set([
  'pending>running',
  'pending>cancelled',
  'pending>skipped',
  'running>succeeded',
  'running>failed',
  'running>cancelled',
  'running>pending',
  'running>skipped',
]);

describe('job status machine', () => {
  it('allows exactly the documented transitions', () => {
    for (const from of all) {
      for (const to of all) {
        const expected = legal.has(`${from}>${to}`);
        expect(canTransition(from, to), `${from} -> ${to}`).toBe(expected);
        if (expected) expect(() => assertTransition(from, to)).not.toThrow();
        else expect(() => assertTransition(from, to, 'j1')).toThrow(IllegalTransitionError);
      }
    }
  });

  it('illegal transitions carry a stable code and name both states', () => {
    try {
      assertTransition('succeeded', 'running', 'job-7');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(IllegalTransitionError);
      const e = error as IllegalTransitionError;
      expect(e.code).toBe('ERR_ILLEGAL_TRANSITION');
      expect(e.message).toContain('succeeded -> running');
      expect(e.message).toContain('job-7');
    }
  });

  it('final statuses have no way out, and sourcesOf lists predecessors', () => {
    expect(all.filter(isFinal)).toEqual(['succeeded', 'failed', 'cancelled', 'skipped']);
    expect(sourcesOf('running')).toEqual(['pending']);
    expect(sourcesOf('cancelled').sort()).toEqual(['pending', 'running']);
    expect(sourcesOf('pending')).toEqual(['running']);
  });
});
