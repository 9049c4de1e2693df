import { createHash, randomBytes } from 'node:crypto';
import type { TransactionSql } from 'postgres';
import type { AppSettings } from '#runtime/app.ts';
import type { Queryable } from '#runtime/db.ts';
import type { Keyring } from './keys.ts';
import { signAccessToken } from './tokens.ts';

/** What a client is given at login and refresh. */
export type TokenPair = { accessToken: string; refreshToken: string; tokenType: 'Bearer'; expiresIn: number };

/** One sign-in: a row of `sessions`, whose id is the family of its refresh tokens and the `sid` of its tokens. */
export type Session = { userId: string; sessionId: string };

// Every write that ends or extends a session locks its `sessions` row before its refresh tokens, so that a
// refresh and a revocation of the same session run one after the other, and neither misses the other's
// token; a revocation of all of a user's sessions locks the user row first, so two of them cannot interleave.

/** Starts a session for `userId` (a sign-in) and issues its first token pair. */
export async function startSession(
  tx: TransactionSql,
  keys: Keyring,
  settings: AppSettings,
  userId: string,
): Promise<TokenPair> {
  const [session] = await tx<
    { id: string }[]
  >`insert into sessions (user_id) values (${userId}) returning id`;
  if (!session) throw new Error('the session row was not written');
  return issueTokenPair(tx, keys, settings, { userId, sessionId: session.id });
}

/**
 * Issues an access token and a refresh token for a session. The refresh token is random and opaque; only its
 * hash is stored. It expires after the refresh TTL, and never later than the session's maximum age from its
 * first sign-in, however often it is refreshed.
 */
export async function issueTokenPair(
  sql: Queryable,
  keys: Keyring,
  settings: AppSettings,
  session: Session,
): Promise<TokenPair> {
  const { refreshTokenTtlSeconds, sessionMaxAgeSeconds, accessTokenTtlSeconds } = settings.auth;
  const refreshToken = randomBytes(32).toString('base64url');
  const stored = await sql`
    insert into refresh_tokens (family_id, user_id, token_hash, expires_at)
    select id, user_id, ${hashToken(refreshToken)},
           least(now() + make_interval(secs => ${refreshTokenTtlSeconds}),
                 created_at + make_interval(secs => ${sessionMaxAgeSeconds}))
    from sessions where id = ${session.sessionId} and user_id = ${session.userId}
    returning id`;
  if (stored.length !== 1) throw new Error(`no session ${session.sessionId} of user ${session.userId}`);
  const { token } = await signAccessToken(
    keys,
    { ...settings.auth, ttlSeconds: accessTokenTtlSeconds },
    session,
  );
  return { accessToken: token, refreshToken, tokenType: 'Bearer', expiresIn: accessTokenTtlSeconds };
}

/**
 * Spends a refresh token, inside the transaction that issues the next one (its session stays locked until
 * then). The claim is one conditional update, so two concurrent uses cannot both win. A token that was
 * already spent is a replay: its whole session is revoked. A session past its maximum age is expired.
 */
export async function spendRefreshToken(
  tx: TransactionSql,
  settings: AppSettings,
  token: string,
): Promise<Session | { refused: 'unknown' | 'reused' | 'revoked' | 'expired' }> {
  const hash = hashToken(token);
  const [known] = await tx<{ sessionId: string }[]>`
    select family_id as "sessionId" from refresh_tokens where token_hash = ${hash}`;
  if (!known) return { refused: 'unknown' };
  const [session] = await tx<{ revoked: boolean; pastMaxAge: boolean }[]>`
    select revoked_at is not null as revoked,
           created_at + make_interval(secs => ${settings.auth.sessionMaxAgeSeconds}) <= now() as "pastMaxAge"
    from sessions where id = ${known.sessionId} for no key update`;
  if (!session) return { refused: 'unknown' };
  if (session.revoked) return { refused: 'revoked' };
  if (session.pastMaxAge) return { refused: 'expired' };
  const [claimed] = await tx<{ userId: string; expired: boolean }[]>`
    update refresh_tokens set used_at = now()
    where token_hash = ${hash} and used_at is null and revoked_at is null
    returning user_id as "userId", expires_at <= now() as expired`;
  if (!claimed) {
    await revokeSession(tx, known.sessionId);
    return { refused: 'reused' };
  }
  if (claimed.expired) return { refused: 'expired' };
  return { userId: claimed.userId, sessionId: known.sessionId };
}

/** Ends the session `token` belongs to (a logout); an unknown token changes nothing. */
export async function revokeFamilyOf(tx: TransactionSql, token: string): Promise<void> {
  const [known] = await tx<{ sessionId: string }[]>`
    select family_id as "sessionId" from refresh_tokens where token_hash = ${hashToken(token)}`;
  if (known) await revokeSession(tx, known.sessionId);
}

/** Ends every session of `userId` (a logout everywhere, a password change); returns how many were live. */
export async function revokeSessionsOf(tx: TransactionSql, userId: string): Promise<number> {
  await tx`select 1 from users where id = ${userId} for no key update`;
  const ended = await tx`
    update sessions set revoked_at = now() where user_id = ${userId} and revoked_at is null returning id`;
  await tx`update refresh_tokens set revoked_at = now() where user_id = ${userId} and revoked_at is null`;
  return ended.length;
}

/** True while the session exists, belongs to `userId` and is not revoked: what an access token needs. */
export async function sessionIsLive(sql: Queryable, session: Session): Promise<boolean> {
  const rows = await sql`
    select 1 from sessions
    where id = ${session.sessionId} and user_id = ${session.userId} and revoked_at is null`;
  return rows.length === 1;
}

async function revokeSession(tx: TransactionSql, sessionId: string): Promise<void> {
  await tx`update sessions set revoked_at = now() where id = ${sessionId} and revoked_at is null`;
  await tx`update refresh_tokens set revoked_at = now() where family_id = ${sessionId} and revoked_at is null`;
}

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
