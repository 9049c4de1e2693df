import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { HttpError } from '#runtime/errors.ts';
import { defineHandler } from '#runtime/http/handler.ts';
import { IdempotencyKeyHeader, idempotent } from '#runtime/http/idempotency.ts';
import { createJobRecord } from '#runtime/jobs/records.ts';
import { bearer } from '#shared/bearer-auth.ts';
import { exportBytesEstimate } from '#shared/note-files.ts';
import { noteTotals } from '#shared/notes.ts';
import exportNotes from '#tasks/export-notes.ts';

const ExportAccepted = v.pipe(
  v.object({
    id: v.pipe(v.string(), v.uuid(), v.description('The job id, which is also the export id.')),
    status: v.literal('queued'),
    links: v.object({ self: v.pipe(v.string(), v.description('Poll this for the job’s status.')) }),
  }),
  v.title('ExportAccepted'),
  v.description('The export is queued: poll `links.self` for its job.'),
  v.examples([
    {
      id: '0b9f4c1e-7d2a-4e8b-9c61-3f5a2d7e8b10',
      status: 'queued',
      links: { self: '/jobs/0b9f4c1e-7d2a-4e8b-9c61-3f5a2d7e8b10' },
    },
  ]),
);

export default defineHandler({
  summary: 'Starts an export of all your notes',
  description:
    'The file is built in the background. Poll `links.self` (also the `Location` header) until its status is ' +
    '`succeeded`; its `result.url` is where the file is downloaded. CSV cells that start with = + - @ get a ' +
    'leading single quote so that spreadsheets do not run them as formulas, and so does such a character after a ' +
    'semicolon inside a cell. Send an Idempotency-Key to retry safely: the same key and body answer with the ' +
    'first job (and `Idempotent-Replayed: true`). An account runs EXPORTS_IN_FLIGHT_PER_USER exports at once ' +
    '(1 unless configured), and a file holds at most EXPORT_MAX_BYTES (100 MiB unless configured).',
  tags: ['notes'],
  auth: bearer,
  headers: v.object({ 'idempotency-key': IdempotencyKeyHeader }),
  body: v.pipe(
    v.strictObject({
      format: v.pipe(
        v.picklist(['ndjson', 'csv']),
        v.description('`ndjson`: one JSON note per line. `csv`: id,title,body,tags,createdAt,updatedAt.'),
      ),
    }),
    v.examples([{ format: 'ndjson' }, { format: 'csv' }]),
  ),
  responses: {
    202: {
      description: 'The export is queued; poll its job',
      schema: ExportAccepted,
      headers: {
        Location: { description: "The export job's status URL (also `links.self`).", required: true },
        'Idempotent-Replayed': { description: '`true` when the answer replays an earlier request.' },
      },
    },
    422: {
      description:
        'The Idempotency-Key was used with a different body, or the notes would make a file larger than ' +
        'an export may be (code export_too_large)',
    },
    429: { description: 'Your earlier exports are still running (code exports_in_flight); wait for them' },
  },
  async handle({ user, body, headers, sql, enqueue, setHeader, settings }) {
    const limits = settings.notes;
    const answer = await idempotent(
      sql,
      // The route is part of the request, so that a key reused on another route is refused, not replayed.
      { owner: user.id, key: headers['idempotency-key'], request: { route: 'POST /notes/exports', body } },
      async (tx) => {
        // Taken on the account's row: two requests at once cannot both see room for one more export.
        await tx`select 1 from users where id = ${user.id} for no key update`;
        // A job whose record has not moved for an hour (its queue lost it) stops holding a slot.
        const running = await tx<{ id: string }[]>`
          select e.id from exports e join jobs j on j.id = e.id
          where e.user_id = ${user.id} and j.status in ('queued', 'active', 'retrying')
            and j.updated_at > now() - interval '1 hour'
          order by e.created_at`;
        if (running.length >= limits.exportsInFlightPerUser) {
          const jobs = running.map((row) => `/jobs/${row.id}`);
          throw new HttpError(
            429,
            'exports_in_flight',
            `You have ${running.length} export(s) running, the most at once: wait until ${jobs.join(', ')} ` +
              'says succeeded or failed, then start another.',
            { headers: { 'retry-after': '5' }, extra: { jobs } },
          );
        }
        const bytes = exportBytesEstimate(await noteTotals(tx, user.id));
        if (bytes > limits.exportMaxBytes) {
          throw new HttpError(
            422,
            'export_too_large',
            `Your notes would make a file of ${bytes} bytes; an export holds at most ${limits.exportMaxBytes}. ` +
              'Delete or shorten some notes, then start the export again.',
            { extra: { bytes, maxBytes: limits.exportMaxBytes } },
          );
        }
        const id = randomUUID();
        await createJobRecord(tx, { id, owner: user.id, task: 'export-notes' });
        await tx`insert into exports (id, user_id, format) values (${id}, ${user.id}, ${body.format})`;
        // Through the outbox in the same transaction: the job exists exactly when the rows above do, Redis up
        // or down, and the relay enqueues it after the commit.
        await enqueue(exportNotes, { exportId: id }, { jobId: id, tracked: true, tx });
        const self = `/jobs/${id}`;
        return { body: { id, status: 'queued' as const, links: { self } }, location: self };
      },
    );
    if (answer.location) setHeader('Location', answer.location);
    if (answer.replayed) setHeader('Idempotent-Replayed', 'true');
    return answer.body;
  },
});
