import { createHash } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { signUp } from '../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

type Jwk = { kty: string; crv: string; x: string; kid: string; alg: string; use: string };

// RFC 7638: SHA-256 of the required members, in lexical order, with no whitespace.
const rfc7638 = (jwk: Jwk) =>
  createHash('sha256').update(`{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}"}`).digest('base64url');

describe('GET /.well-known/jwks.json', () => {
  it('publishes the public keys, each with its RFC 7638 thumbprint as kid', async () => {
    const response = await t.request('GET', '/.well-known/jwks.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const { keys } = (await response.json()) as { keys: Jwk[] };
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(key.kid).toBe(rfc7638(key));
    }
  });

  it('holds the key that signed an access token, which verifies against it', async () => {
    const user = await signUp(t);
    const response = await t.request('GET', '/.well-known/jwks.json');
    const jwks = (await response.json()) as { keys: Jwk[] };
    const header = JSON.parse(Buffer.from(user.accessToken.split('.')[0] as string, 'base64url').toString());
    expect(jwks.keys.map((key) => key.kid)).toContain(header.kid);
    const { payload } = await jwtVerify(user.accessToken, createLocalJWKSet(jwks), {
      algorithms: ['EdDSA'],
      issuer: t.settings.auth.issuer,
      audience: t.settings.auth.audience,
      typ: 'at+jwt',
    });
    expect(payload.sub).toBe(user.id);
  });
});
