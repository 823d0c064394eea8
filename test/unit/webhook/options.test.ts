/**
 * Option validation of `createWebhookHandler`: every mistake fails at creation with an
 * `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`, not the trigger-input subclass) naming the option.
 */
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidTriggerConfigError } from '../../../src/errors.js';
import { createWebhookHandler, type WebhookOptions } from '../../../src/webhook/index.js';
import { FakeScheduler } from './fixtures.js';

const SECRET = 'x'.repeat(32);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** The field named by the error `createWebhookHandler` throws for `options`. */
function fieldOf(options: unknown): string {
  try {
    createWebhookHandler(new FakeScheduler(), options as WebhookOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err).not.toBeInstanceOf(InvalidTriggerConfigError);
    expect((err as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
    return (err as InvalidArgumentError).field;
  }
  throw new Error('expected createWebhookHandler to throw');
}

describe('createWebhookHandler options', () => {
  it('requires auth, and { none: true } explicitly to turn it off', () => {
    expect(fieldOf({})).toBe('auth');
    expect(fieldOf(undefined)).toBe('options');
    expect(fieldOf({ auth: {} })).toBe('auth');
    expect(fieldOf({ auth: { none: false } })).toBe('auth.none');
    expect(fieldOf({ auth: { none: true, hmac: { secret: SECRET } } })).toBe('auth');
    expect(() => createWebhookHandler(new FakeScheduler(), { auth: { none: true } })).not.toThrow();
  });

  it('refuses unknown options, so a typo cannot switch a check off', () => {
    expect(fieldOf({ auth: { none: true }, maxBodySize: 1 })).toBe('maxBodySize');
    expect(fieldOf({ auth: { jwt: { secret: SECRET, algorithms: ['HS256'], audiance: 'x' } } })).toBe('auth.jwt.audiance');
    expect(fieldOf({ auth: { hmac: { secret: SECRET, tolerance: 1 } } })).toBe('auth.hmac.tolerance');
    expect(fieldOf({ auth: { jwt: { secret: SECRET, algorithms: ['HS256'], scopes: { admin: 'x' } } } })).toBe(
      'auth.jwt.scopes.admin',
    );
  });

  it('checks the scheduler', () => {
    expect(() => createWebhookHandler({} as FakeScheduler, { auth: { none: true } })).toThrow(InvalidArgumentError);
  });

  describe('auth.jwt', () => {
    it('needs exactly one key source', () => {
      expect(fieldOf({ auth: { jwt: { algorithms: ['HS256'] } } })).toBe('auth.jwt');
      expect(fieldOf({ auth: { jwt: { secret: SECRET, publicKey: rsaPem, algorithms: ['HS256'] } } })).toBe('auth.jwt');
    });

    it('needs a non-empty algorithm list without none or unknown names', () => {
      expect(fieldOf({ auth: { jwt: { secret: SECRET } } })).toBe('auth.jwt.algorithms');
      expect(fieldOf({ auth: { jwt: { secret: SECRET, algorithms: [] } } })).toBe('auth.jwt.algorithms');
      expect(fieldOf({ auth: { jwt: { secret: SECRET, algorithms: ['HS256', 'none'] } } })).toBe('auth.jwt.algorithms');
      expect(fieldOf({ auth: { jwt: { publicKey: rsaPem, algorithms: ['NONE'] } } })).toBe('auth.jwt.algorithms');
      expect(fieldOf({ auth: { jwt: { secret: SECRET, algorithms: ['HS1'] } } })).toBe('auth.jwt.algorithms');
    });

    it('refuses mixing symmetric and asymmetric algorithms or key kinds', () => {
      expect(fieldOf({ auth: { jwt: { secret: SECRET, algorithms: ['HS256', 'RS256'] } } })).toBe('auth.jwt.algorithms');
      expect(fieldOf({ auth: { jwt: { secret: SECRET, algorithms: ['RS256'] } } })).toBe('auth.jwt.algorithms');
      expect(fieldOf({ auth: { jwt: { publicKey: rsaPem, algorithms: ['HS256'] } } })).toBe('auth.jwt.algorithms');
      expect(fieldOf({ auth: { jwt: { jwks: 'https://idp.test/jwks', algorithms: ['HS256'] } } })).toBe('auth.jwt.algorithms');
    });

    it('refuses algorithms the public key cannot verify', () => {
      expect(fieldOf({ auth: { jwt: { publicKey: rsaPem, algorithms: ['RS256', 'ES256'] } } })).toBe('auth.jwt.algorithms');
      expect(fieldOf({ auth: { jwt: { publicKey: ec.publicKey, algorithms: ['ES384'] } } })).toBe('auth.jwt.algorithms');
      expect(() =>
        createWebhookHandler(new FakeScheduler(), { auth: { jwt: { publicKey: ec.publicKey, algorithms: ['ES256'] } } }),
      ).not.toThrow();
      expect(() =>
        createWebhookHandler(new FakeScheduler(), { auth: { jwt: { publicKey: rsaPem, algorithms: ['RS256', 'PS256'] } } }),
      ).not.toThrow();
    });

    it('refuses short secrets (shorter than the hash) and private or secret keys as publicKey', async () => {
      expect(fieldOf({ auth: { jwt: { secret: 'short', algorithms: ['HS256'] } } })).toBe('auth.jwt.secret');
      expect(fieldOf({ auth: { jwt: { secret: SECRET, algorithms: ['HS512'] } } })).toBe('auth.jwt.secret');
      const privatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      expect(fieldOf({ auth: { jwt: { publicKey: privatePem, algorithms: ['RS256'] } } })).toBe('auth.jwt.publicKey');
      expect(fieldOf({ auth: { jwt: { publicKey: rsa.privateKey, algorithms: ['RS256'] } } })).toBe('auth.jwt.publicKey');
      expect(fieldOf({ auth: { jwt: { publicKey: await exportJWK(rsa.privateKey), algorithms: ['RS256'] } } })).toBe(
        'auth.jwt.publicKey',
      );
      expect(fieldOf({ auth: { jwt: { publicKey: 'not a key', algorithms: ['RS256'] } } })).toBe('auth.jwt.publicKey');
    });

    it('checks the JWKS source and its options', async () => {
      expect(fieldOf({ auth: { jwt: { jwks: 'not a url', algorithms: ['RS256'] } } })).toBe('auth.jwt.jwks');
      expect(fieldOf({ auth: { jwt: { jwks: 'file:///etc/jwks.json', algorithms: ['RS256'] } } })).toBe('auth.jwt.jwks');
      expect(fieldOf({ auth: { jwt: { jwks: { keys: [{ kty: 'oct', k: 'abc' }] }, algorithms: ['RS256'] } } })).toBe(
        'auth.jwt.jwks.keys.0',
      );
      const publicJwk = await exportJWK(rsa.publicKey);
      expect(
        fieldOf({ auth: { jwt: { jwks: { keys: [publicJwk] }, jwksOptions: { cooldownMs: 0 }, algorithms: ['RS256'] } } }),
      ).toBe('auth.jwt.jwksOptions');
      expect(fieldOf({ auth: { jwt: { jwks: 'https://idp.test/jwks', jwksOptions: { timeoutMs: -1 }, algorithms: ['RS256'] } } })).toBe(
        'auth.jwt.jwksOptions.timeoutMs',
      );
    });

    it('checks issuer, audience, tolerance and scopes', () => {
      const base = { secret: SECRET, algorithms: ['HS256'] };
      expect(fieldOf({ auth: { jwt: { ...base, issuer: '' } } })).toBe('auth.jwt.issuer');
      expect(fieldOf({ auth: { jwt: { ...base, audience: [] } } })).toBe('auth.jwt.audience');
      expect(fieldOf({ auth: { jwt: { ...base, audience: ['a', 3] } } })).toBe('auth.jwt.audience.1');
      expect(fieldOf({ auth: { jwt: { ...base, clockToleranceSec: -1 } } })).toBe('auth.jwt.clockToleranceSec');
      expect(fieldOf({ auth: { jwt: { ...base, scopes: { run: 'a b' } } } })).toBe('auth.jwt.scopes.run');
    });
  });

  describe('auth.hmac', () => {
    it('needs a secret of at least 32 bytes and a positive tolerance', () => {
      expect(fieldOf({ auth: { hmac: {} } })).toBe('auth.hmac.secret');
      expect(fieldOf({ auth: { hmac: { secret: 'short' } } })).toBe('auth.hmac.secret');
      expect(fieldOf({ auth: { hmac: { secret: [SECRET, 'short'] } } })).toBe('auth.hmac.secret.1');
      expect(fieldOf({ auth: { hmac: { secret: [] } } })).toBe('auth.hmac.secret');
      expect(fieldOf({ auth: { hmac: { secret: SECRET, toleranceSec: 0 } } })).toBe('auth.hmac.toleranceSec');
    });
  });

  it('checks basePath, maxBodyBytes, publicHealth, clock and logger', () => {
    const auth = { none: true };
    expect(fieldOf({ auth, basePath: 'scheduler' })).toBe('basePath');
    expect(fieldOf({ auth, basePath: '/a?b' })).toBe('basePath');
    expect(fieldOf({ auth, maxBodyBytes: 0 })).toBe('maxBodyBytes');
    expect(fieldOf({ auth, maxBodyBytes: 1.5 })).toBe('maxBodyBytes');
    expect(fieldOf({ auth, publicHealth: 'yes' })).toBe('publicHealth');
    expect(fieldOf({ auth, clock: Date })).toBe('clock');
    expect(fieldOf({ auth, logger: console.log })).toBe('logger');
  });
});
