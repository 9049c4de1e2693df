import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRecord } from '#runtime/jobs/records.ts';
import { EXPORT_CHUNK_BYTES } from '#shared/export-files.ts';
import { exportBytesEstimate } from '#shared/note-files.ts';
import { noteTotals } from '#shared/notes.ts';
import exportNotes from '#tasks/export-notes.ts';
import { captureLog, createTestApp, projectRoot, type TestApp } from '../support/app.ts';
import {
  chunkRows,
  createExport,
  insertControlCharacterNotes,
  insertNotes,
  liveBytes,
  parseCsv,
  parseNdjson,
  storedExport,
} from '../support/exports.ts';
import { signUp } from '../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot, env: { RD_PREFIX: `xt${randomUUID().slice(0, 8)}` } });
});
afterAll(() => t.close());

const stored = (id: string) => storedExport(t.sql, id);

describe('export-notes', () => {
  it('writes every note newest first as NDJSON across batches, reporting progress up to 100', async () => {
    const user = await signUp(t);
    const other = await signUp(t);
    // 1,203 notes a microsecond apart: a cursor that kept only milliseconds would skip or repeat some.
    await t.sql`
      insert into notes (user_id, title, body, tags, created_at)
      select ${user.id}, 'note ' || i, 'body ' || i, array['t' || (i % 3)],
             timestamptz '2026-01-01T00:00:00Z' + i * interval '1 microsecond'
      from generate_series(1, 1203) as i`;
    await insertNotes(t.sql, other.id, [{ title: 'not mine', body: 'x' }]);
    const id = await createExport(t.sql, user.id, 'ndjson');

    const { result, progress } = await t.runTask(exportNotes, { exportId: id });

    expect(result).toEqual({ url: `/notes/exports/${id}` });
    // A batch is 100 notes: one report per batch, held under 100 until the file is stored.
    const perBatch = Array.from({ length: 13 }, (_, i) =>
      Math.min(99, (Math.min((i + 1) * 100, 1203) / 1203) * 100),
    );
    expect(progress.map(Math.round)).toEqual([...perBatch.map(Math.round), 100]);
    const file = await stored(id);
    expect(file.content_type).toBe('application/x-ndjson');
    expect(file.filename).toMatch(/^notes-\d{4}-\d{2}-\d{2}\.ndjson$/);
    expect(file.completed_at).toBeInstanceOf(Date);
    const lines = parseNdjson(String(file.content));
    const expected = await t.sql<{ id: string }[]>`
      select id from notes where user_id = ${user.id} order by created_at desc, id desc`;
    expect(lines.map((note) => note.id)).toEqual(expected.map((row) => row.id));
    expect(lines[0]).toEqual({
      id: expect.any(String),
      title: 'note 1203',
      body: 'body 1203',
      tags: ['t0'],
      createdAt: '2026-01-01T00:00:00.001Z',
      updatedAt: expect.any(String),
    });
  });

  it('writes CSV with RFC 4180 quoting, tags joined by ;, and formula cells prefixed with a quote', async () => {
    const user = await signUp(t);
    const tricky = 'Hello, "world"\nsecond line\r\nthird';
    const [older, newer] = await insertNotes(t.sql, user.id, [
      { title: '=SUM(A1:A9)', body: tricky, tags: ['a', 'b'], createdAt: '2026-02-01T10:00:00.000Z' },
      { title: 'plain', body: '@admin -1 +1', tags: ['-x'], createdAt: '2026-02-02T10:00:00.000Z' },
    ]);
    const id = await createExport(t.sql, user.id, 'csv');

    await t.runTask(exportNotes, { exportId: id });

    const file = await stored(id);
    expect(file.content_type).toBe('text/csv; charset=utf-8');
    expect(file.filename).toMatch(/^notes-\d{4}-\d{2}-\d{2}\.csv$/);
    const text = String(file.content);
    expect(text).toContain(`"Hello, ""world""\nsecond line\r\nthird"`);
    expect(parseCsv(text)).toEqual([
      ['id', 'title', 'body', 'tags', 'createdAt', 'updatedAt'],
      [newer, 'plain', "'@admin -1 +1", "'-x", '2026-02-02T10:00:00.000Z', '2026-02-02T10:00:00.000Z'],
      [older, "'=SUM(A1:A9)", tricky, 'a;b', '2026-02-01T10:00:00.000Z', '2026-02-01T10:00:00.000Z'],
    ]);
  });

  it('exports an account with no notes as an empty NDJSON file or a CSV header', async () => {
    const user = await signUp(t);
    const ndjson = await createExport(t.sql, user.id, 'ndjson');
    const csv = await createExport(t.sql, user.id, 'csv');
    expect((await t.runTask(exportNotes, { exportId: ndjson })).progress).toEqual([100]);
    await t.runTask(exportNotes, { exportId: csv });
    expect(String((await stored(ndjson)).content)).toBe('');
    expect(String((await stored(csv)).content)).toBe('id,title,body,tags,createdAt,updatedAt\r\n');
  });

  it('leaves one file with the same content when the job runs twice', async () => {
    const user = await signUp(t);
    await insertNotes(t.sql, user.id, [{ title: 'one', body: 'a, "b"' }]);
    const id = await createExport(t.sql, user.id, 'csv');

    const first = await t.runTask(exportNotes, { exportId: id });
    const before = await stored(id);
    await insertNotes(t.sql, user.id, [{ title: 'written after the file', body: 'x' }]);
    const second = await t.runTask(exportNotes, { exportId: id }, 2);

    expect(second.result).toEqual(first.result);
    const after = await stored(id);
    expect(after).toEqual(before);
    const [count] = await t.sql`select count(*)::int as n from exports where user_id = ${user.id}`;
    expect(count?.n).toBe(1);
  });

  it('throws while the export row is not committed, and the retry after the commit exports', async () => {
    const user = await signUp(t);
    await insertNotes(t.sql, user.id, [{ title: 'waited for', body: 'x' }]);
    const id = randomUUID();
    await t.sql.begin(async (tx) => {
      await createJobRecord(tx, { id, owner: user.id, task: 'export-notes' });
      await tx`insert into exports (id, user_id, format) values (${id}, ${user.id}, 'ndjson')`;
      await expect(t.runTask(exportNotes, { exportId: id })).rejects.toThrow(
        `export ${id} is not visible yet`,
      );
    });
    expect((await t.runTask(exportNotes, { exportId: id }, 2)).result).toEqual({
      url: `/notes/exports/${id}`,
    });
    expect(parseNdjson(String((await stored(id)).content)).map((note) => note.title)).toEqual(['waited for']);
  });

  it('throws, so that the job retries, while the export row is not visible', async () => {
    const missing = randomUUID();
    await expect(t.runTask(exportNotes, { exportId: missing })).rejects.toThrow(
      `export ${missing} is not visible yet`,
    );
  });

  it('stops between batches when its signal fires, storing nothing, and a rerun stores the file', async () => {
    const user = await signUp(t);
    // 18 kB a note: the first batch fills a chunk, so the stopped run has written something to drop.
    await insertControlCharacterNotes(t.sql, user.id, { count: 600, bodyChars: 3_000 });
    const id = await createExport(t.sql, user.id, 'ndjson');
    const controller = new AbortController();
    const run = exportNotes.run({
      payload: { exportId: id },
      jobId: id,
      task: 'export-notes',
      attempt: 1,
      signal: controller.signal,
      ...t.services,
      log: captureLog().log,
      progress: async () => {
        chunksWhenStopped = (await chunkRows(t.sql, id)).length;
        controller.abort(new Error('stop now'));
      },
    });
    let chunksWhenStopped = 0;
    await expect(run).rejects.toThrow('stop now');
    expect(chunksWhenStopped).toBeGreaterThan(0);
    expect((await stored(id)).completed_at).toBeNull();
    expect(await chunkRows(t.sql, id)).toEqual([]);

    await t.runTask(exportNotes, { exportId: id }, 2);
    const file = await stored(id);
    expect(parseNdjson(String(file.content))).toHaveLength(600);
    expect(new Set((await chunkRows(t.sql, id)).map((chunk) => chunk.run))).toEqual(new Set([file.file_run]));
  });

  it('writes the file in chunks that stay invisible until the last one is stored, then drops stale ones', async () => {
    const user = await signUp(t);
    // 60 notes of 60 kB as JSON: 3.6 MB, four chunks.
    await insertControlCharacterNotes(t.sql, user.id, { count: 60, bodyChars: 10_000 });
    const id = await createExport(t.sql, user.id, 'ndjson');
    // What a run that crashed midway leaves.
    const crashed = randomUUID();
    await t.sql`insert into export_chunks (export_id, run, seq, data) values (${id}, ${crashed}, 0, ${Buffer.from('x')})`;
    let whileWriting: { status: number; code: unknown; chunks: number } | undefined;
    await exportNotes.run({
      payload: { exportId: id },
      jobId: id,
      task: 'export-notes',
      attempt: 1,
      signal: new AbortController().signal,
      ...t.services,
      log: captureLog().log,
      progress: async (percent) => {
        if (percent === 100 || whileWriting) return;
        const answer = await t.request('GET', `/notes/exports/${id}`, { headers: user.headers });
        const { code } = (await answer.json()) as { code: unknown };
        const written = (await chunkRows(t.sql, id)).filter((chunk) => chunk.run !== crashed);
        whileWriting = { status: answer.status, code, chunks: written.length };
      },
    });
    // After the one batch, three full chunks are stored and the rest waits for finish().
    expect(whileWriting).toEqual({ status: 409, code: 'export_not_ready', chunks: 3 });

    const file = await stored(id);
    const chunks = await chunkRows(t.sql, id);
    expect(chunks.map((chunk) => [chunk.run, chunk.seq])).toEqual(
      [0, 1, 2, 3].map((seq) => [file.file_run, seq]),
    );
    expect(chunks.slice(0, -1).every((chunk) => chunk.bytes === EXPORT_CHUNK_BYTES)).toBe(true);
    expect(parseNdjson(String(file.content))).toHaveLength(60);
    // The size POST /notes/exports checks before it starts an export is the NDJSON file's, to the byte.
    expect(file.content?.length).toBe(exportBytesEstimate(await noteTotals(t.sql, user.id)));
  });

  it('keeps one complete file when two runs of the job overlap', async () => {
    const user = await signUp(t);
    await insertControlCharacterNotes(t.sql, user.id, { count: 60, bodyChars: 10_000 });
    const id = await createExport(t.sql, user.id, 'csv');
    const runs = await Promise.all([
      t.runTask(exportNotes, { exportId: id }),
      t.runTask(exportNotes, { exportId: id }, 2),
    ]);
    expect(runs.map((run) => run.result)).toEqual([
      { url: `/notes/exports/${id}` },
      { url: `/notes/exports/${id}` },
    ]);
    const file = await stored(id);
    const rows = parseCsv(String(file.content));
    expect(rows).toHaveLength(61);
    expect(new Set(rows.slice(1).map((row) => row[0])).size).toBe(60);
    expect(new Set((await chunkRows(t.sql, id)).map((chunk) => chunk.run))).toEqual(new Set([file.file_run]));
  });

  it('holds no more memory for a 48 MB file than for a few chunks', async () => {
    const user = await signUp(t);
    await insertControlCharacterNotes(t.sql, user.id, { count: 800, bodyChars: 10_000 });
    const id = await createExport(t.sql, user.id, 'ndjson');
    const before = await liveBytes();
    let most = 0;
    await exportNotes.run({
      payload: { exportId: id },
      jobId: id,
      task: 'export-notes',
      attempt: 1,
      signal: new AbortController().signal,
      ...t.services,
      log: captureLog().log,
      progress: async () => {
        most = Math.max(most, (await liveBytes()) - before);
      },
    });
    const [file] = await t.sql<
      { bytes: number }[]
    >`select bytes::float8 as bytes from exports where id = ${id}`;
    expect(file?.bytes).toBeGreaterThan(48_000_000);
    // A batch of notes and a chunk, with room for the pools' buffers: a file held whole would be over 48 MB.
    expect(most).toBeLessThan(16 * 1024 * 1024);
  }, 60_000);

  describe('with EXPORT_MAX_BYTES', () => {
    let small: TestApp;
    beforeAll(async () => {
      small = await createTestApp({
        root: projectRoot,
        migrate: false,
        env: { EXPORT_MAX_BYTES: '5000', RD_PREFIX: `xs${randomUUID().slice(0, 8)}` },
      });
    });
    afterAll(() => small.close());

    it('fails saying what to do when the notes grew past it after the start, and its retries fail at once', async () => {
      const user = await signUp(small);
      const id = await createExport(t.sql, user.id, 'ndjson');
      await insertControlCharacterNotes(t.sql, user.id, { count: 2, bodyChars: 600 });
      const message = 'An export may take at most 5000 bytes (EXPORT_MAX_BYTES), and these notes take more.';
      await expect(small.runTask(exportNotes, { exportId: id })).rejects.toThrow(message);
      // The retry does not read the notes again: with them gone it still fails, for the recorded reason.
      await t.sql`delete from notes where user_id = ${user.id}`;
      await expect(small.runTask(exportNotes, { exportId: id }, 2)).rejects.toThrow(message);
      expect(await chunkRows(t.sql, id)).toEqual([]);
    });

    it('holds a CSV to it as it is written, though the same notes fit as NDJSON', async () => {
      const user = await signUp(small);
      // JSON writes `;=` in 2 bytes, the CSV guard in 3 (`;'=`): 4,002 bytes of body as JSON, 6,002 in the CSV.
      await insertNotes(t.sql, user.id, [{ title: 't', body: ';='.repeat(2_000) }]);
      const ndjson = await createExport(t.sql, user.id, 'ndjson');
      await small.runTask(exportNotes, { exportId: ndjson });
      expect((await stored(ndjson)).content?.length).toBeLessThan(5_000);
      const csv = await createExport(t.sql, user.id, 'csv');
      await expect(small.runTask(exportNotes, { exportId: csv })).rejects.toThrow('at most 5000 bytes');
      expect(await chunkRows(t.sql, csv)).toEqual([]);
    });
  });
});
