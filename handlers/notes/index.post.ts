import * as v from 'valibot';
import { HttpError } from '#runtime/errors.ts';
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
  noteSizeProblem,
  toNote,
} from '#shared/notes.ts';

export default defineHandler({
  summary: 'Creates a note',
  description:
    'Send an Idempotency-Key to retry safely: the same key with the same body answers with the note the ' +
    'first request created (and `Idempotent-Replayed: true`); with another body it is a 422. An account holds ' +
    'at most NOTES_PER_USER_MAX notes (10000 unless configured).',
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
  responses: {
    201: {
      description: 'The note, created now or, for a replayed Idempotency-Key, by the first request',
      schema: Note,
      headers: {
        Location: { description: "The note's URL.", required: true },
        'Idempotent-Replayed': { description: '`true` when the answer replays an earlier request.' },
      },
    },
    409: { description: 'The account holds as many notes as it may (code notes_limit_reached)' },
    413: { description: 'The note is larger than a note may be (code note_too_large)' },
    422: { description: 'The Idempotency-Key was already used with a different request' },
  },
  async handle({ body, headers, user, sql, setHeader, settings }) {
    const limits = settings.notes;
    const answer = await idempotent(
      sql,
      // The route is part of the request, so that a key reused on another route is refused, not replayed.
      { owner: user.id, key: headers['idempotency-key'], request: { route: 'POST /notes', body } },
      async (tx) => {
        // Taken on the account's row: two requests at once cannot both see room for one more note.
        await tx`select 1 from users where id = ${user.id} for no key update`;
        const [held] = await tx<{ notes: number }[]>`
          select count(*)::int as notes from notes where user_id = ${user.id}`;
        if ((held?.notes ?? 0) >= limits.maxPerUser) {
          throw new HttpError(
            409,
            'notes_limit_reached',
            `Your account holds ${held?.notes} notes, the most it may. Delete some to make room for new ones.`,
            { extra: { maxNotes: limits.maxPerUser } },
          );
        }
        const [row] = await tx<(NoteRow & { json_bytes: number })[]>`
          insert into notes (user_id, title, body, tags)
          values (${user.id}, ${body.title}, ${body.body}, ${body.tags}::text[])
          returning ${tx(noteColumns)}, json_bytes`;
        const tooLarge = noteSizeProblem(row?.json_bytes ?? 0, limits.maxBytes);
        if (tooLarge) throw tooLarge;
        const note = toNote(row as NoteRow);
        return { body: note, location: `/notes/${note.id}` };
      },
    );
    if (answer.location) setHeader('Location', answer.location);
    if (answer.replayed) setHeader('Idempotent-Replayed', 'true');
    return answer.body;
  },
});
