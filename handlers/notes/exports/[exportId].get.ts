import * as v from 'valibot';
import { HttpError } from '#runtime/errors.ts';
import { defineHandler } from '#runtime/http/handler.ts';
import { bearer } from '#shared/bearer-auth.ts';
import { exportFileStream } from '#shared/export-files.ts';
import { CSV_HEADER } from '#shared/note-files.ts';

// The file's columns are written together with completed_at, by one update (see shared/export-files.ts).
type ExportFile = {
  content_type: string;
  filename: string;
  file_run: string;
  bytes: string;
  chunks: number;
  completed_at: Date | null;
  status: string;
};

const exampleNote = {
  id: '0f8e4b1e-4a3c-4d2b-9f61-2c7d5e8a9b10',
  title: 'Groceries',
  body: 'Milk, eggs',
  tags: ['home', 'errands'],
  createdAt: '2026-03-14T09:26:53.589Z',
  updatedAt: '2026-03-14T10:02:11.000Z',
};

export default defineHandler({
  summary: 'Downloads a finished export of your notes',
  description:
    'The file as an attachment: `application/x-ndjson` (one JSON note per line) or `text/csv; charset=utf-8`, ' +
    'streamed with its Content-Length. Until the export job has succeeded this answers 409: poll ' +
    '`/jobs/{exportId}` first.',
  tags: ['notes'],
  auth: bearer,
  params: v.object({
    exportId: v.pipe(v.string(), v.uuid(), v.examples(['0b9f4c1e-7d2a-4e8b-9c61-3f5a2d7e8b10'])),
  }),
  responses: {
    200: {
      description: 'The file, sent as an attachment, in the format the export was started with',
      contentType: ['application/x-ndjson', 'text/csv; charset=utf-8'],
      headers: {
        'Content-Disposition': {
          description: 'attachment, with the file name to save it under.',
          required: true,
        },
      },
      schema: v.pipe(
        v.string(),
        v.description(
          'NDJSON: one note per line. CSV: a header row, then one row per note (CRLF line ends).',
        ),
        v.examples([
          `${JSON.stringify(exampleNote)}\n`,
          CSV_HEADER +
            `${exampleNote.id},Groceries,"Milk, eggs","home;errands",${exampleNote.createdAt},${exampleNote.updatedAt}\r\n`,
        ]),
      ),
    },
    404: { description: 'No export of yours has this id' },
    409: { description: 'The export is not finished (code export_not_ready) or has failed (export_failed)' },
  },
  async handle({ params, user, sql }) {
    const [file] = await sql<ExportFile[]>`
      select e.content_type, e.filename, e.file_run, e.bytes::text, e.chunks, e.completed_at, j.status
      from exports e join jobs j on j.id = e.id
      where e.id = ${params.exportId} and e.user_id = ${user.id}`;
    if (!file) throw HttpError.notFound(`You have no export with id ${params.exportId}.`);
    const job = `/jobs/${params.exportId}`;
    if (!file.completed_at) {
      if (file.status === 'failed') {
        throw new HttpError(409, 'export_failed', `The export failed; ${job} says why. Start a new one.`, {
          extra: { job },
        });
      }
      throw new HttpError(
        409,
        'export_not_ready',
        `The export is not finished yet. Poll ${job} until its status is succeeded, then download again.`,
        { headers: { 'retry-after': '2' }, extra: { job } },
      );
    }
    const body = exportFileStream(sql, {
      exportId: params.exportId,
      run: file.file_run,
      chunks: file.chunks,
    });
    return new Response(body, {
      headers: {
        'content-type': file.content_type,
        'content-length': file.bytes,
        'content-disposition': `attachment; filename="${file.filename}"`,
        'cache-control': 'private, no-store',
        'x-content-type-options': 'nosniff',
      },
    });
  },
});
