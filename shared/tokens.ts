import { randomUUID, sign, verify } from 'node:crypto';
import type { Keyring } from './keys.ts';

/** The verified claims of an access token. */
export type AccessClaims = { iss: string; aud: string; sub: string; iat: number; exp: number; jti: string };

export type TokenSettings = { issuer: string; audience: string; ttlSeconds: number };

const ACCESS_TOKEN_TYPE = 'at+jwt';
const MAX_SKEW_SECONDS = 60;

/** Signs an access token (EdDSA, RFC 9068 `at+jwt`) for `subject` with the newest signing key. */
export function signAccessToken(keys: Keyring, settings: TokenSettings, subject: string, now = Date.now()) {
  if (!keys.signing) throw new Error('this process has no signing key');
  const iat = Math.floor(now / 1000);
  const header = { alg: 'EdDSA', typ: ACCESS_TOKEN_TYPE, kid: keys.signing.kid };
  const claims: AccessClaims = {
    iss: settings.issuer,
    aud: settings.audience,
    sub: subject,
    iat,
    exp: iat + settings.ttlSeconds,
    jti: randomUUID(),
  };
  const input = `${encode(header)}.${encode(claims)}`;
  const signature = sign(null, Buffer.from(input), keys.signing.key).toString('base64url');
  return { token: `${input}.${signature}`, claims };
}

/**
 * Verifies an access token: the algorithm is pinned to EdDSA and the type to at+jwt, the key must be one of
 * ours, and iss, aud and exp are checked with at most 60 s of clock skew. Returns the claims, or the reason
 * it was refused.
 */
export function verifyAccessToken(
  keys: Keyring,
  settings: Omit<TokenSettings, 'ttlSeconds'>,
  token: string,
  now = Date.now(),
): { claims: AccessClaims } | { error: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { error: 'not a JWT' };
  const [rawHeader, rawClaims, rawSignature] = parts as [string, string, string];
  const header = decode(rawHeader);
  if (header?.alg !== 'EdDSA') return { error: 'unexpected algorithm' };
  if (header.typ !== ACCESS_TOKEN_TYPE) return { error: 'not an access token' };
  const key = typeof header.kid === 'string' ? keys.verifying.get(header.kid) : undefined;
  if (!key) return { error: 'unknown signing key' };
  const valid = verify(
    null,
    Buffer.from(`${rawHeader}.${rawClaims}`),
    key,
    Buffer.from(rawSignature, 'base64url'),
  );
  if (!valid) return { error: 'bad signature' };
  const claims = decode(rawClaims) as Partial<AccessClaims> | undefined;
  const seconds = Math.floor(now / 1000);
  if (!claims || typeof claims.sub !== 'string' || typeof claims.jti !== 'string')
    return { error: 'missing claims' };
  if (claims.iss !== settings.issuer) return { error: 'wrong issuer' };
  if (claims.aud !== settings.audience) return { error: 'wrong audience' };
  if (typeof claims.exp !== 'number' || claims.exp + MAX_SKEW_SECONDS <= seconds) return { error: 'expired' };
  if (typeof claims.iat !== 'number' || claims.iat - MAX_SKEW_SECONDS > seconds)
    return { error: 'issued in the future' };
  return { claims: claims as AccessClaims };
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decode(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
