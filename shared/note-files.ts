import { type NoteRow, toNote } from './notes.ts';

/** The file formats a notes export is written in. */
export const EXPORT_FORMATS = {
  ndjson: { contentType: 'application/x-ndjson', extension: 'ndjson' },
  csv: { contentType: 'text/csv; charset=utf-8', extension: 'csv' },
} as const;

export type ExportFormat = keyof typeof EXPORT_FORMATS;

/** The first line of a CSV export. */
export const CSV_HEADER = 'id,title,body,tags,createdAt,updatedAt\r\n';

/** One note as a line of the file: a JSON object per line, or an RFC 4180 row. */
export function noteLine(format: ExportFormat, note: NoteRow): string {
  return format === 'csv' ? csvLine(note) : `${JSON.stringify(toNote(note))}\n`;
}

/** RFC 4180: CRLF line ends; a cell holding a comma, quote or line break is quoted, its quotes doubled. */
function csvLine(note: NoteRow): string {
  const view = toNote(note);
  const cells = [view.id, view.title, view.body, view.tags.join(';'), view.createdAt, view.updatedAt];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/**
 * A spreadsheet runs a cell starting with = + - @ (or a tab or carriage return, per OWASP) as a formula,
 * so such a cell gets a leading single quote: the file then opens as text, at the cost of that one character.
 */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
