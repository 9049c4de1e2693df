import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, startTestWorker, type TestApp } from '../../support/app.ts';
import { freePort } from '../../support/services.ts';

let t: TestApp;
beforeAll(async () => {
  // A prefix of its own, so that no worker started by another test file takes the jobs this file looks for.
  t = await createTestApp({ root: projectRoot, env: { RD_PREFIX: `reg${randomUUID().slice(0, 8)}` } });
});
afterAll(() => t.close());

const email = () => `reg-${randomUUID()}@example.test`;
const password = 'correct horse battery staple';
type Problem = { status: number; code: string; errors?: { field: string; message: string }[] };

async function usersWithEmail(address: string) {
  return t.sql`select id from users where lower(email) = ${address.toLowerCase()}`;
}

describe('POST /auth/register', () => {
  it('creates the account and answers 201 with it, the email trimmed and lowercased', async () => {
    const address = email();
    const response = await t.request('POST', '/auth/register', {
      body: { email: `  ${address.toUpperCase()} `, password, name: 'Ada Lovelace' },
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { id: string; createdAt: string };
    expect(body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: address,
      name: 'Ada Lovelace',
      createdAt: expect.any(String),
    });
    expect(new Date(body.createdAt).toISOString()).toBe(body.createdAt);
    expect(await usersWithEmail(address)).toEqual([{ id: body.id }]);
  });

  it('takes the name as optional', async () => {
    const response = await t.request('POST', '/auth/register', { body: { email: email(), password } });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { name: unknown }).name).toBeNull();
  });

  it('answers 409 for an email that differs only in case from an existing one', async () => {
    const local = `reg-${randomUUID()}`;
    const first = await t.request('POST', '/auth/register', { body: { email: `${local}@x.test`, password } });
    expect(first.status).toBe(201);
    const second = await t.request('POST', '/auth/register', {
      body: { email: `${local.toUpperCase()}@X.TEST`, password },
    });
    expect(second.status).toBe(409);
    expect(second.headers.get('content-type')).toBe('application/problem+json');
    expect(await second.json()).toMatchObject({ status: 409, code: 'conflict' });
    expect(await usersWithEmail(`${local}@x.test`)).toHaveLength(1);
  });

  it('refuses an address past its sign-ups an hour with 429, before any hash; a taken email costs no hash either', async () => {
    const limited = await createTestApp({
      root: projectRoot,
      env: {
        RD_PREFIX: `regaddr${randomUUID().slice(0, 8)}`,
        REGISTER_ATTEMPTS_PER_HOUR: '3',
        PASSWORD_HASH_CONCURRENCY: '1',
        PASSWORD_SCRYPT_N: String(2 ** 17),
      },
    });
    try {
      const address = email();
      const register = (body: Record<string, unknown>) => limited.request('POST', '/auth/register', { body });
      expect((await register({ email: address, password })).status).toBe(201);
      // With the only hash slot taken, a request that hashed before answering would answer 503 instead.
      let held = true;
      const hold = limited.services.passwords.hash('holds a hash slot').then(() => {
        held = false;
      });
      const taken = await register({ email: address.toUpperCase(), password });
      const busy = await register({ email: email(), password });
      const over = await register({ email: email(), password });
      const heldThroughout = held;
      await hold;
      expect(taken.status).toBe(409);
      expect(busy.status).toBe(503);
      expect(over.status).toBe(429);
      const retryAfter = Number(over.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(60);
      expect(retryAfter).toBeLessThanOrEqual(3_600);
      expect(heldThroughout).toBe(true);
    } finally {
      await limited.close();
    }
  });

  it('requires a password of 12 to 256 characters', async () => {
    for (const length of [11, 257]) {
      const address = email();
      const response = await t.request('POST', '/auth/register', {
        body: { email: address, password: 'p'.repeat(length) },
      });
      expect(response.status, `length ${length}`).toBe(400);
      const problem = (await response.json()) as Problem;
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors?.map((error) => error.field)).toEqual(['body.password']);
      expect(await usersWithEmail(address)).toHaveLength(0);
    }
    for (const length of [12, 256]) {
      const response = await t.request('POST', '/auth/register', {
        body: { email: email(), password: 'p'.repeat(length) },
      });
      expect(response.status, `length ${length}`).toBe(201);
    }
  });

  it('answers 400 naming each bad field: an unknown field, a bad email, a missing password', async () => {
    const unknown = await t.request('POST', '/auth/register', {
      body: { email: email(), password, isAdmin: true },
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as Problem).errors?.map((error) => error.field)).toEqual(['body.isAdmin']);

    const bad = await t.request('POST', '/auth/register', { body: { email: 'not an email' } });
    expect(bad.status).toBe(400);
    const fields = ((await bad.json()) as Problem).errors?.map((error) => error.field);
    expect(fields).toEqual(expect.arrayContaining(['body.email', 'body.password']));
  });

  it('writes send-welcome-email to the outbox with the account; a worker’s relay enqueues and runs it', async () => {
    const response = await t.request('POST', '/auth/register', { body: { email: email(), password } });
    const { id } = (await response.json()) as { id: string };
    expect(await outboxRows(t.config.redis.prefix, id)).toEqual([
      {
        task: 'send-welcome-email',
        payload: { userId: id },
        options: expect.objectContaining({ policy: expect.any(Object) }),
      },
    ]);
    await runWorker(t.config.redis.prefix, async () => {
      await expect.poll(() => welcomeStatus(id), poll).toBe('sent');
    });
    expect(await outboxRows(t.config.redis.prefix, id)).toEqual([]);
  });
});

describe('POST /auth/register while Redis is down', () => {
  const prefix = `regdown${randomUUID().slice(0, 8)}`;
  let down: TestApp;
  beforeAll(async () => {
    down = await createTestApp({
      root: projectRoot,
      migrate: false,
      env: { RD_PORT: String(await freePort()), RD_PREFIX: prefix, ENQUEUE_TIMEOUT_MS: '300' },
    });
  });
  afterAll(() => down.close());

  it('answers 201 with the account committed and its welcome waiting in the outbox, sent once Redis is back', async () => {
    const address = email();
    const response = await down.request('POST', '/auth/register', { body: { email: address, password } });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    expect(await usersWithEmail(address)).toEqual([{ id }]);
    expect(await outboxRows(prefix, id)).toHaveLength(1);

    // A worker on a Redis that answers, for the same queues: its relay enqueues the job and the worker runs it.
    await runWorker(prefix, async () => {
      await expect.poll(() => welcomeStatus(id), poll).toBe('sent');
    });
    expect(await outboxRows(prefix, id)).toEqual([]);
  });
});

const poll = { timeout: 15_000, interval: 50 };

function outboxRows(prefix: string, userId: string) {
  return t.sql`
    select task, payload, options from outbox where queue_prefix = ${prefix} and payload->>'userId' = ${userId}`;
}

async function welcomeStatus(userId: string) {
  const [row] = await t.sql<{ status: string }[]>`
    select status from sent_emails where user_id = ${userId} and kind = 'welcome'`;
  return row?.status;
}

/** Runs a worker of send-welcome-email on the working Redis under `prefix` while `body` runs. */
async function runWorker(prefix: string, body: () => Promise<void>) {
  const worker = await startTestWorker(['send-welcome-email'], {
    root: projectRoot,
    env: { RD_PREFIX: prefix },
  });
  try {
    await body();
  } finally {
    await worker.close(2_000);
  }
}
