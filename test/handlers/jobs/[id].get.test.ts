import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateJobRecord } from '#runtime/jobs/records.ts';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { createExport } from '../../support/exports.ts';
import { signUp } from '../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot, env: { RD_PREFIX: `xj${randomUUID().slice(0, 8)}` } });
});
afterAll(() => t.close());

describe('GET /jobs/:id', () => {
  it('returns a queued job the caller started, uncached', async () => {
    const user = await signUp(t);
    const started = await t.request('POST', '/notes/exports', {
      body: { format: 'csv' },
      headers: user.headers,
    });
    const { id } = (await started.json()) as { id: string };
    const response = await t.request('GET', `/jobs/${id}`, { headers: user.headers });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const job = await response.json();
    expect(job).toEqual({
      id,
      task: 'export-notes',
      status: 'queued',
      progress: 0,
      createdAt: expect.stringMatching(/Z$/),
      updatedAt: expect.stringMatching(/Z$/),
    });
  });

  it('returns the result of a succeeded job and the error of a failed one', async () => {
    const user = await signUp(t);
    const done = await createExport(t.sql, user.id, 'ndjson');
    await updateJobRecord(t.sql, done, { status: 'succeeded', progress: 100, result: { url: '/x' } });
    const failed = await createExport(t.sql, user.id, 'csv');
    await updateJobRecord(t.sql, failed, { status: 'failed', progress: 40, error: 'boom' });

    const succeeded = await (await t.request('GET', `/jobs/${done}`, { headers: user.headers })).json();
    expect(succeeded).toMatchObject({ status: 'succeeded', progress: 100, result: { url: '/x' } });
    expect(succeeded).not.toHaveProperty('error');
    const failure = await (await t.request('GET', `/jobs/${failed}`, { headers: user.headers })).json();
    expect(failure).toMatchObject({ status: 'failed', progress: 40, error: 'boom' });
    expect(failure).not.toHaveProperty('result');
  });

  it('answers 404 for another user’s job and for an unknown id', async () => {
    const owner = await signUp(t);
    const stranger = await signUp(t);
    const id = await createExport(t.sql, owner.id, 'csv');
    const theirs = await t.request('GET', `/jobs/${id}`, { headers: stranger.headers });
    expect(theirs.status).toBe(404);
    expect(theirs.headers.get('content-type')).toBe('application/problem+json');
    expect((await t.request('GET', `/jobs/${randomUUID()}`, { headers: owner.headers })).status).toBe(404);
  });

  it('answers 400 naming params.id for an id that is not a uuid', async () => {
    const user = await signUp(t);
    const response = await t.request('GET', '/jobs/not-a-uuid', { headers: user.headers });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { field: string }[] }).errors).toEqual([
      expect.objectContaining({ field: 'params.id' }),
    ]);
  });

  it('answers 401 without a bearer token', async () => {
    expect((await t.request('GET', `/jobs/${randomUUID()}`)).status).toBe(401);
  });
});
