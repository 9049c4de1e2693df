import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Sql } from 'postgres';
import { createJobRecord } from '#runtime/jobs/records.ts';

/** A note as a test writes it; the time defaults to now. */
export type NoteSeed = { title: string; body: string; tags?: string[]; createdAt?: string };

/** Inserts notes straight into the table, so export tests need no notes handler. */
export async function insertNotes(sql: Sql, userId: string, notes: NoteSeed[]): Promise<string[]> {
  const ids: string[] = [];
  for (const note of notes) {
    const at = note.createdAt ?? new Date().toISOString();
    const [row] = await sql<{ id: string }[]>`
      insert into notes (user_id, title, body, tags, created_at, updated_at)
      values (${userId}, ${note.title}, ${note.body}, ${note.tags ?? []}, ${at}, ${at})
      returning id`;
    ids.push((row as { id: string }).id);
  }
  return ids;
}

/** Creates an export and its job record the way POST /notes/exports does, without enqueueing it. */
export async function createExport(sql: Sql, userId: string, format: 'ndjson' | 'csv'): Promise<string> {
  const id = randomUUID();
  await sql.begin(async (tx) => {
    await createJobRecord(tx, { id, owner: userId, task: 'export-notes' });
    await tx`insert into exports (id, user_id, format) values (${id}, ${userId}, ${format})`;
  });
  return id;
}

/** An export's row and its file, read back whole from the chunks of the run that completed it. */
export async function storedExport(sql: Sql, id: string) {
  const [row] = await sql<
    {
      content_type: string | null;
      filename: string | null;
      completed_at: Date | null;
      file_run: string | null;
    }[]
  >`select content_type, filename, completed_at, file_run from exports where id = ${id}`;
  if (!row) throw new Error(`there is no export ${id}`);
  const chunks = await sql<{ data: Buffer }[]>`
    select data from export_chunks where export_id = ${id} and run = ${row.file_run} order by seq`;
  return { ...row, content: row.file_run ? Buffer.concat(chunks.map((chunk) => chunk.data)) : null };
}

/** The chunk rows of an export, every run's, so a test can see what a stopped or second run left behind. */
export async function chunkRows(sql: Sql, id: string) {
  return sql<{ run: string; seq: number; bytes: number }[]>`
    select run, seq, octet_length(data) as bytes from export_chunks where export_id = ${id} order by run, seq`;
}

/**
 * Notes of `bodyChars` control characters each, written by Postgres (a test process never holds them): JSON
 * writes each character in 6 bytes, so a small table makes a large export.
 */
export async function insertControlCharacterNotes(
  sql: Sql,
  userId: string,
  notes: { count: number; bodyChars: number },
) {
  await sql`
    insert into notes (user_id, title, body)
    select ${userId}, 'note ' || i, repeat(chr(1), ${notes.bodyChars}) from generate_series(1, ${notes.count}) as i`;
}

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * What this process holds after full collections (heap and buffers): unlike a sampled RSS, it does not depend on
 * when the collector happened to run, so a busy machine cannot move it. Buffers' memory is returned by a
 * background sweeper after a collection, hence the second one after a turn of the event loop.
 */
export async function liveBytes(): Promise<number> {
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 10));
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/**
 * Parses RFC 4180 CSV (quoted cells may hold separators, doubled quotes and line breaks) into rows of cells. A
 * quote opens a quoted cell only at the start of a cell, as spreadsheets read it, so `;` reads a comma-separated
 * file as a spreadsheet set to semicolons would.
 */
export function parseCsv(text: string, separator = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let started = false;
  let quoted = false;
  const endCell = () => {
    row.push(cell);
    cell = '';
    started = false;
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"' && !started) {
      quoted = true;
      started = true;
    } else if (char === separator) endCell();
    else if (char === '\r' && text[i + 1] === '\n') {
      endCell();
      rows.push(row);
      row = [];
      i++;
    } else {
      cell += char;
      started = true;
    }
  }
  if (started || row.length > 0) throw new Error('the CSV does not end with CRLF');
  return rows;
}

/** NDJSON: one JSON value per line, each line ended by a newline. */
export function parseNdjson(text: string): Record<string, unknown>[] {
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error('the NDJSON does not end with a newline');
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line));
}
