/**
 * Bad input (DESIGN.md §3): each case checks the error class, its code, that the message names the
 * field, and that nothing was stored.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { HandlerNotFoundError, InvalidArgumentError, InvalidTriggerConfigError, TriggerNotFoundError } from '../../src/errors.js';
import { Scheduler } from '../../src/scheduler.js';
import type { TriggerInput } from '../../src/types.js';
import { setup, T0, type TestRig } from '../helpers/setup.js';

let rig: TestRig;
beforeEach(() => {
  rig = setup();
  rig.scheduler.register('h', () => undefined);
});

async function rejects(input: unknown, field: string, fragment?: string): Promise<void> {
  const before = rig.triggerStore.size;
  let caught: unknown = null;
  try {
    await rig.scheduler.addTrigger(input as TriggerInput);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a rejection naming ${field}`).toBeInstanceOf(InvalidTriggerConfigError);
  const error = caught as InvalidTriggerConfigError;
  expect(error.code).toBe('ERR_INVALID_TRIGGER_CONFIG');
  expect(error.field).toBe(field);
  expect(error.message.startsWith(`${field}:`)).toBe(true);
  if (fragment) expect(error.message).toContain(fragment);
  expect(rig.triggerStore.size).toBe(before);
}

describe('addTrigger rejects bad input and writes nothing', () => {
  const base = { handler: 'h' };
  const cases: Array<[string, unknown, string, string?]> = [
    ['invalid cron', { ...base, schedule: { cron: 'not a cron' } }, 'schedule.cron'],
    ['4-field cron', { ...base, schedule: { cron: '* * * *' } }, 'schedule.cron', '4'],
    ['7-field cron', { ...base, schedule: { cron: '0 0 0 * * * 2026' } }, 'schedule.cron', '7'],
    ['out-of-range cron', { ...base, schedule: { cron: '61 * * * *' } }, 'schedule.cron'],
    ['unknown timezone', { ...base, schedule: { cron: '0 9 * * *', timezone: 'Mars/Olympus' } }, 'schedule.timezone', 'Mars/Olympus'],
    ['zero interval', { ...base, schedule: { every: 0 } }, 'schedule.every'],
    ['negative interval', { ...base, schedule: { every: -5 } }, 'schedule.every'],
    ['garbage interval', { ...base, schedule: { every: '5 parsecs' } }, 'schedule.every'],
    ['at in the past', { ...base, schedule: { at: new Date(T0 - 1000) } }, 'schedule.at', 'past'],
    ['invalid at', { ...base, schedule: { at: 'yesterday-ish' } }, 'schedule.at'],
    ['every endAt before startAt', { ...base, schedule: { every: 1000, startAt: new Date(T0 + 5000), endAt: new Date(T0 + 1000) } }, 'schedule.endAt'],
    ['trigger endAt before startAt', { ...base, schedule: { every: 1000 }, startAt: new Date(T0 + 5000), endAt: new Date(T0 + 1000) }, 'endAt'],
    ['two schedule kinds', { ...base, schedule: { every: 1000, cron: '* * * * *' } }, 'schedule'],
    ['no schedule kind', { ...base, schedule: {} }, 'schedule'],
    ['missing schedule', { ...base }, 'schedule'],
    ['missing handler', { schedule: { every: 1000 } }, 'handler'],
    ['id with $', { ...base, id: '$where', schedule: { every: 1000 } }, 'id'],
    ['id with .', { ...base, id: 'a.b', schedule: { every: 1000 } }, 'id'],
    ['non-string id', { ...base, id: { $ne: null }, schedule: { every: 1000 } }, 'id'],
    ['empty id', { ...base, id: '', schedule: { every: 1000 } }, 'id'],
    ['payload with a function', { ...base, schedule: { every: 1000 }, payload: { f: () => 1 } }, 'payload.f'],
    ['payload with a Date', { ...base, schedule: { every: 1000 }, payload: { when: new Date() } }, 'payload.when'],
    ['payload with NaN', { ...base, schedule: { every: 1000 }, payload: [1, Number.NaN] }, 'payload[1]'],
    ['payload with a $ key', { ...base, schedule: { every: 1000 }, payload: { $set: 1 } }, 'payload.$set'],
    ['unknown option', { ...base, schedule: { every: 1000 }, retries: 3 }, 'retries'],
    ['bad misfire', { ...base, schedule: { every: 1000 }, misfire: 'sometimes' }, 'misfire'],
    ['bad overlap', { ...base, schedule: { every: 1000 }, overlap: 'maybe' }, 'overlap'],
    ['bad retry attempts', { ...base, schedule: { every: 1000 }, retry: { attempts: 0 } }, 'retry.attempts'],
    ['bad backoff type', { ...base, schedule: { every: 1000 }, retry: { attempts: 2, backoff: { type: 'random', delayMs: 1 } } }, 'retry.backoff.type'],
    ['bad timeout', { ...base, schedule: { every: 1000 }, timeoutMs: -1 }, 'timeoutMs'],
    ['bad window time', { ...base, schedule: { every: 1000 }, window: { between: ['9am', '17:00'] } }, 'window.between[0]'],
    ['event filter with an operator', { ...base, schedule: { event: 'x', filter: { suite: { $ne: 1 } } } }, 'schedule.filter.suite'],
    ['dependency on a missing trigger', { ...base, schedule: { after: 'ghost' } }, 'schedule.after', 'ghost'],
    ['dependency on itself', { ...base, id: 'self', schedule: { after: 'self' } }, 'schedule.after'],
  ];
  for (const [name, input, field, fragment] of cases) {
    it(name, async () => {
      await rejects(input, field, fragment);
    });
  }

  it('a payload too large for one BSON document', async () => {
    const small = setup({ maxPayloadBytes: 1024 });
    small.scheduler.register('h', () => undefined);
    await expect(small.scheduler.addTrigger({ handler: 'h', schedule: { every: 1000 }, payload: 'x'.repeat(2000) })).rejects.toMatchObject({
      code: 'ERR_INVALID_TRIGGER_CONFIG',
      field: 'payload',
    });
    expect(small.triggerStore.size).toBe(0);
  });

  it('an unknown handler (HandlerNotFoundError, naming the field and the handler)', async () => {
    await expect(rig.scheduler.addTrigger({ handler: 'nope', schedule: { every: 1000 } })).rejects.toSatisfy(
      (error: unknown) =>
        error instanceof HandlerNotFoundError &&
        error.code === 'ERR_HANDLER_NOT_FOUND' &&
        error.field === 'handler' &&
        error.message.startsWith('handler:') &&
        error.message.includes('"nope"'),
    );
    expect(rig.triggerStore.size).toBe(0);
  });

  it('a payload with a cycle', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await rejects({ handler: 'h', schedule: { every: 1000 }, payload: cyclic }, 'payload.self', 'cycle');
  });

  it('a duplicate id', async () => {
    await rig.scheduler.addTrigger({ id: 'dup', handler: 'h', schedule: { every: 1000 } });
    await rejects({ id: 'dup', handler: 'h', schedule: { every: 5000 } }, 'id', 'already exists');
    expect((await rig.scheduler.getTrigger('dup'))?.schedule).toMatchObject({ every: 1000 });
  });

  it('a dependency cycle, through an update', async () => {
    await rig.scheduler.addTrigger({ id: 'a', handler: 'h', schedule: { manual: true } });
    await rig.scheduler.addTrigger({ id: 'b', handler: 'h', schedule: { after: 'a' } });
    await rig.scheduler.addTrigger({ id: 'c', handler: 'h', schedule: { after: 'b' } });
    const before = await rig.scheduler.getTrigger('a');
    await expect(rig.scheduler.updateTrigger('a', { schedule: { after: 'c' } })).rejects.toMatchObject({
      code: 'ERR_INVALID_TRIGGER_CONFIG',
      field: 'schedule.after',
      message: expect.stringContaining('cycle'),
    });
    expect(await rig.scheduler.getTrigger('a')).toEqual(before);
  });
});

describe('other methods validate too', () => {
  it('updateTrigger rejects bad patches and leaves the trigger as it was', async () => {
    const t = await rig.scheduler.addTrigger({ id: 'u', handler: 'h', schedule: { every: 1000 } });
    await expect(rig.scheduler.updateTrigger('u', { schedule: { every: -1 } })).rejects.toMatchObject({ field: 'schedule.every' });
    await expect(rig.scheduler.updateTrigger('u', { id: 'x' } as never)).rejects.toMatchObject({ field: 'id' });
    expect(await rig.scheduler.getTrigger('u')).toEqual(t);
    await expect(rig.scheduler.updateTrigger('missing', { name: 'n' })).rejects.toBeInstanceOf(TriggerNotFoundError);
  });

  it('publish, runTrigger, listJobs and listTriggers validate their arguments', async () => {
    await expect(rig.scheduler.publish('', {})).rejects.toMatchObject({ field: 'event' });
    await expect(rig.scheduler.publish('$where', {})).rejects.toMatchObject({ field: 'event' });
    await expect(rig.scheduler.publish('ok', { f: Symbol('x') } as never)).rejects.toMatchObject({ field: 'payload.f' });
    await expect(rig.scheduler.runTrigger('a.b')).rejects.toMatchObject({ field: 'id' });
    await expect(rig.scheduler.runTrigger('missing')).rejects.toMatchObject({ code: 'ERR_TRIGGER_NOT_FOUND' });
    await expect(rig.scheduler.listJobs({ status: 'done' as never })).rejects.toMatchObject({ field: 'status' });
    await expect(rig.scheduler.listJobs({ limit: 0 })).rejects.toMatchObject({ field: 'limit' });
    await expect(rig.scheduler.listJobs({ from: 'soon' })).rejects.toMatchObject({ field: 'from' });
    await expect(rig.scheduler.listTriggers({ status: 'on' as never })).rejects.toMatchObject({ field: 'status' });
    await expect(rig.scheduler.listTriggers({ tag: { $ne: 1 } as never })).rejects.toMatchObject({ field: 'tag' });
    expect(rig.jobStore.size).toBe(0);
  });

  it('constructor options and register validate', () => {
    expect(() => new Scheduler({ concurrency: 0 })).toThrow(expect.objectContaining({ field: 'concurrency' }));
    expect(() => new Scheduler({ pollIntervalMs: 5000, lookaheadMs: 1000 })).toThrow(expect.objectContaining({ field: 'lookaheadMs' }));
    expect(() => new Scheduler({ ownership: 'leader' as never })).toThrow(expect.objectContaining({ field: 'ownership', code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => new Scheduler({ takeoverMs: -1 })).toThrow(expect.objectContaining({ field: 'takeoverMs' }));
    expect(() => new Scheduler({ leadMs: -1 })).toThrow(expect.objectContaining({ field: 'leadMs', message: expect.stringContaining('non-negative integer') }));
    expect(() => new Scheduler({ leadMs: 1.5 })).toThrow(expect.objectContaining({ field: 'leadMs' }));
    expect(() => new Scheduler({ lookaheadMs: 2000, leadMs: 2000 })).toThrow(expect.objectContaining({ field: 'leadMs', message: expect.stringContaining('lookaheadMs') }));
    expect(() => new Scheduler({ leaseMs: 600, leadMs: 300 })).toThrow(expect.objectContaining({ field: 'leadMs', message: expect.stringContaining('leaseMs') }));
    expect(() => new Scheduler({ leadMs: 0 })).not.toThrow();
    expect(() => new Scheduler({ keepAlive: 'no' as never })).toThrow(expect.objectContaining({ field: 'keepAlive' }));
    expect(() => new Scheduler({ remoteHandlers: 'all' as never })).toThrow(expect.objectContaining({ field: 'remoteHandlers' }));
    expect(() => new Scheduler({ remoteHandlers: ['ok', ''] })).toThrow(expect.objectContaining({ field: 'remoteHandlers[1]' }));
    expect(() => new Scheduler({ remoteHandlers: [7 as never] })).toThrow(expect.objectContaining({ field: 'remoteHandlers[0]' }));
    expect(() => new Scheduler({ remoteHandlers: 'any' })).not.toThrow();
    expect(() => rig.scheduler.register('h', () => undefined)).toThrow(expect.objectContaining({ field: 'name' }));
    expect(() => rig.scheduler.register('x', 42 as never)).toThrow(expect.objectContaining({ field: 'handler' }));
    expect(() => rig.scheduler.register('y', () => undefined, { concurrency: -1 })).toThrow(
      expect.objectContaining({ field: 'options.concurrency' }),
    );
  });
});

describe('unknown Scheduler options are refused, naming the option', () => {
  it('a typo of an option names it and the option it resembles', () => {
    const attempt = (): Scheduler => new Scheduler({ concurency: 5 } as never);
    expect(attempt).toThrow(InvalidArgumentError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', field: 'concurency', message: 'concurency: is not a Scheduler option (did you mean "concurrency"?)' }));
  });

  it('an option that resembles none is named alone', () => {
    expect(() => new Scheduler({ telemetryExporter: {} } as never)).toThrow(
      expect.objectContaining({ field: 'telemetryExporter', message: 'telemetryExporter: is not a Scheduler option' }),
    );
  });

  it('unknown keys of defaults are refused too', () => {
    expect(() => new Scheduler({ defaults: { retries: 3 } } as never)).toThrow(
      expect.objectContaining({ field: 'defaults.retries', message: expect.stringContaining('is not a key of defaults') }),
    );
    expect(() => new Scheduler({ defaults: 5 } as never)).toThrow(expect.objectContaining({ field: 'defaults' }));
  });

  it('a spread MongoDB backend passes (its ensureIndexes and clockOffset are not options)', () => {
    const extras = { ensureIndexes: async () => ({}), clockOffset: async () => 0 };
    expect(() => new Scheduler({ ...extras } as never)).not.toThrow();
    expect(() => new Scheduler({ ensureIndexes: true } as never)).toThrow(expect.objectContaining({ field: 'ensureIndexes' }));
  });

  it('an interval below the minimum names schedule.every and writes nothing', async () => {
    await rejects({ id: 'fast', handler: 'h', schedule: { every: 1 } }, 'schedule.every', 'below the minimum interval of 1000 ms');
  });
});
