/**
 * Bearer-token (JWT) authentication with `jose`.
 *
 * Defences, and where they live:
 * - `alg: none` and algorithm confusion: the allow-list is explicit, never contains `none`, and never
 *   mixes HMAC algorithms with a public-key source (nor asymmetric ones with a secret); jose checks a
 *   token's `alg` against it before any key is looked up, and refuses a key of the wrong type.
 * - Expiry: `exp` is required; `exp` and `nbf` are checked against the injected clock with a
 *   tolerance; `iss` and `aud` when configured.
 * - Keys: a secret, one public key, a local key set, or a remote JWKS (cached by jose, refetched on
 *   an unknown `kid` at most once per cooldown, so key rotation needs no restart).
 */
import { KeyObject, X509Certificate, createPublicKey, type JsonWebKey } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  type RemoteJWKSetOptions,
} from 'jose';
import { InvalidArgumentError } from '../errors.js';
import { WebhookHttpError } from './http.js';
import type { WebhookJwtAlgorithm, WebhookJwtAuth } from './types.js';
import { isRecord, rejectUnknownKeys, requireNumber, requireString, requireStringOrList } from './validate.js';

/** Default of `auth.jwt.clockToleranceSec`. */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 30;

/** Default scopes per route. */
export const DEFAULT_SCOPES = { publish: 'scheduler:publish', run: 'scheduler:run' } as const;

/** Bytes of HMAC output per HS algorithm: the least key size RFC 7518 §3.2 allows. */
const HMAC_ALGORITHMS: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

const EC_CURVES: Readonly<Record<string, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** Who called, as far as a verified token tells. */
export interface JwtPrincipal {
  /** The `sub` claim, if any. */
  subject: string | null;
  /** Union of `scope` / `scp` (space-separated or arrays) and `roles`. */
  scopes: ReadonlySet<string>;
  /** When the token expires (`exp`), in epoch milliseconds. */
  expiresAtMs: number | null;
}

/** Scopes needed per route, resolved. */
export interface ResolvedScopes {
  /** For publishing events. */
  publish: string;
  /** For running triggers. */
  run: string;
  /** For health; `null` = any valid token. */
  health: string | null;
}

/** A ready-to-use token verifier. */
export interface JwtAuthenticator {
  /** Verify a bearer token; throws a 401 (or 503 when the key source is down) `WebhookHttpError`. */
  verify(token: string): Promise<JwtPrincipal>;
  /** Scopes needed per route. */
  scopes: ResolvedScopes;
}

/** The JWKS endpoint could not be reached or answered garbage: our problem, not the caller's. */
class KeySourceUnavailableError extends Error {
  constructor(cause: unknown) {
    super('JWKS unavailable', { cause });
    this.name = 'KeySourceUnavailableError';
  }
}

/** `WWW-Authenticate` value (RFC 6750 §3). Only fixed texts go in, so no quoting is needed. */
export function bearerChallenge(error?: 'invalid_token' | 'insufficient_scope', detail?: string): string {
  let value = 'Bearer realm="scheduler"';
  if (error === 'invalid_token') value += `, error="invalid_token"${detail ? `, error_description="${detail}"` : ''}`;
  if (error === 'insufficient_scope') value += `, error="insufficient_scope", scope="${detail ?? ''}"`;
  return value;
}

function unauthorized(message: string): WebhookHttpError {
  return new WebhookHttpError(401, 'ERR_UNAUTHORIZED', message, {
    'WWW-Authenticate': bearerChallenge('invalid_token', message),
  });
}

/** Turn a jose failure into a short, fixed description that tells the client what to fix. */
function describeFailure(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'token not yet valid';
    if (err.claim === 'exp') return 'token has no valid exp claim';
    if (err.claim === 'iss') return 'token issuer not accepted';
    if (err.claim === 'aud') return 'token audience not accepted';
    return 'token claims not accepted';
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  return 'invalid token';
}

