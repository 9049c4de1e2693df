import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { createNote, failingFields } from '../../support/notes.ts';
import { type SignedIn, signUp } from '../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

const remove = (user: SignedIn, id: string) => t.request('DELETE', `/notes/${id}`, { headers: user.headers });

describe('DELETE /notes/:id', () => {
  it('deletes the caller’s note and answers 204 with no body', async () => {
    const user = await signUp(t);
    const note = await createNote(t, user);
    const response = await remove(user, note.id);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(await t.sql`select id from notes where id = ${note.id}`).toHaveLength(0);
    expect((await remove(user, note.id)).status).toBe(404);
  });

  it('returns 404 for another user’s note and keeps it', async () => {
    const [ada, bob] = [await signUp(t), await signUp(t)];
    const note = await createNote(t, bob);
    expect((await remove(ada, note.id)).status).toBe(404);
    expect(await t.sql`select id from notes where id = ${note.id}`).toHaveLength(1);
  });

  it('returns 404 for a note that does not exist', async () => {
    const user = await signUp(t);
    const response = await remove(user, randomUUID());
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 400 naming params.id when the id is not a uuid', async () => {
    const user = await signUp(t);
    const response = await remove(user, 'nope');
    expect(response.status).toBe(400);
    expect(await failingFields(response)).toEqual(['params.id']);
  });

  it('answers 401 without a valid access token', async () => {
    const owner = await signUp(t);
    const note = await createNote(t, owner);
    expect((await t.request('DELETE', `/notes/${note.id}`)).status).toBe(401);
    expect(await t.sql`select id from notes where id = ${note.id}`).toHaveLength(1);
  });
});
