import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { AppSettings } from '#runtime/app.ts';
import type { Queryable } from '#runtime/db.ts';
import type { Keyring } from './keys.ts';
import { signAccessToken } from './tokens.ts';

/** What a client is given at login and refresh. */
export type TokenPair = { accessToken: string; refreshToken: string; tokenType: 'Bearer'; expiresIn: number };

/**
 * Issues an access token and a refresh token for `userId`. The refresh token is random and opaque; only its
 * hash is stored, in `familyId` (a new family at login, the same family at refresh).
 */
export async function issueTokenPair(
  sql: Queryable,
  keys: Keyring,
  settings: AppSettings,
  userId: string,
  familyId: string = randomUUID(),
): Promise<TokenPair> {
  const refreshToken = randomBytes(32).toString('base64url');
  await sql`
    insert into refresh_tokens (family_id, user_id, token_hash, expires_at)
    values (${familyId}, ${userId}, ${hashToken(refreshToken)},
            now() + make_interval(secs => ${settings.auth.refreshTokenTtlSeconds}))`;
  const { token } = signAccessToken(
    keys,
    { ...settings.auth, ttlSeconds: settings.auth.accessTokenTtlSeconds },
    userId,
  );
  return {
    accessToken: token,
    refreshToken,
    tokenType: 'Bearer',
    expiresIn: settings.auth.accessTokenTtlSeconds,
  };
}

/**
 * Spends a refresh token. The claim is one conditional update, so two concurrent uses cannot both win. A token
 * that was already spent or revoked is a replay: its whole family is revoked.
 */
export async function spendRefreshToken(
  sql: Queryable,
  token: string,
): Promise<{ userId: string; familyId: string } | { refused: 'unknown' | 'reused' | 'expired' }> {
  const hash = hashToken(token);
  const [claimed] = await sql<{ userId: string; familyId: string; expired: boolean }[]>`
    update refresh_tokens set used_at = now()
    where token_hash = ${hash} and used_at is null and revoked_at is null
    returning user_id as "userId", family_id as "familyId", expires_at <= now() as expired`;
  if (claimed && !claimed.expired) return { userId: claimed.userId, familyId: claimed.familyId };
  if (claimed) return { refused: 'expired' };
  const [known] = await sql<{ familyId: string }[]>`
    select family_id as "familyId" from refresh_tokens where token_hash = ${hash}`;
  if (!known) return { refused: 'unknown' };
  await revokeFamily(sql, known.familyId);
  return { refused: 'reused' };
}

/** Revokes every token of the family that `token` belongs to; an unknown token changes nothing. */
export async function revokeFamilyOf(sql: Queryable, token: string): Promise<void> {
  await sql`
    update refresh_tokens set revoked_at = now()
    where family_id = (select family_id from refresh_tokens where token_hash = ${hashToken(token)})
      and revoked_at is null`;
}

async function revokeFamily(sql: Queryable, familyId: string): Promise<void> {
  await sql`update refresh_tokens set revoked_at = now() where family_id = ${familyId} and revoked_at is null`;
}

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
