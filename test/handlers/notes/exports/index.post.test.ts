import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateJobRecord } from '#runtime/jobs/records.ts';
import { startOutboxRelay } from '#runtime/jobs/relay.ts';
import { signAccessToken } from '#shared/tokens.ts';
import {
  captureLog,
  createTestApp,
  projectRoot,
  startTestWorker,
  type TestApp,
  type TestWorker,
} from '../../../support/app.ts';
import { insertControlCharacterNotes, insertNotes, parseCsv, parseNdjson } from '../../../support/exports.ts';
import { readJson } from '../../../support/notes.ts';
import { type SignedIn, signUp } from '../../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot, env: { RD_PREFIX: `xp${randomUUID().slice(0, 8)}` } });
});
afterAll(() => t.close());

const startExport = (user: SignedIn, body: unknown, headers: Record<string, string> = {}) =>
  t.request('POST', '/notes/exports', { body, headers: { ...user.headers, ...headers } });
const poll = { timeout: 15_000, interval: 50 };
const countRows = async (user: SignedIn) => {
  const [row] = await t.sql<{ jobs: number; exports: number; keys: number }[]>`
    select (select count(*)::int from jobs where owner = ${user.id}) as jobs,
           (select count(*)::int from exports where user_id = ${user.id}) as exports,
           (select count(*)::int from idempotency_keys where owner = ${user.id}) as keys`;
  return row;
};

