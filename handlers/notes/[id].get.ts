import * as v from 'valibot';
import { HttpError } from '#runtime/errors.ts';
import { defineHandler } from '#runtime/http/handler.ts';
import { bearer } from '#shared/bearer-auth.ts';
import { Note, NoteId, type NoteRow, noteColumns, toNote } from '#shared/notes.ts';

export default defineHandler({
  summary: 'Reads one of your notes',
  description: "Another account's note answers 404, exactly as a missing one does.",
  tags: ['notes'],
  auth: bearer,
  params: v.object({ id: NoteId }),
  responses: { 200: Note, 404: { description: 'You have no note with this id' } },
  async handle({ params, user, sql }) {
    const [row] = await sql<NoteRow[]>`
      select ${sql(noteColumns)} from notes where id = ${params.id} and user_id = ${user.id}`;
    if (!row) throw HttpError.notFound(`You have no note with id ${params.id}.`);
    return toNote(row);
  },
});