/** Every scope a token grants, from `scope`, `scp` and `roles`, as strings or arrays. */
export function scopesOf(claims: JWTPayload): Set<string> {
  const found = new Set<string>();
  const add = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const s of value.split(/\s+/)) if (s) found.add(s);
    } else if (Array.isArray(value)) {
      for (const s of value) if (typeof s === 'string' && s) found.add(s);
    }
  };
  add(claims['scope']);
  add(claims['scp']);
  add(claims['roles']);
  return found;
}

function checkAlgorithms(value: unknown): WebhookJwtAlgorithm[] {
  const field = 'auth.jwt.algorithms';
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidArgumentError(field, 'must be a non-empty array of JWS algorithm names');
  }
  const algorithms: WebhookJwtAlgorithm[] = [];
  for (const alg of value) {
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') {
      throw new InvalidArgumentError(field, 'must not contain "none" (unsigned tokens)');
    }
    if (typeof alg !== 'string' || !(alg in HMAC_ALGORITHMS || ASYMMETRIC_ALGORITHMS.has(alg))) {
      throw new InvalidArgumentError(field, `unsupported algorithm ${JSON.stringify(alg)}`);
    }
    algorithms.push(alg as WebhookJwtAlgorithm);
  }
  const symmetric = algorithms.filter((a) => a in HMAC_ALGORITHMS);
  if (symmetric.length > 0 && symmetric.length < algorithms.length) {
    throw new InvalidArgumentError(
      field,
      'must not mix HMAC (HS*) with asymmetric algorithms: that is what algorithm-confusion attacks exploit',
    );
  }
  return algorithms;
}