describe('POST /notes/exports', () => {
  it('answers 202 with the job, its Location, and records, then enqueues a tracked export-notes job', async () => {
    const user = await signUp(t);
    const response = await startExport(user, { format: 'csv' });
    expect(response.status).toBe(202);
    const body = (await response.json()) as { id: string };
    expect(body).toEqual({ id: expect.any(String), status: 'queued', links: { self: `/jobs/${body.id}` } });
    expect(response.headers.get('location')).toBe(`/jobs/${body.id}`);
    expect(await t.sql`select owner, task, status, progress from jobs where id = ${body.id}`).toEqual([
      { owner: user.id, task: 'export-notes', status: 'queued', progress: 0 },
    ]);
    expect(await t.sql`select user_id, format, completed_at from exports where id = ${body.id}`).toEqual([
      { user_id: user.id, format: 'csv', completed_at: null },
    ]);
    expect(
      await t.sql`select task, payload, options from outbox where options->>'jobId' = ${body.id}`,
    ).toEqual([
      {
        task: 'export-notes',
        payload: { exportId: body.id },
        options: expect.objectContaining({ jobId: body.id, tracked: true, policy: expect.any(Object) }),
      },
    ]);
    // A relay (no worker yet, so the job stays queued) moves it to Redis under the export's id.
    const relay = startOutboxRelay({
      sql: t.sql,
      log: captureLog().log,
      prefix: t.config.redis.prefix,
      pollIntervalMs: 100,
      enqueue: t.enqueue,
    });
    try {
      const queue = t.queues.producer('export-notes');
      await expect
        .poll(async () => (await queue.getJob(body.id))?.data, poll)
        .toMatchObject({
          payload: { exportId: body.id },
          tracked: true,
        });
      expect((await queue.getJob(body.id)).options.retries).toBe(5);
    } finally {
      await relay.close();
    }
  });

  it('answers 400 naming the field for an unknown format or an unknown field, and creates nothing', async () => {
    const user = await signUp(t);
    const wrong = await startExport(user, { format: 'xml' });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { errors: { field: string }[] }).errors).toEqual([
      expect.objectContaining({ field: 'body.format' }),
    ]);
    const extra = await startExport(user, { format: 'csv', compress: true });
    expect(extra.status).toBe(400);
    expect(JSON.stringify(await extra.json())).toContain('body.compress');
    expect(await countRows(user)).toEqual({ jobs: 0, exports: 0, keys: 0 });
  });

  it('answers 401 without a bearer token', async () => {
    const response = await t.request('POST', '/notes/exports', { body: { format: 'csv' } });
    expect(response.status).toBe(401);
  });

  it('replays the first answer for the same Idempotency-Key and body, creating one job', async () => {
    const user = await signUp(t);
    const headers = { 'idempotency-key': `key-${randomUUID()}` };
    const first = await startExport(user, { format: 'ndjson' }, headers);
    const second = await startExport(user, { format: 'ndjson' }, headers);
    expect([first.status, second.status]).toEqual([202, 202]);
    const firstBody = (await first.json()) as { id: string };
    expect(await second.json()).toEqual(firstBody);
    expect(second.headers.get('location')).toBe(`/jobs/${firstBody.id}`);
    expect([first.headers.get('idempotent-replayed'), second.headers.get('idempotent-replayed')]).toEqual([
      null,
      'true',
    ]);
    expect(await countRows(user)).toEqual({ jobs: 1, exports: 1, keys: 1 });
  });

  it('answers 422 for the same Idempotency-Key with a different body, creating nothing more', async () => {
    const user = await signUp(t);
    const headers = { 'idempotency-key': `key-${randomUUID()}` };
    expect((await startExport(user, { format: 'ndjson' }, headers)).status).toBe(202);
    const changed = await startExport(user, { format: 'csv' }, headers);
    expect(changed.status).toBe(422);
    expect(changed.headers.get('content-type')).toBe('application/problem+json');
    expect(await countRows(user)).toEqual({ jobs: 1, exports: 1, keys: 1 });
  });

  it('answers 422 for an Idempotency-Key already used on POST /notes', async () => {
    const user = await signUp(t);
    const headers = { ...user.headers, 'idempotency-key': `key-${randomUUID()}` };
    const note = await t.request('POST', '/notes', { body: { title: 't', body: 'b' }, headers });
    expect(note.status).toBe(201);
    expect((await startExport(user, { format: 'csv' }, headers)).status).toBe(422);
    expect(await countRows(user)).toMatchObject({ jobs: 0, exports: 0 });
  });

  it('answers 202 and commits while Redis is down; the job runs once a relay reaches Redis', async () => {
    const user = await signUp(t);
    const prefix = `xpdown${randomUUID().slice(0, 8)}`;
    const broken = await createTestApp({
      root: projectRoot,
      migrate: false,
      env: { RD_PORT: String(await closedPort()), RD_PREFIX: prefix, ENQUEUE_TIMEOUT_MS: '300' },
    });
    const key = { 'idempotency-key': `key-${randomUUID()}` };
    // Each test app signs with its own throwaway key, so the broken one needs a token of its own.
    const settings = { ...broken.settings.auth, ttlSeconds: 60 };
    const sessionId = String(decodeJwt(user.accessToken).sid);
    const { token } = await signAccessToken(broken.services.keys, settings, { userId: user.id, sessionId });
    let id: string;
    try {
      const accepted = await broken.request('POST', '/notes/exports', {
        body: { format: 'csv' },
        headers: { authorization: `Bearer ${token}`, ...key },
      });
      expect(accepted.status).toBe(202);
      id = ((await accepted.json()) as { id: string }).id;
    } finally {
      await broken.close();
    }
    expect(await countRows(user)).toEqual({ jobs: 1, exports: 1, keys: 1 });
    expect(await t.sql`select task from outbox where queue_prefix = ${prefix}`).toEqual([
      { task: 'export-notes' },
    ]);
    const replayed = await startExport(user, { format: 'csv' }, key);
    expect(replayed.status).toBe(202);
    expect(((await replayed.json()) as { id: string }).id).toBe(id);

    const worker = await startTestWorker(['export-notes'], { root: projectRoot, env: { RD_PREFIX: prefix } });
    try {
      await expect
        .poll(async () => {
          const job = await t.request('GET', `/jobs/${id}`, { headers: user.headers });
          return ((await job.json()) as { status: string }).status;
        }, poll)
        .toBe('succeeded');
    } finally {
      await worker.close(2_000);
    }
    expect(await t.sql`select task from outbox where queue_prefix = ${prefix}`).toEqual([]);
  });

  it('documents its body with examples in the OpenAPI document', async () => {
    const openapi = (await (await t.request('GET', '/openapi.json')).json()) as {
      paths: Record<
        string,
        Record<string, { requestBody: { content: Record<string, { schema: unknown }> } }>
      >;
    };
    const schema = openapi.paths['/notes/exports']?.post?.requestBody.content['application/json']?.schema;
    expect(schema).toMatchObject({ examples: [{ format: 'ndjson' }, { format: 'csv' }] });
  });
});

