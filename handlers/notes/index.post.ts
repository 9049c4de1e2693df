import * as v from 'valibot';
import { defineHandler } from '#runtime/http/handler.ts';
import { IdempotencyKeyHeader, idempotent } from '#runtime/http/idempotency.ts';
import { bearer } from '#shared/bearer-auth.ts';
import {
  Note,
  NoteBody,
  type NoteRow,
  NoteTags,
  NoteTitle,
  noteColumns,
  noteFieldsMessage,
  toNote,
} from '#shared/notes.ts';

export default defineHandler({
  summary: 'Creates a note',
  description:
    'Send an Idempotency-Key to retry safely: the same key with the same body answers with the note the ' +
    'first request created (and `Idempotent-Replayed: true`); with another body it is a 422.',
  tags: ['notes'],
  auth: bearer,
  headers: v.object({ 'idempotency-key': IdempotencyKeyHeader }),
  body: v.pipe(
    v.strictObject(
      { title: NoteTitle, body: NoteBody, tags: v.optional(NoteTags, () => []) },
      noteFieldsMessage,
    ),
    v.examples([{ title: 'Groceries', body: 'Milk, eggs, and the good bread.', tags: ['home', 'errands'] }]),
  ),
  status: 201,
  responses: {
    201: Note,
    422: { description: 'The Idempotency-Key was already used with a different request' },
  },
  async handle({ body, headers, user, sql, setHeader }) {
    const answer = await idempotent(
      sql,
      // The route is part of the request, so that a key reused on another route is refused, not replayed.
      { owner: user.id, key: headers['idempotency-key'], request: { route: 'POST /notes', body } },
      async (tx) => {
        const [row] = await tx<NoteRow[]>`
          insert into notes (user_id, title, body, tags)
          values (${user.id}, ${body.title}, ${body.body}, ${body.tags}::text[])
          returning ${tx(noteColumns)}`;
        const note = toNote(row as NoteRow);
        return { body: note, location: `/notes/${note.id}` };
      },
    );
    if (answer.location) setHeader('location', answer.location);
    if (answer.replayed) setHeader('idempotent-replayed', 'true');
    return answer.body;
  },
});
