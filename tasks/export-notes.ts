import type { Sql } from 'postgres';
import * as v from 'valibot';
import { defineTask } from '#runtime/jobs/task.ts';
import { ExportTooLargeError, exportFileWriter } from '#shared/export-files.ts';
import {
  CSV_HEADER,
  EXPORT_FORMATS,
  type ExportFormat,
  exportBytesEstimate,
  noteLine,
} from '#shared/note-files.ts';
import { type NotePosition, notesPage, noteTotals } from '#shared/notes.ts';

// Notes read at a time: a run holds at most this many notes (each at most NOTE_MAX_BYTES as JSON) and one chunk.
const BATCH_SIZE = 100;

type ExportRow = {
  user_id: string;
  format: ExportFormat;
  created_at: Date;
  completed_at: Date | null;
  failure: string | null;
};

export default defineTask({
  description:
    'Writes all of a user’s notes, newest first, into one NDJSON or CSV file stored in chunks beside the ' +
    'export row; its result is `{ url }`, where the file is downloaded.',
  payload: v.object({
    exportId: v.pipe(
      v.string(),
      v.uuid(),
      v.description('The export to fill; it shares its id with the job.'),
      v.examples(['0b9f4c1e-7d2a-4e8b-9c61-3f5a2d7e8b10']),
    ),
  }),
  // Exponential backoff (1, 2, 4, 8, 16 s) covers short database outages.
  retries: 5,
  backoff: { strategy: 'exponential', delayMs: 1_000 },
  // Large accounts take a while; the signal is honoured between notes.
  timeoutMs: 5 * 60_000,
  // Each run holds two pool connections (its snapshot, and the chunk writes): two runs leave the rest to others.
  concurrency: 2,
  async run({ payload, sql, signal, progress, log, settings }) {
    const { exportId } = payload;
    const url = `/notes/exports/${exportId}`;
    const exported = await readExport(sql, exportId);
    // A retry after the file was stored (the crash came before the job record said so) keeps that file.
    if (exported.completed_at) return { url };
    if (exported.failure) throw new Error(exported.failure);

    const maxBytes = settings.notes.exportMaxBytes;
    const file = exportFileWriter(sql, exportId, { maxBytes });
    try {
      // One snapshot for the totals and every batch, so notes written meanwhile can skew neither.
      const written = await sql.begin('isolation level repeatable read read only', async (tx) => {
        const totals = await noteTotals(tx, exported.user_id);
        if (exportBytesEstimate(totals) > maxBytes) throw new ExportTooLargeError(maxBytes);
        if (exported.format === 'csv' && !(await file.write(CSV_HEADER))) return false;
        let done = 0;
        let after: NotePosition | undefined;
        while (done < totals.notes) {
          const { rows: batch } = await notesPage(tx, { userId: exported.user_id, limit: BATCH_SIZE, after });
          const last = batch.at(-1);
          if (!last) break;
          for (const note of batch) {
            signal.throwIfAborted();
            if (!(await file.write(noteLine(exported.format, note)))) return false;
          }
          done += batch.length;
          after = { createdAt: last.position, id: last.id };
          // 100 waits for the file to be stored.
          await progress(Math.min(99, (done / totals.notes) * 100));
        }
        return true;
      });
      signal.throwIfAborted();
      const day = exported.created_at.toISOString().slice(0, 10);
      const format = EXPORT_FORMATS[exported.format];
      const finish = { contentType: format.contentType, filename: `notes-${day}.${format.extension}` };
      // false: another run of this job stored the file first, and this copy goes.
      if (written && (await file.finish(finish))) {
        log.info({ exportId, bytes: file.bytes }, 'notes exported');
      } else {
        await file.discard();
      }
    } catch (error) {
      if (error instanceof ExportTooLargeError) await recordFailure(sql, exportId, error.message);
      await file
        .discard()
        .catch((cause) => log.warn({ err: cause }, 'could not drop a stopped run’s chunks'));
      throw error;
    }
    await progress(100);
    return { url };
  },
});

/**
 * The job goes through the outbox, which enqueues it only once the export row is committed. A job enqueued
 * some other way (straight to Redis inside an open transaction) could still look too early: throwing makes it
 * retry with backoff.
 */
async function readExport(sql: Sql, id: string): Promise<ExportRow> {
  const [row] = await sql<ExportRow[]>`
    select user_id, format, created_at, completed_at, failure from exports where id = ${id}`;
  if (!row) throw new Error(`export ${id} is not visible yet; retrying`);
  return row;
}

/** What retrying cannot fix is kept, so the job's remaining attempts fail at once instead of rereading. */
async function recordFailure(sql: Sql, id: string, failure: string): Promise<void> {
  await sql`update exports set failure = ${failure} where id = ${id} and completed_at is null`;
}
