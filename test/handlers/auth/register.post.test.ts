import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
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

  it('enqueues send-welcome-email with the new account id', async () => {
    const response = await t.request('POST', '/auth/register', { body: { email: email(), password } });
    const { id } = (await response.json()) as { id: string };
    const queue = t.queues.get('send-welcome-email');
    const deadline = Date.now() + 5_000;
    let payloads: unknown[] = [];
    while (Date.now() < deadline) {
      const jobs = await queue.getJobs('waiting', { start: 0, end: 1_000 });
      payloads = jobs.map((job) => (job.data as { payload: unknown }).payload);
      if (payloads.some((payload) => (payload as { userId?: string }).userId === id)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(payloads).toContainEqual({ userId: id });
  });
});

describe('POST /auth/register when Redis cannot take the job', () => {
  let down: TestApp;
  beforeAll(async () => {
    down = await createTestApp({
      root: projectRoot,
      env: { RD_PORT: String(await freePort()), ENQUEUE_TIMEOUT_MS: '300' },
    });
  });
  afterAll(() => down.close());

  it('answers 503 with Retry-After and creates no account', async () => {
    const address = email();
    const response = await down.request('POST', '/auth/register', { body: { email: address, password } });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await response.json()).toMatchObject({ status: 503, code: 'unavailable' });
    expect(await usersWithEmail(address)).toHaveLength(0);
  });
});
