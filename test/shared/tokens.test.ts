import { createHmac, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thumbprint } from '#shared/keygen.mjs';
import { type Keyring, loadKeyring } from '#shared/keys.ts';
import { signAccessToken, verifyAccessToken } from '#shared/tokens.ts';
import { captureLog } from '../support/app.ts';
import { forgeToken } from '../support/tokens.ts';

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
const session = () => ({ userId: randomUUID(), sessionId: randomUUID() });
/** Claims as we issue them, now, for a fresh session; `changes` makes them wrong one way at a time. */
const claims = (changes: Record<string, unknown> = {}) => {
  const iat = Math.floor(Date.now() / 1000);
  return {
    iss: settings.issuer,
    aud: settings.audience,
    sub: randomUUID(),
    sid: randomUUID(),
    iat,
    exp: iat + 300,
    jti: randomUUID(),
    ...changes,
  };
};
const refusal = async (token: string) => {
  const outcome = await verifyAccessToken(keys, settings, token);
  return 'error' in outcome ? outcome.error : 'accepted';
};

describe('signAccessToken', () => {
  it('signs an RFC 9068 access token naming its key and its session', async () => {
    const now = Date.UTC(2026, 10, 27, 9, 30);
    const owner = session();
    const { token, claims: signed } = await signAccessToken(keys, settings, owner, now);
    expect(decodePart(token, 0)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.signing?.kid });
    expect(decodePart(token, 1)).toEqual(signed);
    expect(signed).toEqual({
      iss: 'tokens-test',
      aud: 'tokens-test-api',
      sub: owner.userId,
      sid: owner.sessionId,
      iat: now / 1000,
      exp: now / 1000 + 900,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect((await signAccessToken(keys, settings, owner, now)).claims.jti).not.toBe(signed.jti);
  });

  it('is verified by an independent implementation (jose) against the published JWKS', async () => {
    const owner = session();
    const { token } = await signAccessToken(keys, settings, owner);
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(keys.jwks), {
      algorithms: ['EdDSA'],
      issuer: settings.issuer,
      audience: settings.audience,
      typ: 'at+jwt',
    });
    expect(payload.sub).toBe(owner.userId);
    expect(protectedHeader.kid).toBe(keys.signing?.kid);
  });

  it('refuses to sign in a process that has no signing key', async () => {
    await expect(signAccessToken({ signing: undefined }, settings, session())).rejects.toThrow(
      'no signing key',
    );
  });
});

