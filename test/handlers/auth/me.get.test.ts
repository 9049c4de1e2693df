import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thumbprint } from '#shared/keygen.mjs';
import type { Keyring } from '#shared/keys.ts';
import { signAccessToken } from '#shared/tokens.ts';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { signUp } from '../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

describe('GET /auth/me', () => {
  it('returns the account of a valid access token', async () => {
    const user = await signUp(t, 'Ada');
    const response = await t.request('GET', '/auth/me', { headers: user.headers });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      id: user.id,
      email: user.email,
      name: 'Ada',
      createdAt: expect.any(String),
    });
  });

  it('answers 401 without a token, with a malformed one, and with an expired one', async () => {
    const user = await signUp(t);
    expect((await t.request('GET', '/auth/me')).status).toBe(401);
    const garbled = { authorization: `${user.headers.authorization.slice(0, -4)}AAAA` };
    expect((await t.request('GET', '/auth/me', { headers: garbled })).status).toBe(401);
    const settings = { ...t.settings.auth, ttlSeconds: 60 };
    const expired = signAccessToken(t.services.keys, settings, user.id, Date.now() - 10 * 60_000).token;
    const response = await t.request('GET', '/auth/me', { headers: { authorization: `Bearer ${expired}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 401 for a token meant for another audience or from another issuer', async () => {
    const user = await signUp(t);
    const settings = { ...t.settings.auth, ttlSeconds: 300 };
    for (const other of [{ audience: 'another-api' }, { issuer: 'someone-else' }]) {
      const { token } = signAccessToken(t.services.keys, { ...settings, ...other }, user.id);
      const response = await t.request('GET', '/auth/me', { headers: bearer(token) });
      expect(response.status, JSON.stringify(other)).toBe(401);
    }
  });

  it('answers 401 for a token signed by a key outside the keyring', async () => {
    const user = await signUp(t);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const settings = { ...t.settings.auth, ttlSeconds: 300 };
    const stranger = (kid: string): Keyring => ({
      signing: { kid, key: privateKey },
      verifying: new Map(),
      jwks: { keys: [] },
    });
    const ownKid = thumbprint(publicKey.export({ format: 'jwk' }));
    const knownKid = t.services.keys.signing?.kid as string;
    for (const kid of [ownKid, knownKid]) {
      const { token } = signAccessToken(stranger(kid), settings, user.id);
      expect((await t.request('GET', '/auth/me', { headers: bearer(token) })).status, kid).toBe(401);
    }
  });

  it('answers 401 for an unsigned token (alg none)', async () => {
    const user = await signUp(t);
    const { claims } = signAccessToken(t.services.keys, { ...t.settings.auth, ttlSeconds: 300 }, user.id);
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const header = part({ alg: 'none', typ: 'at+jwt', kid: t.services.keys.signing?.kid });
    for (const token of [`${header}.${part(claims)}.`, `${header}.${part(claims)}.AAAA`]) {
      expect((await t.request('GET', '/auth/me', { headers: bearer(token) })).status, token).toBe(401);
    }
  });

  it('answers 401 once the account is gone', async () => {
    const user = await signUp(t);
    await t.sql`delete from users where id = ${user.id}`;
    expect((await t.request('GET', '/auth/me', { headers: user.headers })).status).toBe(401);
  });
});

function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}
