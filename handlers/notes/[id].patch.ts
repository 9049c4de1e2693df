import * as v from 'valibot';
import { HttpError } from '#runtime/errors.ts';
import { defineHandler } from '#runtime/http/handler.ts';
import { bearer } from '#shared/bearer-auth.ts';
import {
  Note,
  NoteBody,
  NoteId,
  type NoteRow,
  NoteTags,
  NoteTitle,
  noteColumns,
  noteFieldsMessage,
  toNote,
} from '#shared/notes.ts';

export default defineHandler({
  summary: 'Changes some fields of one of your notes',
  description:
    'Send only the fields to change; `tags` replaces the whole list. An empty object is a 400, since it ' +
    "changes nothing. Another account's note answers 404, exactly as a missing one does.",
  tags: ['notes'],
  auth: bearer,
  params: v.object({ id: NoteId }),
  body: v.pipe(
    v.strictObject(
      { title: v.optional(NoteTitle), body: v.optional(NoteBody), tags: v.optional(NoteTags) },
      noteFieldsMessage,
    ),
    v.minEntries(1, 'must set at least one of title, body and tags'),
    v.examples([{ title: 'Groceries for Sunday' }, { tags: ['home'] }]),
  ),
  responses: { 200: Note, 404: { description: 'You have no note with this id' } },
  async handle({ params, body, user, sql }) {
    const [row] = await sql<NoteRow[]>`
      update notes set ${sql(body)}, updated_at = now()
      where id = ${params.id} and user_id = ${user.id}
      returning ${sql(noteColumns)}`;
    if (!row) throw HttpError.notFound(`You have no note with id ${params.id}.`);
    return toNote(row);
  },
});
