import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { signUp } from '../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

function post(path: string, refreshToken: string) {
  return t.request('POST', path, { body: { refreshToken } });
}

describe('POST /auth/logout', () => {
  it('answers 204 with no body, after which the token no longer refreshes', async () => {
    const user = await signUp(t);
    const response = await post('/auth/logout', user.refreshToken);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect((await post('/auth/refresh', user.refreshToken)).status).toBe(401);
  });

  it('ends the session’s access tokens at once, not at their expiry', async () => {
    const user = await signUp(t);
    const rotated = (await (await post('/auth/refresh', user.refreshToken)).json()) as {
      accessToken: string;
    };
    const asRotated = { authorization: `Bearer ${rotated.accessToken}` };
    expect((await t.request('GET', '/auth/me', { headers: user.headers })).status).toBe(200);
    expect((await post('/auth/logout', user.refreshToken)).status).toBe(204);
    expect((await t.request('GET', '/auth/me', { headers: user.headers })).status).toBe(401);
    expect((await t.request('GET', '/auth/me', { headers: asRotated })).status).toBe(401);
  });

  it('revokes the later tokens of the same family too', async () => {
    const user = await signUp(t);
    const rotated = await post('/auth/refresh', user.refreshToken);
    const { refreshToken: later } = (await rotated.json()) as { refreshToken: string };
    expect((await post('/auth/logout', user.refreshToken)).status).toBe(204);
    expect((await post('/auth/refresh', later)).status).toBe(401);
  });

  it('leaves the account’s other sign-ins alone', async () => {
    const user = await signUp(t);
    const login = await t.request('POST', '/auth/login', {
      body: { email: user.email, password: user.password },
    });
    const otherDevice = (await login.json()) as { refreshToken: string; accessToken: string };
    expect((await post('/auth/logout', user.refreshToken)).status).toBe(204);
    const headers = { authorization: `Bearer ${otherDevice.accessToken}` };
    expect((await t.request('GET', '/auth/me', { headers })).status).toBe(200);
    expect((await post('/auth/refresh', otherDevice.refreshToken)).status).toBe(200);
  });

  it('answers 204 for an unknown token too', async () => {
    expect((await post('/auth/logout', 'never-issued-token')).status).toBe(204);
  });

  it('answers 400 without a token', async () => {
    const response = await t.request('POST', '/auth/logout', { body: {} });
    expect(response.status).toBe(400);
  });
});