/** Whether a public key can verify `alg` (RSA for RS/PS, the right curve for ES, Edwards for EdDSA). */
function keyFits(alg: string, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS')) return type === 'rsa';
  if (alg.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss';
  if (alg.startsWith('ES')) return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === EC_CURVES[alg];
  if (alg === 'Ed25519') return type === 'ed25519';
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  return false;
}

function checkPublicJwk(jwk: unknown, field: string): JWK {
  if (!isRecord(jwk) || typeof jwk['kty'] !== 'string') {
    throw new InvalidArgumentError(field, 'must be a JWK object with a "kty"');
  }
  // A private or symmetric key here would mean a signing secret sits in the verifier's config.
  if (jwk['kty'] === 'oct') throw new InvalidArgumentError(field, 'must be a public key, not a symmetric one');
  if ('d' in jwk) throw new InvalidArgumentError(field, 'must be a public key, not a private one');
  return jwk;
}

function toPublicKey(value: unknown): KeyObject {
  const field = 'auth.jwt.publicKey';
  let key: KeyObject;
  try {
    if (value instanceof KeyObject) {
      key = value;
    } else if (typeof value === 'string') {
      if (value.includes('PRIVATE KEY')) {
        throw new InvalidArgumentError(field, 'must be a public key, not a private one');
      }
      key = value.includes('BEGIN CERTIFICATE') ? new X509Certificate(value).publicKey : createPublicKey(value);
    } else {
      const jwk = checkPublicJwk(value, field);
      // jose's JWK and Node's JsonWebKey describe the same RFC 7517 object.
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    }
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(field, 'is not a valid PEM public key, X.509 certificate or public JWK');
  }
  if (key.type !== 'public') throw new InvalidArgumentError(field, 'must be a public key');
  return key;
}

function checkJwksOptions(value: unknown): RemoteJWKSetOptions {
  const field = 'auth.jwt.jwksOptions';
  if (!isRecord(value)) throw new InvalidArgumentError(field, 'must be an object');
  rejectUnknownKeys(value, ['cacheMaxAgeMs', 'cooldownMs', 'timeoutMs', 'headers'], field);
  const out: RemoteJWKSetOptions = {};
  if (value['cacheMaxAgeMs'] !== undefined) {
    // Infinity is jose's "never expire"; allowed on purpose.
    const v = value['cacheMaxAgeMs'];
    out.cacheMaxAge = v === Infinity ? Infinity : requireNumber(v, `${field}.cacheMaxAgeMs`, 0);
  }
  if (value['cooldownMs'] !== undefined) out.cooldownDuration = requireNumber(value['cooldownMs'], `${field}.cooldownMs`, 0);
  if (value['timeoutMs'] !== undefined) {
    const t = requireNumber(value['timeoutMs'], `${field}.timeoutMs`, 0, true);
    out.timeoutDuration = Math.ceil(t);
  }
  if (value['headers'] !== undefined) {
    const headers = value['headers'];
    if (!isRecord(headers) || Object.values(headers).some((h) => typeof h !== 'string')) {
      throw new InvalidArgumentError(`${field}.headers`, 'must be an object of string values');
    }
    out.headers = headers as Record<string, string>;
  }
  return out;
}

/** Build the key (or key resolver) jose verifies with, checking it against the algorithms. */
function resolveKey(
  config: Record<string, unknown>,
  algorithms: readonly WebhookJwtAlgorithm[],
): Uint8Array | KeyObject | JWTVerifyGetKey {
  const sources = (['secret', 'publicKey', 'jwks'] as const).filter((k) => config[k] !== undefined);
  if (sources.length !== 1) {
    throw new InvalidArgumentError('auth.jwt', 'give exactly one key source: secret, publicKey or jwks');
  }
  const source = sources[0];
  const symmetric = algorithms.some((a) => a in HMAC_ALGORITHMS);
  if (config['jwksOptions'] !== undefined && !(source === 'jwks' && !isRecord(config['jwks']))) {
    throw new InvalidArgumentError('auth.jwt.jwksOptions', 'only applies to a JWKS URL');
  }

  if (source === 'secret') {
    if (!symmetric) {
      throw new InvalidArgumentError(
        'auth.jwt.algorithms',
        `${algorithms[0] ?? ''} needs a public key; a secret only verifies HS256, HS384 or HS512`,
      );
    }
    const raw = config['secret'];
    if (typeof raw !== 'string' && !(raw instanceof Uint8Array)) {
      throw new InvalidArgumentError('auth.jwt.secret', 'must be a string or a Uint8Array');
    }
    const secret = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
    const needed = Math.max(...algorithms.map((a) => HMAC_ALGORITHMS[a] ?? 0));
    if (secret.length < needed) {
      throw new InvalidArgumentError('auth.jwt.secret', `must be at least ${needed} bytes for ${algorithms.join(', ')}`);
    }
    return secret;
  }

  if (symmetric) {
    throw new InvalidArgumentError(
      'auth.jwt.algorithms',
      `HMAC algorithms cannot be used with ${source === 'jwks' ? 'a JWKS' : 'a public key'} (algorithm confusion)`,
    );
  }

  if (source === 'publicKey') {
    const key = toPublicKey(config['publicKey']);
    for (const alg of algorithms) {
      if (!keyFits(alg, key)) {
        throw new InvalidArgumentError('auth.jwt.algorithms', `${alg} cannot be verified with this ${key.asymmetricKeyType ?? ''} key`);
      }
    }
    return key;
  }

  const jwks = config['jwks'];
  if (typeof jwks === 'string' || jwks instanceof URL) {
    let url: URL;
    try {
      url = new URL(jwks);
    } catch {
      throw new InvalidArgumentError('auth.jwt.jwks', 'is not a valid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new InvalidArgumentError('auth.jwt.jwks', 'must be an http(s) URL');
    }
    const options = config['jwksOptions'] === undefined ? {} : checkJwksOptions(config['jwksOptions']);
    const remote = createRemoteJWKSet(url, options);
    return async (header, token) => {
      try {
        return await remote(header, token);
      } catch (err) {
        // No (or several) keys for the token's kid/alg: the token's fault. Anything else (network,
        // timeout, a non-200, a malformed set) is the key source's, and must not read as "bad token".
        if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) throw err;
        throw new KeySourceUnavailableError(err);
      }
    };
  }
  if (isRecord(jwks) && Array.isArray(jwks['keys'])) {
    jwks['keys'].forEach((k, i) => checkPublicJwk(k, `auth.jwt.jwks.keys.${i}`));
    try {
      return createLocalJWKSet(jwks as unknown as JSONWebKeySet);
    } catch {
      throw new InvalidArgumentError('auth.jwt.jwks', 'is not a valid JSON Web Key Set');
    }
  }
  throw new InvalidArgumentError('auth.jwt.jwks', 'must be a URL or a key set { keys: [...] }');
}

function resolveScopes(value: unknown): ResolvedScopes {
  const field = 'auth.jwt.scopes';
  if (value === undefined) return { ...DEFAULT_SCOPES, health: null };
  if (!isRecord(value)) throw new InvalidArgumentError(field, 'must be an object');
  rejectUnknownKeys(value, ['publish', 'run', 'health'], field);
  const one = (key: 'publish' | 'run' | 'health'): string | undefined => {
    const v = value[key];
    if (v === undefined) return undefined;
    const s = requireString(v, `${field}.${key}`);
    // A scope claim is space-separated, so a scope name with a space could never be granted.
    if (/\s/.test(s)) throw new InvalidArgumentError(`${field}.${key}`, 'must not contain whitespace');
    return s;
  };
  return {
    publish: one('publish') ?? DEFAULT_SCOPES.publish,
    run: one('run') ?? DEFAULT_SCOPES.run,
    health: one('health') ?? null,
  };
}

/**
 * Validate `auth.jwt` and build its verifier. Throws `InvalidArgumentError` naming the field.
 * `now` is the clock in epoch milliseconds.
 */
export function createJwtAuthenticator(config: WebhookJwtAuth, now: () => number): JwtAuthenticator {
  const raw: unknown = config;
  if (!isRecord(raw)) throw new InvalidArgumentError('auth.jwt', 'must be an object');
  rejectUnknownKeys(
    raw,
    ['secret', 'publicKey', 'jwks', 'jwksOptions', 'algorithms', 'issuer', 'audience', 'clockToleranceSec', 'scopes'],
    'auth.jwt',
  );
  const algorithms = checkAlgorithms(raw['algorithms']);
  const key = resolveKey(raw, algorithms);
  const issuer = raw['issuer'] === undefined ? undefined : requireStringOrList(raw['issuer'], 'auth.jwt.issuer');
  const audience = raw['audience'] === undefined ? undefined : requireStringOrList(raw['audience'], 'auth.jwt.audience');
  const tolerance =
    raw['clockToleranceSec'] === undefined
      ? DEFAULT_CLOCK_TOLERANCE_SEC
      : requireNumber(raw['clockToleranceSec'], 'auth.jwt.clockToleranceSec', 0);
  const scopes = resolveScopes(raw['scopes']);

  const verify = async (token: string): Promise<JwtPrincipal> => {
    const options: JWTVerifyOptions = {
      algorithms: [...algorithms],
      clockTolerance: tolerance,
      currentDate: new Date(now()),
      // A token without exp would be valid forever once leaked.
      requiredClaims: ['exp'],
    };
    if (issuer !== undefined) options.issuer = issuer;
    if (audience !== undefined) options.audience = audience;
    let payload: JWTPayload;
    try {
      // Overloads differ only in how the key is given; the union needs the broadest one.
      ({ payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], options));
    } catch (err) {
      if (err instanceof KeySourceUnavailableError) {
        throw new WebhookHttpError(
          503,
          'ERR_AUTH_UNAVAILABLE',
          'token keys are unavailable, retry later',
          { 'Retry-After': '5' },
          err.cause,
        );
      }
      throw unauthorized(describeFailure(err));
    }
    return {
      subject: typeof payload.sub === 'string' ? payload.sub : null,
      scopes: scopesOf(payload),
      expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : null,
    };
  };

  return { verify, scopes };
}
