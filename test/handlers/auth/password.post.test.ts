import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { type SignedIn, signUp } from '../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

const newPassword = 'a brand new passphrase, longer';
type Pair = { accessToken: string; refreshToken: string; tokenType: string; expiresIn: number };

function change(user: SignedIn, body: Record<string, unknown>, app: TestApp = t) {
  return app.request('POST', '/auth/password', { body, headers: user.headers });
}
const login = (email: string, password: string) =>
  t.request('POST', '/auth/login', { body: { email, password } });
const me = (accessToken: string) =>
  t.request('GET', '/auth/me', { headers: { authorization: `Bearer ${accessToken}` } });
const refresh = (refreshToken: string) => t.request('POST', '/auth/refresh', { body: { refreshToken } });

describe('POST /auth/password', () => {
  it('changes the password, ends every session and answers with the pair of a new one, not to be cached', async () => {
    const user = await signUp(t);
    const other = (await (await login(user.email, user.password)).json()) as Pair;
    const response = await change(user, { currentPassword: user.password, newPassword });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const pair = (await response.json()) as Pair;
    expect(pair).toMatchObject({ tokenType: 'Bearer', expiresIn: t.settings.auth.accessTokenTtlSeconds });

    for (const old of [user, other]) {
      expect((await me(old.accessToken)).status).toBe(401);
      expect((await refresh(old.refreshToken)).status).toBe(401);
    }
    expect((await me(pair.accessToken)).status).toBe(200);
    expect((await refresh(pair.refreshToken)).status).toBe(200);
    expect((await login(user.email, user.password)).status).toBe(401);
    expect((await login(user.email, newPassword)).status).toBe(200);
  });

  it('answers 403 for a wrong current password and changes nothing', async () => {
    const user = await signUp(t);
    const response = await change(user, { currentPassword: 'not the password at all', newPassword });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ status: 403, code: 'wrong_password' });
    expect((await me(user.accessToken)).status).toBe(200);
    expect((await login(user.email, user.password)).status).toBe(200);
  });

  it('refuses the sixth try in a minute for one account with 429', async () => {
    const user = await signUp(t);
    for (let i = 0; i < 5; i++) {
      expect((await change(user, { currentPassword: `guess number ${i}`, newPassword })).status).toBe(403);
    }
    const sixth = await change(user, { currentPassword: user.password, newPassword });
    expect(sixth.status).toBe(429);
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('answers 422 for a new password equal to the current one, and 400 for a short one', async () => {
    const user = await signUp(t);
    expect((await change(user, { currentPassword: user.password, newPassword: user.password })).status).toBe(
      422,
    );
    const short = await change(user, { currentPassword: user.password, newPassword: 'short' });
    expect(short.status).toBe(400);
    expect(((await short.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual([
      'body.newPassword',
    ]);
  });

  it('answers 401 without a live access token', async () => {
    const anonymous = await t.request('POST', '/auth/password', {
      body: { currentPassword: 'whatever it is', newPassword },
    });
    expect(anonymous.status).toBe(401);
    const user = await signUp(t);
    await t.request('POST', '/auth/logout-all', { headers: user.headers });
    expect((await change(user, { currentPassword: user.password, newPassword })).status).toBe(401);
  });
});
