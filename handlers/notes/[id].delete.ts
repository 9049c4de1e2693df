import * as v from 'valibot';
import { HttpError } from '#runtime/errors.ts';
import { defineHandler } from '#runtime/http/handler.ts';
import { bearer } from '#shared/bearer-auth.ts';
import { NoteId } from '#shared/notes.ts';

export default defineHandler({
  summary: 'Deletes one of your notes',
  description: "Another account's note answers 404, exactly as a missing one does.",
  tags: ['notes'],
  auth: bearer,
  params: v.object({ id: NoteId }),
  responses: {
    204: { description: 'The note is deleted' },
    404: { description: 'You have no note with this id' },
  },
  async handle({ params, user, sql }) {
    const deleted =
      await sql`delete from notes where id = ${params.id} and user_id = ${user.id} returning id`;
    if (deleted.length === 0) throw HttpError.notFound(`You have no note with id ${params.id}.`);
  },
});
