import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { createNote, failingFields, readJson } from '../../support/notes.ts';
import { type SignedIn, signUp } from '../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

const patch = (user: SignedIn, id: string, body: unknown) =>
  t.request('PATCH', `/notes/${id}`, { headers: user.headers, body });

describe('PATCH /notes/:id', () => {
  it('changes only the fields sent and moves updatedAt', async () => {
    const user = await signUp(t);
    const note = await createNote(t, user, { title: 'Old', body: 'keep me', tags: ['a'] });
    const response = await patch(user, note.id, { title: '  New  ' });
    expect(response.status).toBe(200);
    const patched = await readJson(response);
    expect(patched).toEqual({ ...note, title: 'New', updatedAt: expect.any(String) });
    expect(Date.parse(patched.updatedAt)).toBeGreaterThanOrEqual(Date.parse(note.updatedAt));
    const [row] = await t.sql`select updated_at > created_at as moved from notes where id = ${note.id}`;
    expect(row?.moved).toBe(true);
    expect(await readJson(await t.request('GET', `/notes/${note.id}`, { headers: user.headers }))).toEqual(
      patched,
    );
  });

  it('replaces the tags, trimmed and without repeats, and accepts an empty body and an empty tag list', async () => {
    const user = await signUp(t);
    const note = await createNote(t, user, { tags: ['a', 'b'] });
    const retagged = await readJson(await patch(user, note.id, { tags: [' c', 'c ', 'd'] }));
    expect(retagged).toMatchObject({ title: note.title, body: note.body, tags: ['c', 'd'] });
    const cleared = await readJson(await patch(user, note.id, { body: '', tags: [] }));
    expect(cleared).toMatchObject({ title: note.title, body: '', tags: [] });
  });

  it('answers 400 to an empty patch, and changes nothing', async () => {
    const user = await signUp(t);
    const note = await createNote(t, user);
    const response = await patch(user, note.id, {});
    expect(response.status).toBe(400);
    expect(await failingFields(response)).toEqual(['body']);
    const [row] = await t.sql`select updated_at = created_at as untouched from notes where id = ${note.id}`;
    expect(row?.untouched).toBe(true);
  });

  it('answers 400 naming an unknown field or a field out of its limits', async () => {
    const user = await signUp(t);
    const note = await createNote(t, user);
    const cases: [unknown, string[]][] = [
      [{ title: 'ok', pinned: true }, ['body.pinned']],
      [{ title: '' }, ['body.title']],
      [{ title: 'x'.repeat(201) }, ['body.title']],
      [{ body: 'y'.repeat(100_001) }, ['body.body']],
      [{ body: null }, ['body.body']],
      [{ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, ['body.tags']],
      [{ tags: ['z'.repeat(51)] }, ['body.tags.0']],
    ];
    for (const [body, fields] of cases) {
      const response = await patch(user, note.id, body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(await failingFields(response)).toEqual(fields);
    }
    expect(await readJson(await t.request('GET', `/notes/${note.id}`, { headers: user.headers }))).toEqual(
      note,
    );
  });

  it('returns 404 for another user’s note and leaves it alone', async () => {
    const [ada, bob] = [await signUp(t), await signUp(t)];
    const note = await createNote(t, bob, { title: 'Bob’s' });
    const response = await patch(ada, note.id, { title: 'Taken' });
    expect(response.status).toBe(404);
    expect(await readJson(await t.request('GET', `/notes/${note.id}`, { headers: bob.headers }))).toEqual(
      note,
    );
  });

  it('returns 404 for a note that does not exist', async () => {
    const user = await signUp(t);
    expect((await patch(user, randomUUID(), { title: 'x' })).status).toBe(404);
  });

  it('answers 400 naming params.id when the id is not a uuid', async () => {
    const user = await signUp(t);
    const response = await patch(user, 'not-a-uuid', { title: 'x' });
    expect(response.status).toBe(400);
    expect(await failingFields(response)).toEqual(['params.id']);
  });

  it('answers 401 without a valid access token', async () => {
    const owner = await signUp(t);
    const note = await createNote(t, owner);
    expect((await t.request('PATCH', `/notes/${note.id}`, { body: { title: 'x' } })).status).toBe(401);
  });
});

describe('PATCH /notes/:id, within NOTE_MAX_BYTES', () => {
  let small: TestApp;
  beforeAll(async () => {
    small = await createTestApp({ root: projectRoot, migrate: false, env: { NOTE_MAX_BYTES: '2048' } });
  });
  afterAll(() => small.close());

  it('answers 413 note_too_large when the note it would leave is too large, and changes nothing', async () => {
    const user = await signUp(small);
    const note = await createNote(small, user, { title: 't', body: 'x'.repeat(1_500), tags: ['a'] });
    // The body alone fits; with the tags the note already has, it does not.
    const tags = Array.from({ length: 15 }, (_, i) => `tag ${i}`.padEnd(40, '.'));
    const response = await small.request('PATCH', `/notes/${note.id}`, {
      headers: user.headers,
      body: { tags },
    });
    expect(response.status).toBe(413);
    expect(await readJson(response)).toMatchObject({ code: 'note_too_large', maxBytes: 2_048 });
    const kept = await small.request('GET', `/notes/${note.id}`, { headers: user.headers });
    expect(await readJson(kept)).toEqual(note);
  });
});
