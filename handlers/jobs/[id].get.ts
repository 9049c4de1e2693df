import * as v from 'valibot';
import { HttpError } from '#runtime/errors.ts';
import { defineHandler } from '#runtime/http/handler.ts';
import { JOB_STATES, readJobRecord } from '#runtime/jobs/records.ts';
import { bearer } from '#shared/bearer-auth.ts';

const JobView = v.pipe(
  v.object({
    id: v.pipe(v.string(), v.uuid()),
    task: v.pipe(v.string(), v.description('The task doing the work, e.g. export-notes.')),
    status: v.picklist(JOB_STATES),
    progress: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100)),
    result: v.optional(v.pipe(v.unknown(), v.description('What the task returned, once it succeeded.'))),
    error: v.optional(v.pipe(v.string(), v.description('Why the last attempt failed.'))),
    createdAt: v.pipe(v.string(), v.isoTimestamp()),
    updatedAt: v.pipe(v.string(), v.isoTimestamp()),
  }),
  v.title('Job'),
  v.description('A background job of yours: what it is doing, and what it returned or why it failed.'),
  v.examples([
    {
      id: '0b9f4c1e-7d2a-4e8b-9c61-3f5a2d7e8b10',
      task: 'export-notes',
      status: 'succeeded',
      progress: 100,
      result: { url: '/notes/exports/0b9f4c1e-7d2a-4e8b-9c61-3f5a2d7e8b10' },
      createdAt: '2026-05-01T09:30:00.000Z',
      updatedAt: '2026-05-01T09:30:02.512Z',
    },
  ]),
);

export default defineHandler({
  summary: 'The status of one of your background jobs',
  description: 'Poll it until `status` is `succeeded` (then read `result`) or `failed` (then read `error`).',
  tags: ['jobs'],
  auth: bearer,
  params: v.object({
    id: v.pipe(v.string(), v.uuid(), v.examples(['0b9f4c1e-7d2a-4e8b-9c61-3f5a2d7e8b10'])),
  }),
  responses: {
    200: {
      description: 'The job as it stands now',
      schema: JobView,
      headers: {
        'Cache-Control': { description: '`no-store`: the status changes as the job runs.', required: true },
      },
    },
    404: { description: 'No job of yours has this id' },
  },
  async handle({ params, user, sql, setHeader }) {
    const job = await readJobRecord(sql, params.id, user.id);
    if (!job) throw HttpError.notFound(`You have no job with id ${params.id}.`);
    // Clients poll this: every answer must come from the server, not a cache.
    setHeader('Cache-Control', 'no-store');
    return job;
  },
});
