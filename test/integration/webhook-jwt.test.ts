/**
 * JWT authentication of the webhook over real HTTP: valid, forged, expired, not-yet-valid,
 * wrong-audience, wrong-issuer, `alg: none` and HS/RS-confused tokens, scopes, and key sources
 * (secret, PEM, JWK, local key set, remote JWKS with caching and rotation).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, base64url, exportJWK, type JWK, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookHandler, type WebhookJwtAuth, type WebhookOptions } from '../../src/webhook/index.js';
import { FakeScheduler, errorBody, postJson, send, startServer, type RunningServer } from '../unit/webhook/fixtures.js';

/** The injected clock: tokens are judged against this instant, not the wall clock. */
const NOW_MS = Date.UTC(2026, 2, 1, 12, 0, 0);
const NOW = NOW_MS / 1000;
const clock = { now: (): number => NOW_MS };

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

const scheduler = new FakeScheduler();
const servers: RunningServer[] = [];

async function serve(jwt: WebhookJwtAuth, extra: Partial<WebhookOptions> = {}): Promise<number> {
  const server = await startServer(createWebhookHandler(scheduler, { auth: { jwt }, clock, ...extra }));
  servers.push(server);
  return server.port;
}

afterEach(() => {
  scheduler.publishCalls.length = 0;
  scheduler.runCalls.length = 0;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

interface TokenSpec {
  alg?: string;
  kid?: string;
  key?: Uint8Array | KeyObject;
  claims?: JWTPayload;
  /** Remove these claims from the defaults. */
  omit?: string[];
}

/** A token valid for the HS256 server unless the spec says otherwise. */
function token(spec: TokenSpec = {}): Promise<string> {
  const claims: JWTPayload = {
    sub: 'ci-bot',
    iss: 'https://idp.test/',
    aud: 'scheduler',
    iat: NOW - 60,
    exp: NOW + 300,
    scope: 'scheduler:publish scheduler:run',
    ...spec.claims,
  };
  for (const name of spec.omit ?? []) delete claims[name];
  const header = { alg: spec.alg ?? 'HS256', typ: 'JWT', ...(spec.kid ? { kid: spec.kid } : {}) };
  return new SignJWT(claims).setProtectedHeader(header).sign(spec.key ?? new TextEncoder().encode(SECRET));
}

function bearer(t: string): Record<string, string> {
  return { Authorization: `Bearer ${t}` };
}

const hsConfig: WebhookJwtAuth = {
  secret: SECRET,
  algorithms: ['HS256'],
  issuer: 'https://idp.test/',
  audience: 'scheduler',
};

describe('HS256 secret', () => {
  let port: number;
  beforeAll(async () => {
    port = await serve(hsConfig);
  });

  it('accepts a valid token', async () => {
    const reply = await postJson(port, '/events/testrun.finished', { a: 1 }, bearer(await token()));
    expect(reply.status).toBe(202);
    expect(scheduler.publishCalls).toHaveLength(1);
  });

  it('answers 401 with a Bearer challenge when the token is missing or not Bearer', async () => {
    for (const headers of [{}, { Authorization: 'Basic dXNlcjpwYXNz' }, { Authorization: 'Bearer' }]) {
      const reply = await postJson(port, '/events/x', {}, headers);
      expect(reply.status).toBe(401);
      expect(reply.headers['www-authenticate']).toBe('Bearer realm="scheduler"');
      expect(reply.json).toEqual(errorBody('ERR_UNAUTHORIZED'));
    }
    expect(scheduler.publishCalls).toHaveLength(0);
  });

  it('refuses a forged token (signed with another secret, or with a changed payload)', async () => {
    const other = await token({ key: new TextEncoder().encode('another-secret-that-is-32-bytes-long!!') });
    const reply = await postJson(port, '/events/x', {}, bearer(other));
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toContain('error="invalid_token"');

    const [h, , s] = (await token()).split('.');
    const raised = base64url.encode(JSON.stringify({ sub: 'ci-bot', aud: 'scheduler', iss: 'https://idp.test/', exp: NOW + 300, scope: 'scheduler:publish admin' }));
    expect((await postJson(port, '/events/x', {}, bearer(`${h}.${raised}.${s}`))).status).toBe(401);
    expect(scheduler.publishCalls).toHaveLength(0);
  });

  it('refuses an expired token, but allows expiry within the 30 s tolerance', async () => {
    const expired = await postJson(port, '/events/x', {}, bearer(await token({ claims: { exp: NOW - 31 } })));
    expect(expired.status).toBe(401);
    expect(expired.json).toEqual({ error: { code: 'ERR_UNAUTHORIZED', message: 'token expired' } });
    expect(expired.headers['www-authenticate']).toBe(
      'Bearer realm="scheduler", error="invalid_token", error_description="token expired"',
    );
    expect((await postJson(port, '/events/x', {}, bearer(await token({ claims: { exp: NOW - 20 } })))).status).toBe(202);
  });

  it('refuses a not-yet-valid token (nbf), but allows nbf within the tolerance', async () => {
    const early = await postJson(port, '/events/x', {}, bearer(await token({ claims: { nbf: NOW + 120 } })));
    expect(early.status).toBe(401);
    expect(early.json).toEqual({ error: { code: 'ERR_UNAUTHORIZED', message: 'token not yet valid' } });
    expect((await postJson(port, '/events/x', {}, bearer(await token({ claims: { nbf: NOW + 20 } })))).status).toBe(202);
  });

  it('refuses a token without exp', async () => {
    const reply = await postJson(port, '/events/x', {}, bearer(await token({ omit: ['exp'] })));
    expect(reply.status).toBe(401);
  });

  it('refuses a wrong audience and a wrong issuer', async () => {
    const aud = await postJson(port, '/events/x', {}, bearer(await token({ claims: { aud: 'billing' } })));
    expect(aud.status).toBe(401);
    expect(aud.json).toEqual({ error: { code: 'ERR_UNAUTHORIZED', message: 'token audience not accepted' } });
    const iss = await postJson(port, '/events/x', {}, bearer(await token({ claims: { iss: 'https://evil.test/' } })));
    expect(iss.status).toBe(401);
    expect((await postJson(port, '/events/x', {}, bearer(await token({ omit: ['aud'] })))).status).toBe(401);
  });

  it('refuses alg: none', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url.encode(
      JSON.stringify({ sub: 'x', iss: 'https://idp.test/', aud: 'scheduler', exp: NOW + 300, scope: 'scheduler:publish' }),
    );
    for (const t of [`${header}.${payload}.`, `${header}.${payload}`]) {
      const reply = await postJson(port, '/events/x', {}, bearer(t));
      expect(reply.status).toBe(401);
    }
    expect(scheduler.publishCalls).toHaveLength(0);
  });

  it('refuses an HS384 token although the secret could verify it (allow-list)', async () => {
    const reply = await postJson(port, '/events/x', {}, bearer(await token({ alg: 'HS384', key: new TextEncoder().encode(SECRET.repeat(2)) })));
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({ error: { code: 'ERR_UNAUTHORIZED', message: 'token algorithm not allowed' } });
  });

  it('answers 403 with insufficient_scope when the scope is missing', async () => {
    const publishOnly = await token({ claims: { scope: 'scheduler:publish' } });
    const reply = await postJson(port, '/triggers/nightly-report/run', {}, bearer(publishOnly));
    expect(reply.status).toBe(403);
    expect(reply.json).toEqual(errorBody('ERR_FORBIDDEN'));
    expect(reply.headers['www-authenticate']).toBe(
      'Bearer realm="scheduler", error="insufficient_scope", scope="scheduler:run"',
    );
    expect(scheduler.runCalls).toHaveLength(0);
    expect((await postJson(port, '/events/x', {}, bearer(publishOnly))).status).toBe(202);
  });

  it('reads scopes from scope, scp (string or array) and roles', async () => {
    const variants: JWTPayload[] = [
      { scope: 'other scheduler:run' },
      { scope: undefined, scp: ['scheduler:run'] },
      { scope: undefined, scp: 'read scheduler:run' },
      { scope: undefined, roles: ['scheduler:run'] },
    ];
    for (const claims of variants) {
      const reply = await postJson(port, '/triggers/nightly-report/run', {}, bearer(await token({ claims })));
      expect(reply.status, JSON.stringify(claims)).toBe(202);
    }
    // A scope that merely contains the needed one as a substring does not count.
    const near = await token({ claims: { scope: 'scheduler:runner' } });
    expect((await postJson(port, '/triggers/nightly-report/run', {}, bearer(near))).status).toBe(403);
  });

  it('lets any valid token read health, and no token none of it', async () => {
    expect((await send(port, { path: '/health', headers: bearer(await token({ claims: { scope: '' } })) })).status).toBe(200);
    expect((await send(port, { path: '/health' })).status).toBe(401);
  });
});

describe('scopes, health and public health options', () => {
  it('uses configured scope names', async () => {
    const port = await serve({ ...hsConfig, scopes: { publish: 'events:write', health: 'ops:read' } });
    const writer = await token({ claims: { scope: 'events:write' } });
    expect((await postJson(port, '/events/x', {}, bearer(writer))).status).toBe(202);
    expect((await send(port, { path: '/health', headers: bearer(writer) })).status).toBe(403);
    const ops = await token({ claims: { roles: ['ops:read'] } });
    expect((await send(port, { path: '/health', headers: bearer(ops) })).status).toBe(200);
    expect((await postJson(port, '/events/x', {}, bearer(await token()))).status).toBe(403);
  });

  it('serves health without credentials only with publicHealth', async () => {
    const port = await serve(hsConfig, { publicHealth: true });
    expect((await send(port, { path: '/health' })).status).toBe(200);
    expect((await postJson(port, '/events/x', {})).status).toBe(401);
  });
});

describe('RS256 public key', () => {
  let pemPort: number;
  beforeAll(async () => {
    pemPort = await serve({ publicKey: rsaPublicPem, algorithms: ['RS256'], audience: 'scheduler' });
  });

  it('accepts a token signed with the private key (PEM, JWK and KeyObject configs)', async () => {
    const t = await token({ alg: 'RS256', key: rsa.privateKey });
    expect((await postJson(pemPort, '/events/x', {}, bearer(t))).status).toBe(202);
    const jwkPort = await serve({ publicKey: await exportJWK(rsa.publicKey), algorithms: ['RS256'] });
    expect((await postJson(jwkPort, '/events/x', {}, bearer(t))).status).toBe(202);
    const keyPort = await serve({ publicKey: rsa.publicKey, algorithms: ['RS256'] });
    expect((await postJson(keyPort, '/events/x', {}, bearer(t))).status).toBe(202);
  });

  it('refuses an HS256 token signed with the public key as HMAC secret (algorithm confusion)', async () => {
    const confused = await token({ alg: 'HS256', key: new TextEncoder().encode(rsaPublicPem) });
    const reply = await postJson(pemPort, '/events/x', {}, bearer(confused));
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({ error: { code: 'ERR_UNAUTHORIZED', message: 'token algorithm not allowed' } });
    expect(scheduler.publishCalls).toHaveLength(0);
  });

  it('refuses a token signed by another RSA key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const reply = await postJson(pemPort, '/events/x', {}, bearer(await token({ alg: 'RS256', key: other.privateKey })));
    expect(reply.status).toBe(401);
  });

  it('refuses an RS256 token on an HS256 server (the other direction)', async () => {
    const port = await serve(hsConfig);
    const reply = await postJson(port, '/events/x', {}, bearer(await token({ alg: 'RS256', key: rsa.privateKey })));
    expect(reply.status).toBe(401);
  });
});

