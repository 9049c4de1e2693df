import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRecord } from '#runtime/jobs/records.ts';
import exportNotes from '#tasks/export-notes.ts';
import { captureLog, createTestApp, projectRoot, type TestApp } from '../support/app.ts';
import { createExport, insertNotes, parseCsv, parseNdjson } from '../support/exports.ts';
import { signUp } from '../support/users.ts';

type StoredExport = {
  content: Buffer | null;
  content_type: string | null;
  filename: string | null;
  completed_at: Date | null;
};

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot, env: { RD_PREFIX: `xt${randomUUID().slice(0, 8)}` } });
});
afterAll(() => t.close());

const stored = async (id: string) =>
  (
    await t.sql<StoredExport[]>`
    select content, content_type, filename, completed_at from exports where id = ${id}`
  )[0] as StoredExport;

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
    expect(progress.map(Math.round)).toEqual([42, 83, 99, 100]);
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
    await t.sql`
      insert into notes (user_id, title, body)
      select ${user.id}, 'n' || i, 'b' from generate_series(1, 600) as i`;
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
      progress: async () => controller.abort(new Error('stop now')),
    });
    await expect(run).rejects.toThrow('stop now');
    expect((await stored(id)).completed_at).toBeNull();

    await t.runTask(exportNotes, { exportId: id }, 2);
    expect(parseNdjson(String((await stored(id)).content))).toHaveLength(600);
  });
});
