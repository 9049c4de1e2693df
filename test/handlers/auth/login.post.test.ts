import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

const password = 'correct horse battery staple';

async function register(app: TestApp = t): Promise<{ id: string; email: string }> {
  const email = `login-${randomUUID()}@example.test`;
  const response = await app.request('POST', '/auth/register', { body: { email, password } });
  expect(response.status).toBe(201);
  return { id: ((await response.json()) as { id: string }).id, email };
}

/** Takes one of the app's hash slots, for as long as one hash at the app's cost takes, until `done`. */
function holdHasher(app: TestApp) {
  const started = performance.now();
  let finishedAt: number | undefined;
  const done = app.services.passwords.hash('holds a hash slot').then(() => {
    finishedAt = performance.now();
  });
  return {
    done,
    stillRunning: () => finishedAt === undefined,
    tookMs: () => (finishedAt ?? performance.now()) - started,
  };
}

function login(body: Record<string, unknown>, headers?: Record<string, string>, app: TestApp = t) {
  return app.request('POST', '/auth/login', { body, headers });
}

describe('POST /auth/login', () => {
  it('answers 200 with a token pair whose access token signs the account in', async () => {
    const user = await register();
    const response = await login({ email: user.email.toUpperCase(), password });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const pair = (await response.json()) as { accessToken: string };
    expect(pair).toEqual({
      accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: t.settings.auth.accessTokenTtlSeconds,
    });
    const me = await t.request('GET', '/auth/me', {
      headers: { authorization: `Bearer ${pair.accessToken}` },
    });
    expect(((await me.json()) as { id: string }).id).toBe(user.id);
  });

  it('answers a wrong password and an unknown email with the same 401', async () => {
    const user = await register();
    const wrong = await login({ email: user.email, password: 'not the password at all' });
    const unknown = await login({ email: `nobody-${randomUUID()}@example.test`, password });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const sameHeaders = (response: Response) =>
      [...response.headers].filter(([name]) => name !== 'x-request-id' && name !== 'content-length');
    expect(sameHeaders(wrong)).toEqual(sameHeaders(unknown));
    const strip = ({ requestId: _, instance: __, ...rest }: Record<string, unknown>) => rest;
    type Body = Record<string, unknown>;
    const [wrongBody, unknownBody] = [(await wrong.json()) as Body, (await unknown.json()) as Body];
    expect(JSON.stringify(strip(wrongBody))).toBe(JSON.stringify(strip(unknownBody)));
    expect(wrongBody).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('refuses the sixth try in a minute for one email and address with 429 and Retry-After', async () => {
    expect(t.settings.auth.loginAttemptsPerMinute).toBe(5);
    const user = await register();
    const bystander = await register();
    for (let i = 0; i < 5; i++) {
      expect((await login({ email: user.email, password: 'wrong password, again' })).status).toBe(401);
    }
    const sixth = await login({ email: user.email, password });
    expect(sixth.status).toBe(429);
    const retryAfter = Number(sixth.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await sixth.json()).toMatchObject({ status: 429, code: 'too_many_requests' });
    expect((await login({ email: user.email.toUpperCase(), password })).status).toBe(429);
    expect((await login({ email: bystander.email, password })).status).toBe(200);
  });

  it('refuses an address past its tries a minute whatever the emails, with 429 before any password is hashed', async () => {
    const limited = await createTestApp({
      root: projectRoot,
      env: {
        RD_PREFIX: `loginaddr${randomUUID().slice(0, 8)}`,
        LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: '3',
        PASSWORD_HASH_CONCURRENCY: '1',
        PASSWORD_SCRYPT_N: String(2 ** 17),
      },
    });
    try {
      const user = await register(limited);
      for (let i = 0; i < 3; i++) {
        const fresh = { email: `nobody-${randomUUID()}@example.test`, password };
        expect((await login(fresh, undefined, limited)).status).toBe(401);
      }
      // With the only hash slot taken, a request that hashed before its limit would answer 503, not 429.
      const held = holdHasher(limited);
      const fourth = await login(
        { email: `nobody-${randomUUID()}@example.test`, password },
        undefined,
        limited,
      );
      const known = await login({ email: user.email, password }, undefined, limited);
      const heldThroughout = held.stillRunning();
      await held.done;
      for (const refused of [fourth, known]) {
        expect(refused.status).toBe(429);
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      expect(heldThroughout).toBe(true);
    } finally {
      await limited.close();
    }
  });

  it('answers 503 with Retry-After at once when the process already hashes its maximum, then signs in', async () => {
    const capped = await createTestApp({
      root: projectRoot,
      env: { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_SCRYPT_N: String(2 ** 17) },
    });
    try {
      const user = await register(capped);
      const held = holdHasher(capped);
      const started = performance.now();
      const busy = await login({ email: user.email, password }, undefined, capped);
      const waitedMs = performance.now() - started;
      const heldThroughout = held.stillRunning();
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('1');
      expect(await busy.json()).toMatchObject({ status: 503, code: 'unavailable' });
      expect(heldThroughout).toBe(true);
      await held.done;
      expect(waitedMs).toBeLessThan(held.tookMs());
      expect((await login({ email: user.email, password }, undefined, capped)).status).toBe(200);
    } finally {
      await capped.close();
    }
  });

  it('counts each client address on its own behind a trusted proxy', async () => {
    const proxied = await createTestApp({ root: projectRoot, env: { TRUST_PROXY: '2' } });
    try {
      const user = await register(proxied);
      const from = (ip: string) => ({ 'x-forwarded-for': `${ip}, 10.0.0.1` });
      for (let i = 0; i < 5; i++)
        await login({ email: user.email, password: 'wrong' }, from('203.0.113.7'), proxied);
      expect((await login({ email: user.email, password }, from('203.0.113.7'), proxied)).status).toBe(429);
      expect((await login({ email: user.email, password }, from('198.51.100.9'), proxied)).status).toBe(200);
    } finally {
      await proxied.close();
    }
  });

  it('stores the password as an scrypt hash at the configured cost, and any stored cost still verifies', async () => {
    const user = await register();
    const [row] = await t.sql<
      { password_hash: string }[]
    >`select password_hash from users where id = ${user.id}`;
    expect(row?.password_hash).toMatch(/^scrypt\$1024\$8\$1\$[\w-]+\$[\w-]+$/);

    const costlier = await createTestApp({ root: projectRoot, env: { PASSWORD_SCRYPT_N: '2048' } });
    try {
      const other = await register(costlier);
      const [stored] = await t.sql<{ password_hash: string }[]>`
        select password_hash from users where id = ${other.id}`;
      expect(stored?.password_hash.startsWith('scrypt$2048$8$1$')).toBe(true);
      expect((await login({ email: other.email, password })).status).toBe(200);
    } finally {
      await costlier.close();
    }
  });

  it('answers 400 naming the field for a missing password or an extra field', async () => {
    const missing = await login({ email: 'someone@example.test' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { errors: unknown }).errors).toEqual([
      { field: 'body.password', message: expect.any(String) },
    ]);
    const extra = await login({ email: 'someone@example.test', password, remember: true });
    expect(extra.status).toBe(400);
  });
});
