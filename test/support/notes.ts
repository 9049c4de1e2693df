import type { NoteView } from '#shared/notes.ts';
import type { TestApp } from './app.ts';
import type { SignedIn } from './users.ts';

/** Creates a note through the API as `user`, failing the test unless it answers 201. */
export async function createNote(
  t: TestApp,
  user: SignedIn,
  note: { title?: string; body?: string; tags?: string[] } = {},
): Promise<NoteView> {
  const response = await t.request('POST', '/notes', {
    headers: user.headers,
    body: { title: 'A note', body: 'Its text', ...note },
  });
  if (response.status !== 201)
    throw new Error(`POST /notes answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as NoteView;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read answers of known shape
type Json = Record<string, any>;

/** A JSON answer, typed loosely enough for a test to reach into it. */
export async function readJson(response: Response): Promise<Json> {
  return (await response.json()) as Json;
}

/** The problem's failing fields, to assert that a 400 names exactly what was wrong. */
export async function failingFields(response: Response): Promise<string[]> {
  const problem = (await response.json()) as { errors?: { field: string }[] };
  return [...new Set((problem.errors ?? []).map((error) => error.field))].sort();
}
