import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueTokenPair, revokeFamilyOf, spendRefreshToken } from '#shared/sessions.ts';
import { verifyAccessToken } from '#shared/tokens.ts';
import { createTestApp, projectRoot, type TestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

async function newUser(): Promise<string> {
  const [row] = await t.sql<{ id: string }[]>`
    insert into users (email, password_hash) values (${`sessions-${randomUUID()}@example.test`}, 'x')
    returning id`;
  return (row as { id: string }).id;
}

const sha256 = (token: string) => createHash('sha256').update(token).digest();

describe('issueTokenPair', () => {
  it('returns a Bearer pair and stores only the refresh token hash, expiring after the configured TTL', async () => {
    const userId = await newUser();
    const pair = await issueTokenPair(t.sql, t.services.keys, t.settings, userId);
    expect(pair).toMatchObject({ tokenType: 'Bearer', expiresIn: t.settings.auth.accessTokenTtlSeconds });
    expect(pair.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(verifyAccessToken(t.services.keys, t.settings.auth, pair.accessToken)).toMatchObject({
      claims: { sub: userId },
    });

    const rows = await t.sql<{ token_hash: Buffer; ttl: number }[]>`
      select token_hash, extract(epoch from expires_at - created_at)::int as ttl
      from refresh_tokens where user_id = ${userId}`;
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash.equals(sha256(pair.refreshToken))).toBe(true);
    expect(Math.abs((rows[0]?.ttl ?? 0) - t.settings.auth.refreshTokenTtlSeconds)).toBeLessThanOrEqual(5);
    const everything = await t.sql`select * from refresh_tokens where user_id = ${userId}`;
    expect(JSON.stringify(everything)).not.toContain(pair.refreshToken);
  });
});

describe('spendRefreshToken', () => {
  it('lets exactly one of two concurrent uses of a token win', async () => {
    const userId = await newUser();
    const { refreshToken } = await issueTokenPair(t.sql, t.services.keys, t.settings, userId);
    const outcomes = await Promise.all([
      t.sql.begin((tx) => spendRefreshToken(tx, refreshToken)),
      t.sql.begin((tx) => spendRefreshToken(tx, refreshToken)),
    ]);
    expect(outcomes.filter((outcome) => 'userId' in outcome)).toHaveLength(1);
    expect(outcomes.filter((outcome) => 'refused' in outcome)).toEqual([{ refused: 'reused' }]);
  });

  it('revokes only the family of a reused token', async () => {
    const userId = await newUser();
    const laptop = await issueTokenPair(t.sql, t.services.keys, t.settings, userId);
    const phone = await issueTokenPair(t.sql, t.services.keys, t.settings, userId);
    expect(await spendRefreshToken(t.sql, laptop.refreshToken)).toMatchObject({ userId });
    expect(await spendRefreshToken(t.sql, laptop.refreshToken)).toEqual({ refused: 'reused' });
    const [family] = await t.sql<{ revoked: number }[]>`
      select count(*)::int as revoked from refresh_tokens where user_id = ${userId} and revoked_at is not null`;
    expect(family?.revoked).toBe(1);
    expect(await spendRefreshToken(t.sql, phone.refreshToken)).toMatchObject({ userId });
  });

  it('tells unknown, expired and revoked tokens apart for the log', async () => {
    expect(await spendRefreshToken(t.sql, 'never-issued')).toEqual({ refused: 'unknown' });
    const userId = await newUser();
    const expiring = await issueTokenPair(t.sql, t.services.keys, t.settings, userId);
    await t.sql`
      update refresh_tokens set expires_at = now() - interval '1 second'
      where token_hash = ${sha256(expiring.refreshToken)}`;
    expect(await spendRefreshToken(t.sql, expiring.refreshToken)).toEqual({ refused: 'expired' });
    const revoked = await issueTokenPair(t.sql, t.services.keys, t.settings, userId);
    await revokeFamilyOf(t.sql, revoked.refreshToken);
    expect(await spendRefreshToken(t.sql, revoked.refreshToken)).toEqual({ refused: 'reused' });
  });
});

describe('revokeFamilyOf', () => {
  it('revokes every token of the family and nothing else; an unknown token changes nothing', async () => {
    const userId = await newUser();
    const first = await issueTokenPair(t.sql, t.services.keys, t.settings, userId);
    const spent = await spendRefreshToken(t.sql, first.refreshToken);
    if (!('familyId' in spent)) throw new Error('the first token was refused');
    const second = await issueTokenPair(t.sql, t.services.keys, t.settings, userId, spent.familyId);
    const other = await issueTokenPair(t.sql, t.services.keys, t.settings, userId);

    await revokeFamilyOf(t.sql, 'never-issued');
    const before =
      await t.sql`select 1 from refresh_tokens where user_id = ${userId} and revoked_at is not null`;
    expect(before).toHaveLength(0);

    await revokeFamilyOf(t.sql, first.refreshToken);
    const revoked = await t.sql<{ family_id: string }[]>`
      select family_id from refresh_tokens where user_id = ${userId} and revoked_at is not null`;
    expect(revoked.map((row) => row.family_id)).toEqual([spent.familyId, spent.familyId]);
    expect(await spendRefreshToken(t.sql, second.refreshToken)).toEqual({ refused: 'reused' });
    expect(await spendRefreshToken(t.sql, other.refreshToken)).toMatchObject({ userId });
  });
});
