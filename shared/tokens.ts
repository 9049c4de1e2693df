import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Keyring } from './keys.ts';

/** The verified claims of an access token; `sid` is the session (refresh-token family) it belongs to. */
export type AccessClaims = {
  iss: string;
  aud: string;
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  jti: string;
};

export type TokenSettings = { issuer: string; audience: string; ttlSeconds: number };

const ACCESS_TOKEN_TYPE = 'at+jwt';
const CLOCK_TOLERANCE_SECONDS = 60;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Signs an access token (EdDSA, RFC 9068 `at+jwt`) for a user's session with the newest signing key. */
export async function signAccessToken(
  keys: Pick<Keyring, 'signing'>,
  settings: TokenSettings,
  session: { userId: string; sessionId: string },
  now = Date.now(),
): Promise<{ token: string; claims: AccessClaims }> {
  if (!keys.signing) throw new Error('this process has no signing key');
  const iat = Math.floor(now / 1000);
  const claims: AccessClaims = {
    iss: settings.issuer,
    aud: settings.audience,
    sub: session.userId,
    sid: session.sessionId,
    iat,
    exp: iat + settings.ttlSeconds,
    jti: randomUUID(),
  };
  const token = await new SignJWT({ sid: claims.sid })
    .setProtectedHeader({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYPE, kid: keys.signing.kid })
    .setIssuer(claims.iss)
    .setAudience(claims.aud)
    .setSubject(claims.sub)
    .setIssuedAt(claims.iat)
    .setExpirationTime(claims.exp)
    .setJti(claims.jti)
    .sign(keys.signing.key);
  return { token, claims };
}

/**
 * Verifies an access token with jose: EdDSA only, typ at+jwt, a key of the keyring, iss and aud, exp and nbf
 * with a minute of clock tolerance, no unknown `crit` header, and an age and a lifetime no longer than the
 * configured TTL. `sub` and `sid` must be UUIDs, so that nothing downstream is handed an id it cannot look up.
 * Returns the claims, or the reason it was refused (for the log; callers answer every refusal alike).
 */
export async function verifyAccessToken(
  keys: Pick<Keyring, 'keySet'>,
  settings: TokenSettings,
  token: string,
  now = Date.now(),
): Promise<{ claims: AccessClaims } | { error: string }> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keys.keySet, {
      algorithms: ['EdDSA'],
      typ: ACCESS_TOKEN_TYPE,
      issuer: settings.issuer,
      audience: settings.audience,
      maxTokenAge: settings.ttlSeconds,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp', 'jti', 'sub'],
      currentDate: new Date(now),
    }));
  } catch (error) {
    if (error instanceof errors.JOSEError) return { error: `${error.code}: ${error.message}` };
    throw error;
  }
  const problem = claimsProblem(payload, settings.ttlSeconds);
  return problem ? { error: problem } : { claims: payload as AccessClaims };
}

/** What jose leaves to us: ids we can look up, and a lifetime we would have issued. */
function claimsProblem(payload: Record<string, unknown>, ttlSeconds: number): string | undefined {
  const { sub, sid, jti, iat, exp } = payload;
  if (typeof sub !== 'string' || !UUID.test(sub)) return 'sub is not an account id';
  if (typeof sid !== 'string' || !UUID.test(sid)) return 'sid is missing or not a session id';
  if (typeof jti !== 'string') return 'jti is missing';
  if (typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > ttlSeconds)
    return `lifetime longer than ${ttlSeconds} s`;
  return undefined;
}
