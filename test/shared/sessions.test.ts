import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  issueTokenPair,
  revokeFamilyOf,
  revokeSessionsOf,
  sessionIsLive,
  spendRefreshToken,
  startSession,
} from '#shared/sessions.ts';
import { verifyAccessToken } from '#shared/tokens.ts';
import { createTestApp, projectRoot, type TestApp } from '../support/app.ts';
import { claimsOf } from '../support/tokens.ts';

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
const signIn = (userId: string, app: TestApp = t) =>
  app.sql.begin((tx) => startSession(tx, app.services.keys, app.settings, userId));
const spend = (token: string, app: TestApp = t) =>
  app.sql.begin((tx) => spendRefreshToken(tx, app.settings, token));
const sessionOf = (pair: { accessToken: string }) => claimsOf(pair.accessToken).sid as string;

describe('startSession', () => {
  it('returns a Bearer pair for a new session and stores only the refresh token hash, expiring after the TTL', async () => {
    const userId = await newUser();
    const pair = await signIn(userId);
    expect(pair).toMatchObject({ tokenType: 'Bearer', expiresIn: t.settings.auth.accessTokenTtlSeconds });
    expect(pair.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const tokenSettings = { ...t.settings.auth, ttlSeconds: t.settings.auth.accessTokenTtlSeconds };
    const verified = await verifyAccessToken(t.services.keys, tokenSettings, pair.accessToken);
    const [session] = await t.sql<{ id: string }[]>`select id from sessions where user_id = ${userId}`;
    expect(verified).toMatchObject({ claims: { sub: userId, sid: session?.id } });

    const rows = await t.sql<{ token_hash: Buffer; family_id: string; ttl: number }[]>`
      select token_hash, family_id, extract(epoch from expires_at - created_at)::int as ttl
      from refresh_tokens where user_id = ${userId}`;
    expect(rows).toHaveLength(1);
    expect(rows[0]?.family_id).toBe(session?.id);
    expect(rows[0]?.token_hash.equals(sha256(pair.refreshToken))).toBe(true);
    expect(Math.abs((rows[0]?.ttl ?? 0) - t.settings.auth.refreshTokenTtlSeconds)).toBeLessThanOrEqual(5);
    const everything = await t.sql`select * from refresh_tokens where user_id = ${userId}`;
    expect(JSON.stringify(everything)).not.toContain(pair.refreshToken);
  });
});

describe('issueTokenPair', () => {
  it('never lets a refresh token outlive the session’s maximum age from its sign-in', async () => {
    const short = await createTestApp({
      root: projectRoot,
      migrate: false,
      env: { SESSION_MAX_AGE_SECONDS: '600', REFRESH_TOKEN_TTL_SECONDS: '3600' },
    });
    try {
      const userId = await newUser();
      const first = await signIn(userId, short);
      const rows = await t.sql<{ left: number }[]>`
        select extract(epoch from r.expires_at - s.created_at)::int as left
        from refresh_tokens r join sessions s on s.id = r.family_id where r.user_id = ${userId}`;
      expect(Math.abs((rows[0]?.left ?? 0) - 600)).toBeLessThanOrEqual(5);

      // A session signed in longer ago than its maximum age: its refresh token is refused, however fresh.
      await t.sql`update sessions set created_at = now() - interval '601 seconds' where id = ${sessionOf(first)}`;
      expect(await spend(first.refreshToken, short)).toEqual({ refused: 'expired' });
      await expect(
        issueTokenPair(short.sql, short.services.keys, short.settings, { userId, sessionId: randomUUID() }),
      ).rejects.toThrow('no session');
    } finally {
      await short.close();
    }
  });
});

describe('spendRefreshToken', () => {
  it('lets exactly one of two concurrent uses of a token win', async () => {
    const { refreshToken } = await signIn(await newUser());
    const outcomes = await Promise.all([spend(refreshToken), spend(refreshToken)]);
    expect(outcomes.filter((outcome) => 'userId' in outcome)).toHaveLength(1);
    expect(outcomes.filter((outcome) => 'refused' in outcome)).toEqual([{ refused: 'reused' }]);
  });

  it('revokes only the session of a reused token, its access tokens included', async () => {
    const userId = await newUser();
    const laptop = await signIn(userId);
    const phone = await signIn(userId);
    expect(await spend(laptop.refreshToken)).toMatchObject({ userId, sessionId: sessionOf(laptop) });
    expect(await spend(laptop.refreshToken)).toEqual({ refused: 'reused' });
    expect(await sessionIsLive(t.sql, { userId, sessionId: sessionOf(laptop) })).toBe(false);
    expect(await sessionIsLive(t.sql, { userId, sessionId: sessionOf(phone) })).toBe(true);
    expect(await spend(phone.refreshToken)).toMatchObject({ userId });
  });

  it('tells unknown, expired and revoked tokens apart for the log', async () => {
    expect(await spend('never-issued')).toEqual({ refused: 'unknown' });
    const userId = await newUser();
    const expiring = await signIn(userId);
    await t.sql`
      update refresh_tokens set expires_at = now() - interval '1 second'
      where token_hash = ${sha256(expiring.refreshToken)}`;
    expect(await spend(expiring.refreshToken)).toEqual({ refused: 'expired' });
    const revoked = await signIn(userId);
    await t.sql.begin((tx) => revokeFamilyOf(tx, revoked.refreshToken));
    expect(await spend(revoked.refreshToken)).toEqual({ refused: 'revoked' });
  });
});

describe('revokeFamilyOf', () => {
  it('ends the session of the token and every token of it, and nothing else; an unknown token changes nothing', async () => {
    const userId = await newUser();
    const first = await signIn(userId);
    const spent = await spend(first.refreshToken);
    if (!('sessionId' in spent)) throw new Error('the first token was refused');
    const second = await issueTokenPair(t.sql, t.services.keys, t.settings, spent);
    const other = await signIn(userId);

    await t.sql.begin((tx) => revokeFamilyOf(tx, 'never-issued'));
    expect(
      await t.sql`select 1 from refresh_tokens where user_id = ${userId} and revoked_at is not null`,
    ).toEqual([]);

    await t.sql.begin((tx) => revokeFamilyOf(tx, first.refreshToken));
    const revoked = await t.sql<{ family_id: string }[]>`
      select family_id from refresh_tokens where user_id = ${userId} and revoked_at is not null`;
    expect(revoked.map((row) => row.family_id)).toEqual([spent.sessionId, spent.sessionId]);
    expect(await sessionIsLive(t.sql, spent)).toBe(false);
    expect(await spend(second.refreshToken)).toEqual({ refused: 'revoked' });
    expect(await spend(other.refreshToken)).toMatchObject({ userId });
  });
});

describe('revokeSessionsOf', () => {
  it('ends every session of the user and no one else’s', async () => {
    const userId = await newUser();
    const bystander = await newUser();
    const [laptop, phone, theirs] = [await signIn(userId), await signIn(userId), await signIn(bystander)];
    expect(await t.sql.begin((tx) => revokeSessionsOf(tx, userId))).toBe(2);
    for (const pair of [laptop, phone]) {
      expect(await sessionIsLive(t.sql, { userId, sessionId: sessionOf(pair) })).toBe(false);
      expect(await spend(pair.refreshToken)).toEqual({ refused: 'revoked' });
    }
    expect(await sessionIsLive(t.sql, { userId: bystander, sessionId: sessionOf(theirs) })).toBe(true);
  });

  it('also revokes the token a refresh in flight is issuing, once that refresh commits', async () => {
    const userId = await newUser();
    const pair = await signIn(userId);
    let locked = () => {};
    let release = () => {};
    const sessionLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const refresh = t.sql.begin(async (tx) => {
      const outcome = await spendRefreshToken(tx, t.settings, pair.refreshToken);
      if (!('sessionId' in outcome)) throw new Error(`refused: ${outcome.refused}`);
      const next = await issueTokenPair(tx, t.services.keys, t.settings, outcome);
      locked();
      await released;
      return next;
    });
    await sessionLocked;
    const revocation = t.sql.begin((tx) => revokeSessionsOf(tx, userId));
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    const next = await refresh;
    expect(await revocation).toBe(1);
    const [row] = await t.sql<{ revoked: boolean }[]>`
      select revoked_at is not null as revoked from refresh_tokens where token_hash = ${sha256(next.refreshToken)}`;
    expect(row).toEqual({ revoked: true });
    expect(await spend(next.refreshToken)).toEqual({ refused: 'revoked' });
  });
});

describe('sessionIsLive', () => {
  it('is true for a live session of the user only', async () => {
    const userId = await newUser();
    const sessionId = sessionOf(await signIn(userId));
    expect(await sessionIsLive(t.sql, { userId, sessionId })).toBe(true);
    expect(await sessionIsLive(t.sql, { userId: await newUser(), sessionId })).toBe(false);
    expect(await sessionIsLive(t.sql, { userId, sessionId: randomUUID() })).toBe(false);
  });
});
