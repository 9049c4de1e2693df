import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { signUp } from '../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

type Pair = { accessToken: string; refreshToken: string; tokenType: string; expiresIn: number };

function refresh(refreshToken: string) {
  return t.request('POST', '/auth/refresh', { body: { refreshToken } });
}

async function refreshed(refreshToken: string): Promise<Pair> {
  const response = await refresh(refreshToken);
  expect(response.status).toBe(200);
  return (await response.json()) as Pair;
}

describe('POST /auth/refresh', () => {
  it('answers 200 with a new pair and spends the old refresh token', async () => {
    const user = await signUp(t);
    const response = await refresh(user.refreshToken);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const pair = (await response.json()) as Pair;
    expect(pair).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: t.settings.auth.accessTokenTtlSeconds,
    });
    expect(pair.refreshToken).not.toBe(user.refreshToken);
    const me = await t.request('GET', '/auth/me', {
      headers: { authorization: `Bearer ${pair.accessToken}` },
    });
    expect(((await me.json()) as { id: string }).id).toBe(user.id);

    const again = await refresh(user.refreshToken);
    expect(again.status).toBe(401);
    expect(again.headers.get('content-type')).toBe('application/problem+json');
    expect(await again.json()).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('revokes the whole family when a rotated token is presented again', async () => {
    const user = await signUp(t);
    const second = await refreshed(user.refreshToken);
    const third = await refreshed(second.refreshToken);
    expect((await refresh(user.refreshToken)).status).toBe(401);
    expect((await refresh(third.refreshToken)).status).toBe(401);

    // Another sign-in of the same account is a family of its own and keeps working.
    const login = await t.request('POST', '/auth/login', {
      body: { email: user.email, password: user.password },
    });
    const fresh = (await login.json()) as Pair;
    expect((await refresh(fresh.refreshToken)).status).toBe(200);
  });

  it('refuses a session past its maximum age from the sign-in, however recently it was refreshed', async () => {
    const user = await signUp(t);
    const latest = await refreshed((await refreshed(user.refreshToken)).refreshToken);
    const maxAge = t.settings.auth.sessionMaxAgeSeconds;
    expect(maxAge).toBe(90 * 86_400);
    // The sign-in moves back to just past the maximum age; the latest token itself is an hour old.
    await t.sql`
      update sessions set created_at = now() - make_interval(secs => ${maxAge + 60})
      where user_id = ${user.id}`;
    await t.sql`update refresh_tokens set created_at = now() - interval '1 hour' where user_id = ${user.id}`;
    const refused = await refresh(latest.refreshToken);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('cache-control')).not.toBe('no-store');
  });

  it('answers 401 for a token it never issued', async () => {
    expect((await refresh('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status).toBe(401);
  });

  it('answers 401 for an expired token', async () => {
    const user = await signUp(t);
    await t.sql`
      update refresh_tokens set expires_at = now() - interval '1 second'
      where token_hash = sha256(convert_to(${user.refreshToken}, 'UTF8'))`;
    expect((await refresh(user.refreshToken)).status).toBe(401);
  });

  it('answers 400 naming the field for a missing or oversized token', async () => {
    const missing = await t.request('POST', '/auth/refresh', { body: {} });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { errors: unknown }).errors).toEqual([
      { field: 'body.refreshToken', message: expect.any(String) },
    ]);
    expect((await refresh('x'.repeat(201))).status).toBe(400);
  });
});
