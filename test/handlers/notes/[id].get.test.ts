import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { createNote, failingFields, readJson } from '../../support/notes.ts';
import { signUp } from '../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

describe('GET /notes/:id', () => {
  it('returns the caller’s note', async () => {
    const user = await signUp(t);
    const note = await createNote(t, user, { title: 'Mine', body: 'text', tags: ['a', 'b'] });
    const response = await t.request('GET', `/notes/${note.id}`, { headers: user.headers });
    expect(response.status).toBe(200);
    expect(await readJson(response)).toEqual(note);
  });

  it('returns 404 for another user’s note, the same answer as for a missing one', async () => {
    const [ada, bob] = [await signUp(t), await signUp(t)];
    const note = await createNote(t, bob);
    const theirs = await t.request('GET', `/notes/${note.id}`, { headers: ada.headers });
    const missing = await t.request('GET', `/notes/${randomUUID()}`, { headers: ada.headers });
    expect([theirs.status, missing.status]).toEqual([404, 404]);
    const [a, b] = [await readJson(theirs), await readJson(missing)];
    expect(a.code).toBe('not_found');
    expect(b.code).toBe('not_found');
    expect(a.title).toBe(b.title);
  });

  it('answers 400 naming params.id when the id is not a uuid', async () => {
    const user = await signUp(t);
    const response = await t.request('GET', '/notes/42', { headers: user.headers });
    expect(response.status).toBe(400);
    expect(await failingFields(response)).toEqual(['params.id']);
  });

  it('answers 401 without a valid access token', async () => {
    const owner = await signUp(t);
    const note = await createNote(t, owner);
    expect((await t.request('GET', `/notes/${note.id}`)).status).toBe(401);
  });
});
