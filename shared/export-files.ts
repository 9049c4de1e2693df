import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';

/**
 * Bytes per stored chunk of an export file: what one run holds before it writes, and what a download holds per
 * read. A chunk travels as hex text through postgres.js, so each costs about three times this in memory.
 */
export const EXPORT_CHUNK_BYTES = 1024 * 1024;

/** What is known of a file once its last byte is written, stored with it when the run completes the export. */
export type FileFinish = { contentType: string; filename: string };

/**
 * Writes one run's copy of an export's file into `export_chunks`, a chunk at a time, so that memory does not grow
 * with the file. Each run writes under its own id: a retry, or an earlier run the timeout gave up on but that is
 * still going, never mixes its chunks with this one's. `finish` makes the file visible in one transaction, unless
 * another run did so first; `write` says false once that happened, so the run can stop.
 */
export function exportFileWriter(sql: Sql, exportId: string, limits: { maxBytes: number }) {
  const run = randomUUID();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let seq = 0;
  let bytes = 0;
  let superseded = false;

  async function store(data: Buffer): Promise<void> {
    const inserted = await sql`
      insert into export_chunks (export_id, run, seq, data)
      select ${exportId}, ${run}, ${seq}, ${data}
      where exists (select 1 from exports where id = ${exportId} and completed_at is null)`;
    if (inserted.count === 0) superseded = true;
    else seq += 1;
  }

  async function flush(minimum: number): Promise<void> {
    while (!superseded && pendingBytes >= minimum && pendingBytes > 0) {
      const joined = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
      const chunk = joined.subarray(0, EXPORT_CHUNK_BYTES);
      const rest = joined.subarray(chunk.length);
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
      await store(chunk);
    }
  }

  return {
    run,
    get bytes() {
      return bytes;
    },
    /** Appends text to the file; false when another run already completed it (stop, and call `discard`). */
    async write(text: string): Promise<boolean> {
      if (superseded) return false;
      const data = Buffer.from(text, 'utf8');
      bytes += data.length;
      if (bytes > limits.maxBytes) throw new ExportTooLargeError(limits.maxBytes);
      pending.push(data);
      pendingBytes += data.length;
      await flush(EXPORT_CHUNK_BYTES);
      return !superseded;
    },
    /** Stores the rest and completes the export with this run's file; false when another run completed it. */
    async finish(file: FileFinish): Promise<boolean> {
      await flush(1);
      if (superseded) return false;
      return sql.begin(async (tx) => {
        const completed = await tx`
          update exports set
            file_run = ${run}, bytes = ${bytes}, chunks = ${seq},
            content_type = ${file.contentType}, filename = ${file.filename}, completed_at = now()
          where id = ${exportId} and completed_at is null`;
        if (completed.count === 0) return false;
        // Runs that stopped midway (a crash, a timeout) left chunks nobody will read.
        await tx`delete from export_chunks where export_id = ${exportId} and run <> ${run}`;
        return true;
      });
    },
    /** Drops what this run wrote, when it stops without completing the export. */
    async discard(): Promise<void> {
      pending = [];
      pendingBytes = 0;
      await sql`delete from export_chunks where export_id = ${exportId} and run = ${run}`;
    },
  };
}

/** The notes make a file larger than EXPORT_MAX_BYTES: retrying cannot help until some are deleted. */
export class ExportTooLargeError extends Error {
  constructor(maxBytes: number) {
    super(
      `An export may take at most ${maxBytes} bytes (EXPORT_MAX_BYTES), and these notes take more. ` +
        'Delete or shorten some notes, then start a new export.',
    );
    this.name = 'ExportTooLargeError';
  }
}

/** A completed export's file, as `exports` names it. */
export type StoredFile = { exportId: string; run: string; chunks: number };

/**
 * The file as a stream that reads one chunk when the client asks for the next (a high-water mark of 0: nothing is
 * read ahead), so a download holds one chunk whatever the file's size, and a client that stops reading stops the
 * queries too.
 */
export function exportFileStream(sql: Sql, file: StoredFile): ReadableStream<Uint8Array> {
  let seq = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (seq >= file.chunks) {
          controller.close();
          return;
        }
        const [chunk] = await sql<{ data: Buffer }[]>`
          select data from export_chunks
          where export_id = ${file.exportId} and run = ${file.run} and seq = ${seq}`;
        // Only a purge running during the download removes a chunk; a short file must not pass for a whole one.
        if (!chunk) {
          controller.error(new Error(`chunk ${seq} of export ${file.exportId} is gone; it was purged`));
          return;
        }
        seq += 1;
        controller.enqueue(new Uint8Array(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength));
      },
    },
    { highWaterMark: 0 },
  );
}
