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
  noteSizeProblem,
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
  responses: {
    200: Note,
    404: { description: 'You have no note with this id' },
    413: { description: 'The note would be larger than a note may be (code note_too_large)' },
  },
  async handle({ params, body, user, sql, settings }) {
    // The note is measured as the update leaves it; throwing inside the transaction rolls the update back.
    const row = await sql.begin(async (tx) => {
      const [updated] = await tx<(NoteRow & { json_bytes: number })[]>`
        update notes set ${tx(body)}, updated_at = now()
        where id = ${params.id} and user_id = ${user.id}
        returning ${tx(noteColumns)}, json_bytes`;
      const tooLarge = updated && noteSizeProblem(updated.json_bytes, settings.notes.maxBytes);
      if (tooLarge) throw tooLarge;
      return updated;
    });
    if (!row) throw HttpError.notFound(`You have no note with id ${params.id}.`);
    return toNote(row);
  },
});
