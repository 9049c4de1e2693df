import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CSV_HEADER, noteLine } from '#shared/note-files.ts';
import type { NoteRow } from '#shared/notes.ts';
import { parseCsv } from '../support/exports.ts';

const at = new Date('2026-03-14T09:26:53.589Z');
const note = (fields: Partial<NoteRow>): NoteRow => ({
  id: randomUUID(),
  title: 'title',
  body: 'body',
  tags: [],
  created_at: at,
  updated_at: at,
  ...fields,
});

const FORMULA = /^[=+\-@\t\r]/;
const csvFile = (...notes: NoteRow[]) => CSV_HEADER + notes.map((row) => noteLine('csv', row)).join('');

describe('noteLine, csv', () => {
  const hostile = [
    note({ title: 'a;=1+1', body: 'x;@SUM(A1);-2', tags: ['home', '=cmd|calc'] }),
    note({ title: 'b;"=HYPERLINK(""http://x"")"', body: ';+1', tags: ['a;=b'] }),
    note({ title: '=first', body: 'ends with;', tags: ['x;'] }),
  ];

  it('quotes a cell holding a semicolon', () => {
    const [row] = parseCsv(noteLine('csv', note({ title: 'a;b', body: 'plain' })));
    expect(noteLine('csv', note({ title: 'a;b' }))).toContain(',"a;b",');
    expect(row?.[1]).toBe('a;b');
  });

  it('leaves no cell that starts a formula when a spreadsheet splits the file at semicolons', () => {
    // The third note's cells end in a semicolon: split there, the rest of the file opens as one quoted cell.
    const split = hostile.slice(0, 2);
    const cells = parseCsv(csvFile(...split), ';').flat();
    expect(cells.length).toBeGreaterThan(split.length * 3);
    expect(cells.filter((cell) => FORMULA.test(cell))).toEqual([]);
  });

  it('reads back at commas with only the guard quotes added', () => {
    const [, ...rows] = parseCsv(csvFile(...hostile));
    expect(rows.map((row) => row.slice(1, 4))).toEqual([
      ["a;'=1+1", "x;'@SUM(A1);'-2", "home;'=cmd|calc"],
      [`b;'"=HYPERLINK(""http://x"")"`, ";'+1", "a;'=b"],
      ["'=first", 'ends with;', 'x;'],
    ]);
  });

  it('still quotes commas, quotes and line breaks, and guards a cell that starts a formula', () => {
    const [row] = parseCsv(noteLine('csv', note({ title: '+1', body: 'a, "b"\r\nc', tags: ['-x'] })));
    expect(row?.slice(1, 4)).toEqual(["'+1", 'a, "b"\r\nc', "'-x"]);
  });
});

describe('noteLine, ndjson', () => {
  it('writes the note as the API shows it, one JSON object per line', () => {
    const row = note({ title: 'T', body: 'line\nbreak', tags: ['a'] });
    expect(JSON.parse(noteLine('ndjson', row))).toEqual({
      id: row.id,
      title: 'T',
      body: 'line\nbreak',
      tags: ['a'],
      createdAt: at.toISOString(),
      updatedAt: at.toISOString(),
    });
    expect(noteLine('ndjson', row).endsWith('}\n')).toBe(true);
  });
});
