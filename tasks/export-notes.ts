import type { Sql } from 'postgres';
import * as v from 'valibot';
import { defineTask } from '#runtime/jobs/task.ts';
import { CSV_HEADER, EXPORT_FORMATS, type ExportFormat, noteLine } from '#shared/note-files.ts';
import { type NotePosition, notesPage } from '#shared/notes.ts';

const BATCH_SIZE = 500;

type ExportRow = {
  user_id: string;
  format: ExportFormat;
  created_at: Date;
  completed_at: Date | null;
};

export default defineTask({
  description:
    'Writes all of a user’s notes, newest first, into one NDJSON or CSV file stored on the export row; ' +
    'its result is `{ url }`, where the file is downloaded.',
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
  // Large accounts take a while; the signal is honoured between batches.
  timeoutMs: 5 * 60_000,
  // Each run holds its whole file in memory, so a worker builds at most two at once.
  concurrency: 2,
  async run({ payload, sql, signal, progress, log }) {
    const url = `/notes/exports/${payload.exportId}`;
    const exported = await readExport(sql, payload.exportId);
    // A retry after the file was stored (the crash came before the job record said so) keeps that file.
    if (exported.completed_at) return { url };

    const format = EXPORT_FORMATS[exported.format];
    const chunks: string[] = [exported.format === 'csv' ? CSV_HEADER : ''];
    // One snapshot for the count and every batch, so notes written meanwhile cannot skew either.
    await sql.begin('isolation level repeatable read read only', async (tx) => {
      const [counted] = await tx<{ total: number }[]>`
        select count(*)::int as total from notes where user_id = ${exported.user_id}`;
      const total = counted?.total ?? 0;
      let done = 0;
      let after: NotePosition | undefined;
      while (done < total) {
        signal.throwIfAborted();
        const batch = await notesPage(tx, { userId: exported.user_id, limit: BATCH_SIZE, after });
        const last = batch.at(-1);
        if (!last) break;
        for (const note of batch) chunks.push(noteLine(exported.format, note));
        done += batch.length;
        after = { createdAt: last.position, id: last.id };
        // 100 waits for the file to be stored.
        await progress(Math.min(99, (done / total) * 100));
      }
    });
    signal.throwIfAborted();

    const content = Buffer.from(chunks.join(''), 'utf8');
    const day = exported.created_at.toISOString().slice(0, 10);
    // One statement writes the whole file: a run cut short leaves no half file, and a rerun writes this same row.
    await sql`
      update exports set
        content = ${content},
        content_type = ${format.contentType},
        filename = ${`notes-${day}.${format.extension}`},
        completed_at = now()
      where id = ${payload.exportId}`;
    await progress(100);
    log.info({ exportId: payload.exportId, bytes: content.length }, 'notes exported');
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
    select user_id, format, created_at, completed_at from exports where id = ${id}`;
  if (!row) throw new Error(`export ${id} is not visible yet; retrying`);
  return row;
}