/** An EC P-256 key pair with its public JWK carrying `kid`. */
async function ecKey(kid: string): Promise<{ kid: string; privateKey: KeyObject; jwk: JWK }> {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

describe('local JWKS', () => {
  it('selects the key by kid', async () => {
    const a = await ecKey('a');
    const b = await ecKey('b');
    const port = await serve({ jwks: { keys: [a.jwk, b.jwk] }, algorithms: ['ES256'] });
    for (const k of [a, b]) {
      const reply = await postJson(port, '/events/x', {}, bearer(await token({ alg: 'ES256', kid: k.kid, key: k.privateKey })));
      expect(reply.status).toBe(202);
    }
    const stranger = await ecKey('c');
    const reply = await postJson(port, '/events/x', {}, bearer(await token({ alg: 'ES256', kid: 'c', key: stranger.privateKey })));
    expect(reply.status).toBe(401);
    // Right kid, wrong key.
    const forged = await postJson(port, '/events/x', {}, bearer(await token({ alg: 'ES256', kid: 'a', key: stranger.privateKey })));
    expect(forged.status).toBe(401);
  });
});

describe('remote JWKS', () => {
  let jwksServer: RunningServer;
  let keys: JWK[] = [];
  let fetches = 0;
  let failing = false;

  beforeAll(async () => {
    jwksServer = await startServer((_req, res) => {
      fetches += 1;
      if (failing) {
        res.statusCode = 500;
        res.end('down');
        return;
      }
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    servers.push(jwksServer);
  });

  it('fetches once, caches, and follows a key rotation (new kid) without a restart', async () => {
    const first = await ecKey('2026-03');
    keys = [first.jwk];
    fetches = 0;
    // Cooldown 0: an unknown kid may refetch at once (the default waits 30 s between such fetches).
    const port = await serve({ jwks: `${jwksServer.origin}/jwks.json`, algorithms: ['ES256'], jwksOptions: { cooldownMs: 0 } });

    const t1 = await token({ alg: 'ES256', kid: first.kid, key: first.privateKey });
    expect((await postJson(port, '/events/x', {}, bearer(t1))).status).toBe(202);
    expect((await postJson(port, '/events/x', {}, bearer(t1))).status).toBe(202);
    expect(fetches).toBe(1);

    // The issuer rotates: the new key is published and the old one withdrawn.
    const second = await ecKey('2026-04');
    keys = [second.jwk];
    const t2 = await token({ alg: 'ES256', kid: second.kid, key: second.privateKey });
    expect((await postJson(port, '/events/x', {}, bearer(t2))).status).toBe(202);
    expect(fetches).toBe(2);
    expect((await postJson(port, '/events/x', {}, bearer(t2))).status).toBe(202);
    expect(fetches).toBe(2);

    // The withdrawn key no longer verifies anything once the set was refreshed.
    expect((await postJson(port, '/events/x', {}, bearer(t1))).status).toBe(401);
  });

  it('does not refetch for unknown kids during the cooldown', async () => {
    const known = await ecKey('known');
    keys = [known.jwk];
    fetches = 0;
    const port = await serve({ jwks: new URL(`${jwksServer.origin}/keys`), algorithms: ['ES256'] });
    expect((await postJson(port, '/events/x', {}, bearer(await token({ alg: 'ES256', kid: 'known', key: known.privateKey })))).status).toBe(202);
    const stranger = await ecKey('unknown');
    for (let i = 0; i < 3; i++) {
      const t = await token({ alg: 'ES256', kid: 'unknown', key: stranger.privateKey });
      expect((await postJson(port, '/events/x', {}, bearer(t))).status).toBe(401);
    }
    expect(fetches).toBe(1);
  });

  it('never fetches keys for a token whose alg is not allowed', async () => {
    fetches = 0;
    const port = await serve({ jwks: `${jwksServer.origin}/jwks.json`, algorithms: ['ES256'] });
    const header = base64url.encode(JSON.stringify({ alg: 'none' }));
    const payload = base64url.encode(JSON.stringify({ exp: NOW + 60, scope: 'scheduler:publish' }));
    expect((await postJson(port, '/events/x', {}, bearer(`${header}.${payload}.`))).status).toBe(401);
    expect((await postJson(port, '/events/x', {}, bearer(await token()))).status).toBe(401);
    expect(fetches).toBe(0);
  });

  it('answers 503 ERR_AUTH_UNAVAILABLE when the JWKS endpoint fails, and logs it', async () => {
    failing = true;
    const errors: unknown[] = [];
    try {
      const key = await ecKey('k');
      const port = await serve(
        { jwks: `${jwksServer.origin}/jwks.json`, algorithms: ['ES256'] },
        { logger: { error: (fields) => errors.push(fields) } },
      );
      const reply = await postJson(port, '/events/x', {}, bearer(await token({ alg: 'ES256', kid: 'k', key: key.privateKey })));
      expect(reply.status).toBe(503);
      expect(reply.json).toEqual(errorBody('ERR_AUTH_UNAVAILABLE'));
      expect(errors).toHaveLength(1);
    } finally {
      failing = false;
    }
  });
});
