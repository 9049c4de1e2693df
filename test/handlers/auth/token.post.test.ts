import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

const password = 'correct horse battery staple';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

async function register(): Promise<string> {
  const email = `token-${randomUUID()}@example.test`;
  const response = await t.request('POST', '/auth/register', { body: { email, password } });
  expect(response.status).toBe(201);
  return email;
}

/** What the docs page's Authorize dialog sends for an OAuth2 password flow. */
function tokenRequest(fields: Record<string, string>, headers: Record<string, string> = FORM) {
  return t.request('POST', '/auth/token', { body: new URLSearchParams(fields).toString(), headers });
}

describe('POST /auth/token', () => {
  it('answers a form-encoded password grant with an OAuth2 token whose access token signs in', async () => {
    const email = await register();
    const response = await tokenRequest({ grant_type: 'password', username: email, password, scope: '' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const token = (await response.json()) as { access_token: string };
    expect(token).toEqual({
      access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      token_type: 'Bearer',
      expires_in: t.settings.auth.accessTokenTtlSeconds,
      refresh_token: expect.any(String),
    });
    const me = await t.request('GET', '/auth/me', {
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { email: string }).email).toBe(email);
  });

  it('answers a wrong password with the same 401 as POST /auth/login', async () => {
    const email = await register();
    const response = await tokenRequest({ grant_type: 'password', username: email, password: 'wrong one' });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { detail: string }).detail).toBe('The email or password is wrong.');
  });

  it('refuses another grant type, naming the field and what it must be', async () => {
    const response = await tokenRequest({ grant_type: 'client_credentials', username: 'a@b.c', password });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { field: string; message: string }[] };
    expect(problem.errors).toContainEqual({
      field: 'body.grant_type',
      message: 'must be password: this endpoint takes the password grant only',
    });
  });

  it('answers JSON with 415, saying to send a form', async () => {
    const response = await t.request('POST', '/auth/token', {
      body: { grant_type: 'password', username: 'a@b.c', password },
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { detail: string }).detail).toMatch(
      /Content-Type: application\/x-www-form-urlencoded/,
    );
  });

  it('is the token URL of the OAuth2 password flow the document gives the docs page', async () => {
    const response = await t.request('GET', '/openapi.json');
    const document = (await response.json()) as {
      components: { securitySchemes: Record<string, { flows?: { password?: { tokenUrl: string } } }> };
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
    };
    expect(document.components.securitySchemes.bearerAuth?.flows?.password?.tokenUrl).toBe('/auth/token');
    expect(Object.keys(document.paths['/auth/token']?.post?.requestBody?.content ?? {})).toEqual([
      'application/x-www-form-urlencoded',
    ]);
  });
});
