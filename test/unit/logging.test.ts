/**
 * The Logger port takes pino, winston and the console as they are, and with neither a logger nor
 * an `error` listener, failures reach stderr once per kind per minute.
 */
import { Writable } from 'node:stream';
import { Console } from 'node:console';
import { pino } from 'pino';
import winston from 'winston';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { toLogger, type LoggerLike } from '../../src/logger-adapter.js';
import type { TriggerStore } from '../../src/ports.js';
import { Scheduler } from '../../src/scheduler.js';
import { StderrReport } from '../../src/engine/stderr-report.js';
import { MemoryTriggerStore } from '../../src/stores/memory/index.js';
import { T0 } from '../helpers/setup.js';
import { advance } from '../helpers/time.js';

/** A stream that keeps what is written to it. */
function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('Logger port adapters', () => {
  it('uses pino as it is: fields merged into the line, message as msg', () => {
    const out = sink();
    const logger = toLogger(pino({ level: 'debug' }, out.stream));
    logger.warn({ jobId: 'j1' }, 'a job stalled');
    const line = JSON.parse(out.text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 40, jobId: 'j1', msg: 'a job stalled' });
  });

  it('calls winston with the message first and the fields as meta', () => {
    const out = sink();
    const w = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream: out.stream })] });
    toLogger(w).error({ jobId: 'j2', code: 'ERR_STORE' }, 'poll failed');
    const line = JSON.parse(out.text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'error', message: 'poll failed', jobId: 'j2', code: 'ERR_STORE' });
  });

  it('calls a console with the message first, then the fields', () => {
    const out = sink();
    const err = sink();
    const logger = toLogger(new Console({ stdout: out.stream, stderr: err.stream }));
    logger.info({ triggerId: 't1' }, 'advanced');
    logger.error({ n: 1 });
    expect(out.text()).toBe("advanced { triggerId: 't1' }\n");
    expect(err.text()).toBe('{ n: 1 }\n');
  });

  it('refuses a value without the four levels, naming the field', () => {
    expect(() => toLogger({ info: () => undefined } as unknown as LoggerLike)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', field: 'logger' }));
    expect(() => toLogger({ info: () => undefined } as unknown as LoggerLike)).toThrow(InvalidArgumentError);
    expect(() => new Scheduler({ logger: { debug: () => 1, info: () => 1, warn: () => 1 } as unknown as LoggerLike })).toThrow(/logger.*error method/);
  });

  it('a Scheduler logs through winston: a failing poll reaches it', async () => {
    const out = sink();
    const w = winston.createLogger({ format: winston.format.json(), transports: [new winston.transports.Stream({ stream: out.stream })] });
    const clock = new ManualClock(T0);
    const scheduler = new Scheduler({ clock, logger: w, triggerStore: failingTriggerStore() });
    await scheduler.start();
    await scheduler.stop();
    expect(out.text()).toMatch(/"level":"error","message":"poll failed: disk on fire"/);
  });
});

/** A trigger store whose reads of due triggers always fail. */
function failingTriggerStore(): TriggerStore {
  const store = new MemoryTriggerStore();
  store.findDue = () => Promise.reject(new Error('disk on fire'));
  return store;
}

describe('no silent failure by default', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes repeated store failures to stderr once per minute, with the count held back', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const clock = new ManualClock(T0);
    const scheduler = new Scheduler({ clock, pollIntervalMs: 1000, triggerStore: failingTriggerStore() });
    await scheduler.start();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ERR_STORE: poll failed: disk on fire/);
    // Polls keep failing (with backoff) for the rest of the minute: nothing more is written.
    await advance(clock, 59_000, 1000);
    expect(lines).toHaveLength(1);
    await advance(clock, 2000, 1000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/\(\d+ more of this kind in the last minute\)/);
    await scheduler.stop();
  });

  it('stays off stderr when the app listens to error or gave a logger', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const clock = new ManualClock(T0);
    const listened = new Scheduler({ clock, triggerStore: failingTriggerStore() });
    const seen: Error[] = [];
    listened.on('error', (error) => seen.push(error));
    await listened.start();
    await listened.stop();
    const logged = new Scheduler({ clock, triggerStore: failingTriggerStore(), logger: { debug() {}, info() {}, warn() {}, error() {} } });
    await logged.start();
    await logged.stop();
    expect(seen.length).toBeGreaterThan(0);
    expect(write).not.toHaveBeenCalled();
  });

  it('keeps one rate limit per kind', () => {
    const clock = new ManualClock(T0);
    const lines: string[] = [];
    const report = new StderrReport(clock, 'i1', (line) => lines.push(line));
    report.report('ERR_STORE', new Error('a'));
    report.report('ERR_STORE', new Error('b'));
    report.report('result-dropped', new Error('recording the end of job j failed'));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/instance i1: result-dropped: recording the end of job j failed/);
  });
});