describe('verifyAccessToken', () => {
  it('accepts its own tokens and tokens another implementation signs with our key', async () => {
    const owner = session();
    const { token } = await signAccessToken(keys, settings, owner);
    expect(await verifyAccessToken(keys, settings, token)).toMatchObject({ claims: { sub: owner.userId } });

    const key = keys.signing?.key;
    if (!key) throw new Error('no signing key');
    const foreign = await new SignJWT({ sid: owner.sessionId })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.signing?.kid })
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setSubject(owner.userId)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    expect(await verifyAccessToken(keys, settings, foreign)).toMatchObject({
      claims: { sub: owner.userId, sid: owner.sessionId },
    });
  });

  it('refuses a wrong issuer or audience', async () => {
    expect(await refusal(forgeToken(keys, {}, claims({ iss: 'someone-else' })))).toMatch(/"iss"/);
    expect(await refusal(forgeToken(keys, {}, claims({ aud: 'another-api' })))).toMatch(/"aud"/);
  });

  it('allows a minute of clock skew on expiry and issue time, and no more', async () => {
    const now = Date.now();
    const short = { ...settings, ttlSeconds: 60 };
    const justExpired = (await signAccessToken(keys, short, session(), now - 90_000)).token;
    expect(await verifyAccessToken(keys, settings, justExpired, now)).toHaveProperty('claims');
    const expired = (await signAccessToken(keys, short, session(), now - 121_000)).token;
    expect(await verifyAccessToken(keys, settings, expired, now)).toEqual({
      error: expect.stringMatching(/^ERR_JWT_EXPIRED/),
    });
    const future = (await signAccessToken(keys, settings, session(), now + 120_000)).token;
    expect(await verifyAccessToken(keys, settings, future, now)).toEqual({
      error: expect.stringMatching(/"iat" claim .* in the past/),
    });
  });

  it('refuses a token not valid yet (nbf in the future)', async () => {
    const iat = Math.floor(Date.now() / 1000);
    expect(await refusal(forgeToken(keys, {}, claims({ nbf: iat + 300 })))).toMatch(/"nbf"/);
    expect(await refusal(forgeToken(keys, {}, claims({ nbf: iat - 5 })))).toBe('accepted');
  });

  it('refuses a critical header it does not understand', async () => {
    const header = { crit: ['urn:example:bound'], 'urn:example:bound': true };
    expect(await refusal(forgeToken(keys, header, claims()))).toMatch(/^ERR_JOSE_NOT_SUPPORTED|crit/i);
  });

  it('refuses a lifetime or an age longer than the TTL, and a token without an issue time', async () => {
    const iat = Math.floor(Date.now() / 1000);
    expect(await refusal(forgeToken(keys, {}, claims({ exp: 1e308 })))).toMatch(/lifetime longer than 900 s/);
    expect(await refusal(forgeToken(keys, {}, claims({ exp: iat + 901 })))).toMatch(/lifetime/);
    expect(await refusal(forgeToken(keys, {}, claims({ iat: iat - 1_000, exp: iat + 60 })))).toMatch(
      /"iat" claim .*too far in the past/,
    );
    expect(await refusal(forgeToken(keys, {}, claims({ iat: undefined })))).toMatch(/"iat"/);
  });

  it('refuses a subject or a session that is not a UUID, and a token without a jti', async () => {
    expect(await refusal(forgeToken(keys, {}, claims({ sub: 'admin' })))).toBe('sub is not an account id');
    expect(await refusal(forgeToken(keys, {}, claims({ sub: 42 })))).toMatch(/"sub"|sub is not/);
    expect(await refusal(forgeToken(keys, {}, claims({ sid: undefined })))).toMatch(/sid is missing/);
    expect(await refusal(forgeToken(keys, {}, claims({ sid: "'; drop table sessions" })))).toMatch(/sid/);
    expect(await refusal(forgeToken(keys, {}, claims({ jti: undefined })))).toMatch(/"jti"/);
    expect(await refusal(forgeToken(keys, {}, claims({ sub: undefined })))).toMatch(/"sub"/);
  });

  it('refuses a token signed by a key outside the keyring, even with a known kid', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const ownKid = thumbprint(publicKey.export({ format: 'jwk' }));
    const unknownKid = forgeToken({ signing: { kid: ownKid, key: privateKey } }, {}, claims());
    expect(await refusal(unknownKid)).toMatch(/^ERR_JWKS_NO_MATCHING_KEY/);
    const posing = forgeToken(
      { signing: { kid: keys.signing?.kid as string, key: privateKey } },
      {},
      claims(),
    );
    expect(await refusal(posing)).toMatch(/^ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
  });

  it('refuses alg none and an HMAC token keyed with our public key', async () => {
    const body = part(claims());
    const none = `${part({ alg: 'none', typ: 'at+jwt', kid: keys.signing?.kid })}.${body}.`;
    expect(await refusal(none)).toMatch(/^ERR_JOSE_ALG_NOT_ALLOWED|^ERR_JWS_INVALID/);

    const publicPem = createPublicKey(keys.signing?.key as never).export({ type: 'spki', format: 'pem' });
    const input = `${part({ alg: 'HS256', typ: 'at+jwt', kid: keys.signing?.kid })}.${body}`;
    const hmac = `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
    expect(await refusal(hmac)).toMatch(/^ERR_JOSE_ALG_NOT_ALLOWED/);
  });

  it('refuses a token of another type, a changed payload and malformed input', async () => {
    const { token, claims: signed } = await signAccessToken(keys, settings, session());
    const [header, , signature] = token.split('.');
    const promoted = `${header}.${part({ ...signed, sub: randomUUID() })}.${signature}`;
    expect(await refusal(promoted)).toMatch(/^ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
    expect(await refusal(forgeToken(keys, { typ: 'JWT' }, claims()))).toMatch(/"typ"/);
    for (const malformed of ['', 'a.b', 'a.b.c.d', '!!!.???.***', `${header}.bm90IGpzb24.${signature}`]) {
      expect(await refusal(malformed), malformed).not.toBe('accepted');
    }
  });
});
