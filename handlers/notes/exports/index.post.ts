import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { defineHandler } from '#runtime/http/handler.ts';
import { IdempotencyKeyHeader, idempotent } from '#runtime/http/idempotency.ts';
import { createJobRecord } from '#runtime/jobs/records.ts';
import { bearer } from '#shared/bearer-auth.ts';
import exportNotes from '#tasks/export-notes.ts';

const ExportAccepted = v.pipe(
  v.object({
    id: v.pipe(v.string(), v.uuid(), v.description('The job id, which is also the export id.')),
    status: v.literal('queued'),
    links: v.object({ self: v.pipe(v.string(), v.description('Poll this for the job’s status.')) }),
  }),
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
    'leading single quote so that spreadsheets do not run them as formulas. Send an Idempotency-Key to retry ' +
    'safely: the same key and body answer with the first job (and `Idempotent-Replayed: true`).',
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
  status: 202,
  responses: {
    202: ExportAccepted,
    422: { description: 'The Idempotency-Key was used with a different body' },
  },
  async handle({ user, body, headers, sql, enqueue, setHeader }) {
    const answer = await idempotent(
      sql,
      // The route is part of the request, so that a key reused on another route is refused, not replayed.
      { owner: user.id, key: headers['idempotency-key'], request: { route: 'POST /notes/exports', body } },
      async (tx) => {
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
    if (answer.location) setHeader('location', answer.location);
    if (answer.replayed) setHeader('idempotent-replayed', 'true');
    return answer.body;
  },
});
