import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../../../shared/tokens.ts';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { signUp } from '../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

describe('GET /auth/me', () => {
  it('returns the account of a valid access token', async () => {
    const user = await signUp(t, 'Ada');
    const response = await t.request('GET', '/auth/me', { headers: user.headers });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      id: user.id,
      email: user.email,
      name: 'Ada',
      createdAt: expect.any(String),
    });
  });

  it('answers 401 without a token, with a malformed one, and with an expired one', async () => {
    const user = await signUp(t);
    expect((await t.request('GET', '/auth/me')).status).toBe(401);
    const garbled = { authorization: `${user.headers.authorization.slice(0, -4)}AAAA` };
    expect((await t.request('GET', '/auth/me', { headers: garbled })).status).toBe(401);
    const settings = { ...t.config.auth, ttlSeconds: 60 };
    const expired = signAccessToken(t.keys, settings, user.id, Date.now() - 10 * 60_000).token;
    const response = await t.request('GET', '/auth/me', { headers: { authorization: `Bearer ${expired}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });
});
