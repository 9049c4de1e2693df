import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateJobRecord } from '#runtime/jobs/records.ts';
import exportNotes from '#tasks/export-notes.ts';
import { createTestApp, projectRoot, type TestApp } from '../../../support/app.ts';
import {
  createExport,
  insertControlCharacterNotes,
  insertNotes,
  liveBytes,
  parseCsv,
  parseNdjson,
} from '../../../support/exports.ts';
import { signUp } from '../../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot, env: { RD_PREFIX: `xd${randomUUID().slice(0, 8)}` } });
});
afterAll(() => t.close());

const tricky = 'a, "b"\nc';

describe('GET /notes/exports/:exportId', () => {
  it('sends a finished NDJSON export as an attachment', async () => {
    const user = await signUp(t);
    const [noteId] = await insertNotes(t.sql, user.id, [{ title: 't', body: tricky, tags: ['x'] }]);
    const id = await createExport(t.sql, user.id, 'ndjson');
    await t.runTask(exportNotes, { exportId: id });
    const response = await t.request('GET', `/notes/exports/${id}`, { headers: user.headers });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const [row] = await t.sql<{ created_at: Date }[]>`select created_at from exports where id = ${id}`;
    const day = row?.created_at.toISOString().slice(0, 10);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="notes-${day}.ndjson"`);
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(parseNdjson(await response.text())).toEqual([
      {
        id: noteId,
        title: 't',
        body: tricky,
        tags: ['x'],
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    ]);
  });

  it('sends a finished CSV export as a UTF-8 attachment', async () => {
    const user = await signUp(t);
    const [noteId] = await insertNotes(t.sql, user.id, [{ title: 'Grüße', body: tricky }]);
    const id = await createExport(t.sql, user.id, 'csv');
    await t.runTask(exportNotes, { exportId: id });
    const response = await t.request('GET', `/notes/exports/${id}`, { headers: user.headers });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="notes-[\d-]{10}\.csv"$/,
    );
    const rows = parseCsv(await response.text());
    expect(rows[1]?.slice(0, 4)).toEqual([noteId, 'Grüße', tricky, '']);
  });

  it('streams a 48 MB file with its Content-Length, holding one chunk at a time', async () => {
    const user = await signUp(t);
    await insertControlCharacterNotes(t.sql, user.id, { count: 800, bodyChars: 10_000 });
    const id = await createExport(t.sql, user.id, 'ndjson');
    await t.runTask(exportNotes, { exportId: id });
    const before = await liveBytes();
    const response = await t.request('GET', `/notes/exports/${id}`, { headers: user.headers });
    expect(response.status).toBe(200);
    const length = Number(response.headers.get('content-length'));
    expect(length).toBeGreaterThan(48_000_000);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let received = 0;
    let lines = 0;
    let most = 0;
    for (let read = 0; ; read++) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
      for (const byte of value) if (byte === 0x0a) lines++;
      if (read % 8 === 0) most = Math.max(most, (await liveBytes()) - before);
    }
    expect({ received, lines }).toEqual({ received: length, lines: 800 });
    // One chunk travels as hex text too, so a few MB: a file held whole would be over 48 MB.
    expect(most).toBeLessThan(16 * 1024 * 1024);
  }, 60_000);

  it('fails the body, rather than end a short file, when a chunk is purged midway', async () => {
    const user = await signUp(t);
    await insertControlCharacterNotes(t.sql, user.id, { count: 60, bodyChars: 10_000 });
    const id = await createExport(t.sql, user.id, 'ndjson');
    await t.runTask(exportNotes, { exportId: id });
    const response = await t.request('GET', `/notes/exports/${id}`, { headers: user.headers });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    expect((await reader.read()).done).toBe(false);
    await t.sql`delete from export_chunks where export_id = ${id} and seq > 0`;
    await expect(reader.read()).rejects.toThrow(`chunk 1 of export ${id} is gone`);
  });

  it('answers 409 export_not_ready, pointing at the job, until the export is finished', async () => {
    const user = await signUp(t);
    const started = await t.request('POST', '/notes/exports', {
      body: { format: 'csv' },
      headers: user.headers,
    });
    const { id } = (await started.json()) as { id: string };
    const response = await t.request('GET', `/notes/exports/${id}`, { headers: user.headers });
    expect(response.status).toBe(409);
    expect(response.headers.get('retry-after')).toBe('2');
    const problem = (await response.json()) as { code: string; detail: string; job: string };
    expect(problem).toMatchObject({ code: 'export_not_ready', job: `/jobs/${id}` });
    expect(problem.detail).toContain(`Poll /jobs/${id}`);
  });

  it('answers 409 export_failed when the export job has failed', async () => {
    const user = await signUp(t);
    const id = await createExport(t.sql, user.id, 'ndjson');
    await updateJobRecord(t.sql, id, { status: 'failed', error: 'boom' });
    const response = await t.request('GET', `/notes/exports/${id}`, { headers: user.headers });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: 'export_failed', job: `/jobs/${id}` });
  });

  it('answers 404 for another user’s export and for an unknown id', async () => {
    const owner = await signUp(t);
    const stranger = await signUp(t);
    const id = await createExport(t.sql, owner.id, 'ndjson');
    await t.runTask(exportNotes, { exportId: id });
    expect((await t.request('GET', `/notes/exports/${id}`, { headers: stranger.headers })).status).toBe(404);
    const unknown = await t.request('GET', `/notes/exports/${randomUUID()}`, { headers: owner.headers });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 400 naming params.exportId for an id that is not a uuid', async () => {
    const user = await signUp(t);
    const response = await t.request('GET', '/notes/exports/latest', { headers: user.headers });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('params.exportId');
  });

  it('documents both file types of its 200 answer in the OpenAPI document', async () => {
    const openapi = (await (await t.request('GET', '/openapi.json')).json()) as {
      paths: Record<string, { get: { responses: Record<string, { content: Record<string, unknown> }> } }>;
    };
    const ok = openapi.paths['/notes/exports/{exportId}']?.get.responses['200'];
    expect(Object.keys(ok?.content ?? {})).toEqual(['application/x-ndjson', 'text/csv; charset=utf-8']);
    expect(ok?.content['text/csv; charset=utf-8']).toMatchObject({ schema: { type: 'string' } });
  });

  it('answers 401 without a bearer token', async () => {
    expect((await t.request('GET', `/notes/exports/${randomUUID()}`)).status).toBe(401);
  });
});