describe('POST /notes/exports, run by a worker', () => {
  let worker: TestWorker;
  beforeAll(async () => {
    worker = await startTestWorker(['export-notes'], {
      root: projectRoot,
      env: { RD_PREFIX: t.config.redis.prefix },
    });
  });
  afterAll(() => worker.close(2_000));

  const tricky = 'Commas, "quotes"\nand a second line';
  async function exportAndDownload(user: SignedIn, format: 'ndjson' | 'csv') {
    const started = await startExport(user, { format });
    expect(started.status).toBe(202);
    const jobUrl = started.headers.get('location') as string;
    let job: { status?: string; progress?: number; result?: { url: string } } = {};
    await expect
      .poll(
        async () => {
          job = (await (await t.request('GET', jobUrl, { headers: user.headers })).json()) as typeof job;
          return job.status;
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe('succeeded');
    expect(job.progress).toBe(100);
    expect(job.result?.url).toBe(`/notes/exports/${jobUrl.split('/').pop()}`);
    const file = await t.request('GET', job.result?.url as string, { headers: user.headers });
    expect(file.status).toBe(200);
    return { jobUrl, fileUrl: job.result?.url as string, file };
  }

  it('exports the notes as NDJSON from request to download, and hides both from another user', async () => {
    const user = await signUp(t);
    const [older, newer] = await insertNotes(t.sql, user.id, [
      { title: 'first', body: tricky, tags: ['a', 'b'], createdAt: '2026-03-01T08:00:00.000Z' },
      { title: 'second', body: 'plain', createdAt: '2026-03-02T08:00:00.000Z' },
    ]);
    const { jobUrl, fileUrl, file } = await exportAndDownload(user, 'ndjson');
    expect(file.headers.get('content-type')).toBe('application/x-ndjson');
    expect(file.headers.get('content-disposition')).toMatch(
      /^attachment; filename="notes-\d{4}-\d{2}-\d{2}\.ndjson"$/,
    );
    const notes = parseNdjson(await file.text());
    expect(notes.map((note) => [note.id, note.title])).toEqual([
      [newer, 'second'],
      [older, 'first'],
    ]);
    expect(notes[1]).toMatchObject({ body: tricky, tags: ['a', 'b'], createdAt: '2026-03-01T08:00:00.000Z' });

    const stranger = await signUp(t);
    expect((await t.request('GET', jobUrl, { headers: stranger.headers })).status).toBe(404);
    expect((await t.request('GET', fileUrl, { headers: stranger.headers })).status).toBe(404);
  });

  it('exports the notes as CSV from request to download', async () => {
    const user = await signUp(t);
    const [id] = await insertNotes(t.sql, user.id, [{ title: '=1+1', body: tricky, tags: ['x', 'y'] }]);
    const { file } = await exportAndDownload(user, 'csv');
    expect(file.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(file.headers.get('content-disposition')).toMatch(
      /^attachment; filename="notes-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const [header, row, ...rest] = parseCsv(await file.text());
    expect(header).toEqual(['id', 'title', 'body', 'tags', 'createdAt', 'updatedAt']);
    expect(row?.slice(0, 4)).toEqual([id, "'=1+1", tricky, 'x;y']);
    expect(rest).toEqual([]);
  });
});

describe('POST /notes/exports, within the account’s limits', () => {
  it('answers 429 exports_in_flight while the account’s export runs, and takes one once it has finished', async () => {
    const user = await signUp(t);
    const first = await startExport(user, { format: 'csv' });
    expect(first.status).toBe(202);
    const { id } = await readJson(first);
    const refused = await startExport(user, { format: 'ndjson' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    const problem = await readJson(refused);
    expect(problem).toMatchObject({ code: 'exports_in_flight', jobs: [`/jobs/${id}`] });
    expect(problem.detail).toContain(`wait until /jobs/${id}`);
    expect(await countRows(user)).toEqual({ jobs: 1, exports: 1, keys: 0 });

    await updateJobRecord(t.sql, id, { status: 'succeeded' });
    expect((await startExport(user, { format: 'ndjson' })).status).toBe(202);
  });

  it('no longer counts an export whose job record has not moved for an hour', async () => {
    const user = await signUp(t);
    const { id } = await readJson(await startExport(user, { format: 'csv' }));
    await t.sql`update jobs set updated_at = now() - interval '61 minutes' where id = ${id}`;
    expect((await startExport(user, { format: 'csv' })).status).toBe(202);
  });

  it('holds the limit for requests sent at once', async () => {
    const user = await signUp(t);
    const answers = await Promise.all(Array.from({ length: 4 }, () => startExport(user, { format: 'csv' })));
    expect(answers.map((answer) => answer.status).sort()).toEqual([202, 429, 429, 429]);
    expect(await countRows(user)).toMatchObject({ jobs: 1, exports: 1 });
  });

  it('answers 422 export_too_large when the notes would make a file over EXPORT_MAX_BYTES', async () => {
    const small = await createTestApp({
      root: projectRoot,
      migrate: false,
      env: { EXPORT_MAX_BYTES: '4096' },
    });
    try {
      const user = await signUp(small);
      // A body of 600 control characters is 3,602 bytes as JSON; with its title, tags and line, 3,761.
      await insertControlCharacterNotes(t.sql, user.id, { count: 1, bodyChars: 600 });
      const fits = await small.request('POST', '/notes/exports', {
        headers: user.headers,
        body: { format: 'csv' },
      });
      expect(fits.status).toBe(202);
      await updateJobRecord(t.sql, (await readJson(fits)).id, { status: 'succeeded' });
      await insertControlCharacterNotes(t.sql, user.id, { count: 1, bodyChars: 100 });
      const refused = await small.request('POST', '/notes/exports', {
        headers: user.headers,
        body: { format: 'csv' },
      });
      expect(refused.status).toBe(422);
      const problem = await readJson(refused);
      expect(problem).toMatchObject({ code: 'export_too_large', bytes: 3_761 + 761, maxBytes: 4_096 });
      expect(problem.detail).toContain('Delete or shorten some notes');
      expect(await countRows(user)).toMatchObject({ jobs: 1, exports: 1 });
    } finally {
      await small.close();
    }
  });
});

/** A port that refuses connections: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
