import { randomUUID } from 'node:crypto';
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

/** Parses RFC 4180 CSV (quoted cells may hold commas, doubled quotes and line breaks) into rows of cells. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += char;
  }
  if (cell !== '' || row.length > 0) throw new Error('the CSV does not end with CRLF');
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
