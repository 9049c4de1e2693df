import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import purgeExpiredRefreshTokens from '#tasks/purge-expired-refresh-tokens.ts';
import { createTestApp, projectRoot, type TestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

type Counts = { refreshTokens: number; sessions: number };
const purge = async () =>
  (await t.runTask(purgeExpiredRefreshTokens, { scheduledAt: new Date().toISOString() })).result as Counts;

async function freshUser(): Promise<string> {
  const [user] = await t.sql<{ id: string }[]>`
    insert into users (email, password_hash) values (${`purge-${randomUUID()}@example.test`}, 'x') returning id`;
  if (!user) throw new Error('no user');
  return user.id;
}

/** Inserts a refresh token whose times are given as intervals from now ('-2 days'), and returns its id. */
async function token(userId: string, times: { expires: string; used?: string; revoked?: string }) {
  const [row] = await t.sql<{ id: string }[]>`
    insert into refresh_tokens (family_id, user_id, token_hash, expires_at, used_at, revoked_at)
    values (${randomUUID()}, ${userId}, ${randomBytes(32)}, now() + ${times.expires}::interval,
            now() + ${times.used ?? null}::interval, now() + ${times.revoked ?? null}::interval)
    returning id`;
  return row?.id as string;
}

describe('purge-expired-refresh-tokens', () => {
  it('is scheduled hourly', () => {
    expect(purgeExpiredRefreshTokens.schedule).toBe('0 * * * *');
  });

  it('deletes refresh tokens expired more than a day ago, and keeps the rest, spent or not', async () => {
    const userId = await freshUser();
    const gone = [
      await token(userId, { expires: '-2 days' }),
      await token(userId, { expires: '-25 hours', used: '-40 days', revoked: '-26 hours' }),
    ];
    const kept = [
      await token(userId, { expires: '+29 days' }),
      await token(userId, { expires: '-1 hour' }),
      await token(userId, { expires: '+10 days', used: '-1 day' }),
      await token(userId, { expires: '+10 days', revoked: '-5 days' }),
    ];
    const counts = await purge();
    expect(counts.refreshTokens).toBeGreaterThanOrEqual(gone.length);
    const left = await t.sql<{ id: string }[]>`select id from refresh_tokens where user_id = ${userId}`;
    expect(left.map((row) => row.id).sort()).toEqual([...kept].sort());
  });

  it('deletes the sessions left without a refresh token, a day old or more, and keeps the rest', async () => {
    const userId = await freshUser();
    const session = async (age: string) => {
      const [row] = await t.sql<{ id: string }[]>`
        insert into sessions (user_id, created_at) values (${userId}, now() - ${age}::interval) returning id`;
      return row?.id as string;
    };
    const [emptied, withToken, justStarted] = [
      await session('40 days'),
      await session('40 days'),
      await session('1 minute'),
    ];
    await t.sql`
      insert into refresh_tokens (family_id, user_id, token_hash, expires_at)
      values (${emptied}, ${userId}, ${randomBytes(32)}, now() - interval '2 days'),
             (${withToken}, ${userId}, ${randomBytes(32)}, now() + interval '1 day')`;
    const counts = await purge();
    expect(counts.sessions).toBeGreaterThanOrEqual(1);
    const left = await t.sql<{ id: string }[]>`select id from sessions where user_id = ${userId}`;
    expect(left.map((row) => row.id).sort()).toEqual([withToken, justStarted].sort());
    expect(left.map((row) => row.id)).not.toContain(emptied);
  });

  it('works through a backlog larger than one batch', async () => {
    const userId = await freshUser();
    await t.sql`
      insert into refresh_tokens (family_id, user_id, token_hash, expires_at)
      select gen_random_uuid(), ${userId}, sha256(convert_to(gen_random_uuid()::text, 'utf8')),
             now() - interval '3 days'
      from generate_series(1, 2500)`;
    const live = await token(userId, { expires: '+1 day' });
    const counts = await purge();
    expect(counts.refreshTokens).toBeGreaterThanOrEqual(2500);
    expect(await t.sql`select id from refresh_tokens where user_id = ${userId}`).toEqual([{ id: live }]);
  });

  it('logs the counts it returns', async () => {
    const counts = await purge();
    const logged = t.logs.filter((line) => line.msg === 'expired refresh tokens purged').at(-1);
    expect(logged).toMatchObject(counts);
    expect(Object.values(counts).every((count) => Number.isInteger(count) && count >= 0)).toBe(true);
  });
});
