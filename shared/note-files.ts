import { type NoteRow, toNote } from './notes.ts';

/** The file formats a notes export is written in. */
export const EXPORT_FORMATS = {
  ndjson: { contentType: 'application/x-ndjson', extension: 'ndjson' },
  csv: { contentType: 'text/csv; charset=utf-8', extension: 'csv' },
} as const;

export type ExportFormat = keyof typeof EXPORT_FORMATS;

/** The first line of a CSV export. */
export const CSV_HEADER = 'id,title,body,tags,createdAt,updatedAt\r\n';

/**
 * What an NDJSON line holds beside the JSON of its note's title, body and tags (id, dates, keys, punctuation):
 * the line is exactly `json_bytes` plus this. A CSV row is no longer, but for the single quote the formula guard
 * puts after a semicolon.
 */
export const NOTE_LINE_OVERHEAD_BYTES = 149;

/** The size of an NDJSON export of notes with these totals (see noteTotals), checked before one is built. */
export function exportBytesEstimate(totals: { notes: number; jsonBytes: number }): number {
  return totals.jsonBytes + totals.notes * NOTE_LINE_OVERHEAD_BYTES;
}

/** One note as a line of the file: a JSON object per line, or an RFC 4180 row. */
export function noteLine(format: ExportFormat, note: NoteRow): string {
  return format === 'csv' ? csvLine(note) : `${JSON.stringify(toNote(note))}\n`;
}

/**
 * RFC 4180: CRLF line ends; a cell holding a comma, semicolon, quote or line break is quoted, its quotes doubled.
 * The semicolon is the separator where the comma is the decimal mark, and a reader splitting there takes a quote
 * as a quote only at the start of a cell: so the guard also goes after each semicolon inside a cell.
 */
function csvLine(note: NoteRow): string {
  const view = toNote(note);
  const cells = [view.id, view.title, view.body, view.tags.join(';'), view.createdAt, view.updatedAt];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/**
 * A spreadsheet runs a cell starting with = + - @ (or a tab or carriage return, per OWASP) as a formula,
 * so such a cell gets a leading single quote: the file then opens as text, at the cost of that one character.
 * After a semicolon a quote starts a cell too (`;"=1+1"`), so it is guarded there as well.
 */
function csvCell(value: string): string {
  const safe = (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value).replace(/;(?=[=+\-@\t\r"])/g, ";'");
  return /[",;\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
