/**
 * Building blocks of the webhook: signature header, media type, JSON sanitizing, routing and names.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isJsonContentType, parseJsonBody } from '../../../src/http/body.js';
import { isFresh, matchHmacSignature, parseSignatureHeader, signHmac } from '../../../src/http/hmac.js';
import { WebhookHttpError } from '../../../src/http/http.js';
import { scopesOf } from '../../../src/http/jwt.js';
import { normalizeBasePath } from '../../../src/http/paths.js';
import { eventNameFrom, matchRoute, triggerIdFrom } from '../../../src/webhook/routes.js';

const SECRET = 's'.repeat(32);

describe('signHmac', () => {
  it('signs "<t>.<key>.<body>" with HMAC-SHA256 in hex', () => {
    const expected = createHmac('sha256', SECRET).update('1700000000.k-1.{"a":1}').digest('hex');
    expect(signHmac(SECRET, { body: '{"a":1}', idempotencyKey: 'k-1', timestamp: 1_700_000_000 })).toBe(
      `t=1700000000, v1=${expected}`,
    );
    const noKey = createHmac('sha256', SECRET).update('5..').digest('hex');
    expect(signHmac(SECRET, { body: new Uint8Array(), timestamp: 5 })).toBe(`t=5, v1=${noKey}`);
  });

  it('signs bytes and the same text identically, and refuses a bad timestamp', () => {
    const text = signHmac(SECRET, { body: 'é', timestamp: 1 });
    expect(signHmac(SECRET, { body: Buffer.from('é', 'utf8'), timestamp: 1 })).toBe(text);
    expect(() => signHmac(SECRET, { body: '', timestamp: 1.5 })).toThrow(TypeError);
  });

  it('round-trips through parse and verify', () => {
    const header = signHmac(SECRET, { body: 'b', idempotencyKey: 'k', timestamp: 100 });
    const parsed = parseSignatureHeader(header);
    expect(parsed?.timestamp).toBe(100);
    if (!parsed) throw new Error('unparsed');
    expect(matchHmacSignature([Buffer.from(SECRET)], parsed, 'k', Buffer.from('b'), null, false) !== null).toBe(true);
    expect(matchHmacSignature([Buffer.from(SECRET)], parsed, undefined, Buffer.from('b'), null, false) !== null).toBe(false);
    expect(matchHmacSignature([Buffer.from('t'.repeat(32))], parsed, 'k', Buffer.from('b'), null, false) !== null).toBe(false);
    expect(isFresh(parsed, 100_000 + 300_000, 300)).toBe(true);
    expect(isFresh(parsed, 100_000 + 300_001, 300)).toBe(false);
    expect(isFresh(parsed, 100_000 - 300_001, 300)).toBe(false);
  });

  it('parses spacing variants and several v1 values, ignores unknown fields', () => {
    const a = 'a'.repeat(64);
    const b = 'B'.repeat(64);
    expect(parseSignatureHeader(`t=1,v1=${a},v1=${b},v0=zz`)?.signatures).toHaveLength(2);
    expect(parseSignatureHeader(`v1=${a}`)).toBeNull();
    expect(parseSignatureHeader(`t=-1, v1=${a}`)).toBeNull();
    expect(parseSignatureHeader(`t=1, v1=${a.slice(1)}`)).toBeNull();
  });
});

describe('isJsonContentType', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['application/json;charset=UTF8', true],
    ['APPLICATION/JSON ; charset="utf-8"', true],
    ['application/json; boundary=x', true],
    ['application/json; charset=iso-8859-1', false],
    ['application/jsonp', false],
    ['text/json', false],
    ['application/problem+json', false],
    [undefined, false],
  ])('%s -> %s', (value, ok) => {
    expect(isJsonContentType(value)).toBe(ok);
  });
});

describe('parseJsonBody', () => {
  const parse = (text: string): unknown => parseJsonBody(Buffer.from(text, 'utf8'));

  it('parses JSON values of every kind', () => {
    expect(parse('null')).toBeNull();
    expect(parse(' 12 ')).toBe(12);
    expect(parse('"x"')).toBe('x');
    expect(parse('[1,{"a":[true]}]')).toEqual([1, { a: [true] }]);
  });

  it('drops prototype-related keys at any depth and leaves Object.prototype alone', () => {
    const value = parse('{"__proto__":{"p":1},"a":{"constructor":{"prototype":{"p":1}},"b":[{"prototype":2,"c":3}]}}');
    expect(value).toEqual({ a: { b: [{ c: 3 }] } });
    expect(Object.keys(value as object)).toEqual(['a']);
    expect(({} as Record<string, unknown>)['p']).toBeUndefined();
    // Merging the parsed value into a fresh object is now harmless.
    const merged: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as object)) merged[k] = v;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
  });

  it('throws a 400 ERR_INVALID_JSON that does not quote the body', () => {
    for (const text of ['{"secret-token":', '', 'undefined', '{"a":1}x']) {
      let thrown: unknown;
      try {
        parse(text);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(WebhookHttpError);
      expect((thrown as WebhookHttpError).status).toBe(400);
      expect((thrown as WebhookHttpError).code).toBe('ERR_INVALID_JSON');
      expect((thrown as WebhookHttpError).message).not.toContain('secret');
    }
  });

  it('refuses invalid UTF-8', () => {
    expect(() => parseJsonBody(Buffer.from([0x22, 0xc3, 0x28, 0x22]))).toThrow(WebhookHttpError);
  });
});

describe('routing', () => {
  it('matches the three routes under a base path, keeping names encoded', () => {
    expect(matchRoute('/events/a%2Eb', '/')).toEqual({ kind: 'publish', rawEvent: 'a%2Eb' });
    expect(matchRoute('/triggers/x/run?y=1', '/')).toEqual({ kind: 'run', rawTriggerId: 'x' });
    expect(matchRoute('/health', '/')).toEqual({ kind: 'health' });
    expect(matchRoute('/api/health', '/api')).toEqual({ kind: 'health' });
    expect(matchRoute('/api', '/api')).toBeNull();
    expect(matchRoute('/apix/health', '/api')).toBeNull();
    expect(matchRoute('/health#frag', '/')).toEqual({ kind: 'health' });
    expect(matchRoute('health', '/')).toBeNull();
  });

  it('normalizes base paths', () => {
    expect(normalizeBasePath('/')).toBe('/');
    expect(normalizeBasePath('/a/b/')).toBe('/a/b');
    expect(normalizeBasePath('a')).toBeNull();
    expect(normalizeBasePath('//a')).toBeNull();
  });

  it('decodes and validates names', () => {
    expect(eventNameFrom('testrun.finished')).toBe('testrun.finished');
    expect(eventNameFrom('a%24b')).toBe('a$b');
    expect(() => eventNameFrom('%24a')).toThrow(WebhookHttpError);
    expect(() => eventNameFrom('%ZZ')).toThrow(WebhookHttpError);
    expect(triggerIdFrom('nightly-report_2')).toBe('nightly-report_2');
    expect(() => triggerIdFrom('a%24b')).toThrow(WebhookHttpError);
    expect(() => triggerIdFrom('x'.repeat(201))).toThrow(WebhookHttpError);
    expect(triggerIdFrom('x'.repeat(200))).toHaveLength(200);
  });
});

describe('scopesOf', () => {
  it('unions scope, scp and roles, ignoring non-strings', () => {
    const scopes = scopesOf({ scope: ' a  b ', scp: ['c', 3, ''], roles: 'd' });
    expect([...scopes].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(scopesOf({ scope: 7 }).size).toBe(0);
  });
});
