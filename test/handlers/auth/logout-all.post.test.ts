import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { type SignedIn, signUp } from '../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

type Pair = { accessToken: string; refreshToken: string };

async function signInAgain(user: SignedIn): Promise<Pair> {
  const response = await t.request('POST', '/auth/login', {
    body: { email: user.email, password: user.password },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Pair;
}
const me = (accessToken: string) =>
  t.request('GET', '/auth/me', { headers: { authorization: `Bearer ${accessToken}` } });
const refresh = (refreshToken: string) => t.request('POST', '/auth/refresh', { body: { refreshToken } });

describe('POST /auth/logout-all', () => {
  it('answers 204 and ends every session of the account: refresh tokens and access tokens alike', async () => {
    const user = await signUp(t);
    const phone = await signInAgain(user);
    const bystander = await signUp(t);
    expect((await me(phone.accessToken)).status).toBe(200);

    const response = await t.request('POST', '/auth/logout-all', { headers: user.headers });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');

    for (const pair of [user, phone]) {
      expect((await me(pair.accessToken)).status).toBe(401);
      expect((await refresh(pair.refreshToken)).status).toBe(401);
    }
    expect((await me(bystander.accessToken)).status).toBe(200);
    expect((await refresh(bystander.refreshToken)).status).toBe(200);
  });

  it('leaves the account able to sign in again', async () => {
    const user = await signUp(t);
    expect((await t.request('POST', '/auth/logout-all', { headers: user.headers })).status).toBe(204);
    const fresh = await signInAgain(user);
    expect((await me(fresh.accessToken)).status).toBe(200);
    expect((await refresh(fresh.refreshToken)).status).toBe(200);
  });

  it('answers 401 without a live access token, also for a second call with the ended one', async () => {
    expect((await t.request('POST', '/auth/logout-all')).status).toBe(401);
    const user = await signUp(t);
    expect((await t.request('POST', '/auth/logout-all', { headers: user.headers })).status).toBe(204);
    expect((await t.request('POST', '/auth/logout-all', { headers: user.headers })).status).toBe(401);
  });
});
