/**
 * Two kinds of bad input: trigger input (schedules, policies, payloads, ids) is refused with
 * `InvalidTriggerConfigError` (`ERR_INVALID_TRIGGER_CONFIG`), every other argument (options,
 * handler registrations, list queries and cursors, event names, job ids) with its base class
 * `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`), so one `instanceof` catches both.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';
import { InvalidArgumentError, InvalidTriggerConfigError, SchedulerError } from '../../src/errors.js';
import { Scheduler } from '../../src/scheduler.js';
import type { Db } from 'mongodb';
import { decodeIdCursor, pageLimit } from '../../src/stores/cursor.js';
import { createMongoBackend } from '../../src/stores/mongo/backend.js';
import { collectionNames } from '../../src/stores/mongo/documents.js';

/** What `call` threw or rejected with (fails when it did neither). */
async function caught(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

async function expectArgument(call: () => unknown, field: string): Promise<void> {
  const error = await caught(call);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect(error).not.toBeInstanceOf(InvalidTriggerConfigError);
  expect(error).toMatchObject({ name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', field });
  expect((error as Error).message.startsWith(`${field}: `)).toBe(true);
}

describe('InvalidArgumentError and InvalidTriggerConfigError', () => {
  it('the trigger-input error is an invalid-argument error with its own code and name', () => {
    const trigger = new InvalidTriggerConfigError('schedule.cron', 'is not a cron expression');
    expect(trigger).toBeInstanceOf(InvalidArgumentError);
    expect(trigger).toBeInstanceOf(SchedulerError);
    expect(trigger).toMatchObject({ name: 'InvalidTriggerConfigError', code: 'ERR_INVALID_TRIGGER_CONFIG', field: 'schedule.cron', message: 'schedule.cron: is not a cron expression' });
    const argument = new InvalidArgumentError('auth.jwt.audience', 'must be a non-empty string');
    expect(argument).toMatchObject({ name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', field: 'auth.jwt.audience', message: 'auth.jwt.audience: must be a non-empty string' });
  });

  it('options, registrations, queries, cursors, event names and job ids throw InvalidArgumentError', async () => {
    await expectArgument(() => new Scheduler({ pollIntervalMs: 0 }), 'pollIntervalMs');
    await expectArgument(() => new Scheduler({ defaults: { retry: { attempts: 0 } } }), 'defaults.retry.attempts');
    const scheduler = new Scheduler();
    await expectArgument(() => scheduler.register('', () => undefined), 'name');
    await expectArgument(() => scheduler.register('h', () => undefined, { retry: { attempts: -1 } }), 'options.retry.attempts');
    await expectArgument(() => scheduler.listJobs({ triggerId: 'a$b' }), 'triggerId');
    await expectArgument(() => scheduler.listTriggers({ cursor: 'not-a-cursor' }), 'cursor');
    await expectArgument(() => scheduler.getJob('a$b'), 'id');
    await expectArgument(() => scheduler.publish('$bad'), 'event');
    await expectArgument(() => decodeIdCursor('nope'), 'cursor');
    await expectArgument(() => pageLimit(0), 'limit');
    await expectArgument(() => createMongoBackend({ db: {} as Db, jobRetentionDays: 0 }), 'jobRetentionDays');
    await expectArgument(() => collectionNames('system.'), 'collectionPrefix');
  });

  it('trigger input still throws InvalidTriggerConfigError', async () => {
    const scheduler = new Scheduler();
    scheduler.register('h', () => undefined);
    const error = await caught(() => scheduler.addTrigger({ handler: 'h', schedule: { cron: 'nope' } }));
    expect(error).toBeInstanceOf(InvalidTriggerConfigError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_TRIGGER_CONFIG' });
  });

  it('exports no error class that nothing in src/ throws', () => {
    const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
    const text = (function walk(dir: string): string[] {
      return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') && e.name !== 'errors.ts' ? [readFileSync(join(dir, e.name), 'utf8')] : [],
      );
    })(SRC).join('\n');
    const classes = Object.entries(errors).filter(([, value]) => typeof value === 'function' && value.prototype instanceof SchedulerError);
    expect(classes.length).toBeGreaterThan(10);
    // PermanentJobError is the one a user's handler throws (the runners also make it).
    const neverThrown = classes.map(([name]) => name).filter((name) => !text.includes(`new ${name}(`));
    expect(neverThrown).toEqual([]);
    expect(Object.keys(errors)).not.toContain('LockAcquisitionError');
    expect(Object.keys(errors)).not.toContain('JobExecutionError');
  });
});
