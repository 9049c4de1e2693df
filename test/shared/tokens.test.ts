import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thumbprint } from '#shared/keygen.mjs';
import { type Keyring, loadKeyring } from '#shared/keys.ts';
import { signAccessToken, verifyAccessToken } from '#shared/tokens.ts';
import { captureLog } from '../support/app.ts';

const settings = { issuer: 'tokens-test', audience: 'tokens-test-api', ttlSeconds: 900 };
let keys: Keyring;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tokens-test-'));
  keys = await loadKeyring({ dir, production: false, log: captureLog().log });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decodePart = (token: string, index: number) =>
  JSON.parse(Buffer.from(token.split('.')[index] as string, 'base64url').toString('utf8'));

describe('signAccessToken', () => {
  it('signs an RFC 9068 access token naming its key', () => {
    const now = Date.UTC(2026, 10, 27, 9, 30);
    const { token, claims } = signAccessToken(keys, settings, 'user-1', now);
    expect(decodePart(token, 0)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.signing?.kid });
    expect(decodePart(token, 1)).toEqual(claims);
    expect(claims).toEqual({
      iss: 'tokens-test',
      aud: 'tokens-test-api',
      sub: 'user-1',
      iat: now / 1000,
      exp: now / 1000 + 900,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(signAccessToken(keys, settings, 'user-1', now).claims.jti).not.toBe(claims.jti);
  });

  it('is verified by an independent implementation (jose) against the published JWKS', async () => {
    const { token } = signAccessToken(keys, settings, 'user-2');
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(keys.jwks), {
      algorithms: ['EdDSA'],
      issuer: settings.issuer,
      audience: settings.audience,
      typ: 'at+jwt',
    });
    expect(payload.sub).toBe('user-2');
    expect(protectedHeader.kid).toBe(keys.signing?.kid);
  });

  it('refuses to sign in a process that has no signing key', () => {
    const verifyOnly: Keyring = { ...keys, signing: undefined };
    expect(() => signAccessToken(verifyOnly, settings, 'user-3')).toThrow('no signing key');
  });
});

describe('verifyAccessToken', () => {
  it('accepts its own tokens and tokens another implementation signs with our key', async () => {
    const { token } = signAccessToken(keys, settings, 'user-4');
    expect(verifyAccessToken(keys, settings, token)).toMatchObject({ claims: { sub: 'user-4' } });

    const key = keys.signing?.key;
    if (!key) throw new Error('no signing key');
    const foreign = await new SignJWT({ jti: 'abc' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.signing?.kid })
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setSubject('user-5')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    expect(verifyAccessToken(keys, settings, foreign)).toMatchObject({ claims: { sub: 'user-5' } });
  });

  it('refuses a wrong issuer or audience', () => {
    const { token } = signAccessToken(keys, { ...settings, issuer: 'someone-else' }, 'user-6');
    expect(verifyAccessToken(keys, settings, token)).toEqual({ error: 'wrong issuer' });
    const other = signAccessToken(keys, { ...settings, audience: 'another-api' }, 'user-6').token;
    expect(verifyAccessToken(keys, settings, other)).toEqual({ error: 'wrong audience' });
  });

  it('allows a minute of clock skew on expiry and issue time, and no more', () => {
    const now = Date.now();
    const ttl = { ...settings, ttlSeconds: 60 };
    const justExpired = signAccessToken(keys, ttl, 'user-7', now - 90_000).token;
    expect(verifyAccessToken(keys, settings, justExpired, now)).toHaveProperty('claims');
    const expired = signAccessToken(keys, ttl, 'user-7', now - 121_000).token;
    expect(verifyAccessToken(keys, settings, expired, now)).toEqual({ error: 'expired' });
    const future = signAccessToken(keys, settings, 'user-7', now + 120_000).token;
    expect(verifyAccessToken(keys, settings, future, now)).toEqual({ error: 'issued in the future' });
  });

  it('refuses a token signed by a key outside the keyring, even with a known kid', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const stranger: Keyring = {
      signing: { kid: thumbprint(publicKey.export({ format: 'jwk' })), key: privateKey },
      verifying: new Map(),
      jwks: { keys: [] },
    };
    const unknownKid = signAccessToken(stranger, settings, 'user-8').token;
    expect(verifyAccessToken(keys, settings, unknownKid)).toEqual({ error: 'unknown signing key' });
    const posing = signAccessToken(
      { ...stranger, signing: { kid: keys.signing?.kid as string, key: privateKey } },
      settings,
      'user-8',
    ).token;
    expect(verifyAccessToken(keys, settings, posing)).toEqual({ error: 'bad signature' });
  });

  it('refuses alg none and an HMAC token keyed with our public key', () => {
    const claims = signAccessToken(keys, settings, 'user-9').claims;
    const none = `${part({ alg: 'none', typ: 'at+jwt', kid: keys.signing?.kid })}.${part(claims)}.`;
    expect(verifyAccessToken(keys, settings, none)).toEqual({ error: 'unexpected algorithm' });

    const publicPem = createPublicKey(keys.signing?.key as never).export({ type: 'spki', format: 'pem' });
    const input = `${part({ alg: 'HS256', typ: 'at+jwt', kid: keys.signing?.kid })}.${part(claims)}`;
    const hmac = `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
    expect(verifyAccessToken(keys, settings, hmac)).toEqual({ error: 'unexpected algorithm' });
  });

  it('refuses a token of another type, a changed payload and malformed input', () => {
    const { token, claims } = signAccessToken(keys, settings, 'user-10');
    const [header, , signature] = token.split('.');
    const promoted = `${header}.${part({ ...claims, sub: 'admin' })}.${signature}`;
    expect(verifyAccessToken(keys, settings, promoted)).toEqual({ error: 'bad signature' });
    const idToken = `${part({ alg: 'EdDSA', typ: 'JWT', kid: keys.signing?.kid })}.${part(claims)}.${signature}`;
    expect(verifyAccessToken(keys, settings, idToken)).toEqual({ error: 'not an access token' });
    for (const malformed of ['', 'a.b', 'a.b.c.d', '!!!.???.***', `${header}.bm90IGpzb24.${signature}`]) {
      expect(verifyAccessToken(keys, settings, malformed), malformed).toHaveProperty('error');
    }
  });

  it('refuses a validly signed token without a subject', async () => {
    const key = keys.signing?.key;
    if (!key) throw new Error('no signing key');
    const anonymous = await new SignJWT({ jti: 'x' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.signing?.kid })
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    expect(verifyAccessToken(keys, settings, anonymous)).toEqual({ error: 'missing claims' });
  });
});
