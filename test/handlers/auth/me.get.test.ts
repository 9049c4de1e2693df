import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thumbprint } from '#shared/keygen.mjs';
import { signAccessToken } from '#shared/tokens.ts';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { claimsOf, forgeToken } from '../../support/tokens.ts';
import { type SignedIn, signUp } from '../../support/users.ts';

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
    const expired = (await signAccessToken(t.services.keys, settings, sessionOf(user), Date.now() - 600_000))
      .token;
    const response = await t.request('GET', '/auth/me', { headers: { authorization: `Bearer ${expired}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 401 for a token meant for another audience or from another issuer', async () => {
    const user = await signUp(t);
    const settings = { ...t.settings.auth, ttlSeconds: 300 };
    for (const other of [{ audience: 'another-api' }, { issuer: 'someone-else' }]) {
      const { token } = await signAccessToken(t.services.keys, { ...settings, ...other }, sessionOf(user));
      const response = await t.request('GET', '/auth/me', { headers: bearer(token) });
      expect(response.status, JSON.stringify(other)).toBe(401);
    }
  });

  it('answers 401 for a token signed by a key outside the keyring', async () => {
    const user = await signUp(t);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const settings = { ...t.settings.auth, ttlSeconds: 300 };
    const stranger = (kid: string) => ({ signing: { kid, key: privateKey } });
    const ownKid = thumbprint(publicKey.export({ format: 'jwk' }));
    const knownKid = t.services.keys.signing?.kid as string;
    for (const kid of [ownKid, knownKid]) {
      const { token } = await signAccessToken(stranger(kid), settings, sessionOf(user));
      expect((await t.request('GET', '/auth/me', { headers: bearer(token) })).status, kid).toBe(401);
    }
  });

  it('answers 401 for an unsigned token (alg none)', async () => {
    const user = await signUp(t);
    const settings = { ...t.settings.auth, ttlSeconds: 300 };
    const { claims } = await signAccessToken(t.services.keys, settings, sessionOf(user));
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const header = part({ alg: 'none', typ: 'at+jwt', kid: t.services.keys.signing?.kid });
    for (const token of [`${header}.${part(claims)}.`, `${header}.${part(claims)}.AAAA`]) {
      expect((await t.request('GET', '/auth/me', { headers: bearer(token) })).status, token).toBe(401);
    }
  });

  it('takes the Bearer scheme in any case, as HTTP schemes are case-insensitive', async () => {
    const user = await signUp(t);
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
      const headers = { authorization: `${scheme} ${user.accessToken}` };
      expect((await t.request('GET', '/auth/me', { headers })).status, scheme).toBe(200);
    }
    const glued = { authorization: `Bearer${user.accessToken}` };
    expect((await t.request('GET', '/auth/me', { headers: glued })).status).toBe(401);
  });

  it('answers 401 (never 500) for validly signed tokens that are wrong: nbf ahead, crit, endless, a subject that is no id', async () => {
    const user = await signUp(t);
    const ours = claimsOf(user.accessToken);
    const now = Math.floor(Date.now() / 1000);
    const forged = {
      'nbf in the future': forgeToken(t.services.keys, {}, { ...ours, nbf: now + 600 }),
      'an unknown crit header': forgeToken(t.services.keys, { crit: ['urn:x:bind'], 'urn:x:bind': 1 }, ours),
      'exp 1e308': forgeToken(t.services.keys, {}, { ...ours, exp: 1e308 }),
      'sub not a UUID': forgeToken(t.services.keys, {}, { ...ours, sub: 'admin' }),
      'sub a number': forgeToken(t.services.keys, {}, { ...ours, sub: 7 }),
      'sid of no session': forgeToken(t.services.keys, {}, { ...ours, sid: randomUUID() }),
      'sid of another account': forgeToken(t.services.keys, {}, { ...ours, sub: (await signUp(t)).id }),
    };
    // The forger itself makes tokens that pass, so each refusal below is for the one thing changed.
    const control = forgeToken(t.services.keys, {}, { ...ours, jti: randomUUID() });
    expect((await t.request('GET', '/auth/me', { headers: bearer(control) })).status).toBe(200);
    for (const [what, token] of Object.entries(forged)) {
      const response = await t.request('GET', '/auth/me', { headers: bearer(token) });
      expect(response.status, what).toBe(401);
      expect(response.headers.get('content-type'), what).toBe('application/problem+json');
    }
  });

  it('answers 401 once the account is gone', async () => {
    const user = await signUp(t);
    await t.sql`delete from users where id = ${user.id}`;
    expect((await t.request('GET', '/auth/me', { headers: user.headers })).status).toBe(401);
  });
});

function sessionOf(user: SignedIn) {
  return { userId: user.id, sessionId: claimsOf(user.accessToken).sid as string };
}

function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}
