import * as v from 'valibot';
import type { Queryable } from '#runtime/db.ts';
import { HttpError } from '#runtime/errors.ts';

const EXAMPLE_ID = '0f8e4b1e-4a3c-4d2b-9f61-2c7d5e8a9b10';

/** A note's id in a path: anything but a uuid is a 400, before any lookup. */
export const NoteId = v.pipe(
  v.string(),
  v.uuid('must be a uuid'),
  v.description('The id the note was created with.'),
  v.examples([EXAMPLE_ID]),
);

/** Trimmed, then 1 to 200 characters, so that a blank title is refused. */
export const NoteTitle = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1, 'must not be blank'),
  v.maxLength(200, 'must be at most 200 characters'),
  v.examples(['Groceries']),
);

/** Kept as sent, whitespace included; it may be empty. The whole note must also fit `noteSizeProblem`. */
export const NoteBody = v.pipe(
  v.string(),
  v.maxLength(100_000, 'must be at most 100000 characters'),
  v.description(
    'At most 100000 characters, and the note as a whole (title, body and tags written as JSON) at most ' +
      'NOTE_MAX_BYTES bytes, 131072 unless configured: a larger note answers 413 note_too_large.',
  ),
  v.examples(['Milk, eggs, and the good bread.']),
);

/**
 * At most 20 tags of 1 to 50 characters. Each is trimmed, and repeats are dropped (the first one stays, in
 * order); tags are compared with their case, so `Work` and `work` are two tags.
 */
export const NoteTags = v.pipe(
  v.array(
    v.pipe(
      v.string(),
      v.trim(),
      v.minLength(1, 'must not be blank'),
      v.maxLength(50, 'must be at most 50 characters'),
    ),
  ),
  v.maxLength(20, 'must hold at most 20 tags'),
  v.description('Up to 20 tags; each is trimmed and repeats are dropped.'),
  v.examples([['home', 'errands']]),
  v.transform((tags) => [...new Set(tags)]),
);

/** The message of a note body's strictObject: an unknown field is named by its path, this says why. */
export function noteFieldsMessage(issue: v.StrictObjectIssue): string {
  return issue.expected === 'never' ? 'is not a field of a note' : 'must be a JSON object';
}

/**
 * A note's size is the JSON its title, body and tags take in a page of GET /notes and in an export line: the
 * database's `json_bytes`, kept by a trigger (sql/0008). The stored size would not bound those, since Postgres
 * compresses the text and JSON writes a control character in 6 bytes. Checked after the write, inside its
 * transaction, so that throwing the answer rolls the write back; a PATCH is measured as the note it leaves.
 */
export function noteSizeProblem(jsonBytes: number, maxBytes: number): HttpError | undefined {
  if (jsonBytes <= maxBytes) return undefined;
  return new HttpError(
    413,
    'note_too_large',
    `The note takes ${jsonBytes} bytes as JSON (title, body and tags); a note may take at most ${maxBytes}. ` +
      'Shorten the body or split it into several notes.',
    { extra: { bytes: jsonBytes, maxBytes } },
  );
}

/** A note as the API shows it. */
export const Note = v.pipe(
  v.object({
    id: v.pipe(v.string(), v.uuid()),
    title: v.string(),
    body: v.string(),
    tags: v.array(v.string()),
    createdAt: v.pipe(v.string(), v.isoTimestamp()),
    updatedAt: v.pipe(v.string(), v.isoTimestamp()),
  }),
  v.title('Note'),
  v.description('A note; only the account that wrote it can see it.'),
  v.examples([
    {
      id: EXAMPLE_ID,
      title: 'Groceries',
      body: 'Milk, eggs, and the good bread.',
      tags: ['home', 'errands'],
      createdAt: '2026-03-14T09:26:53.589Z',
      updatedAt: '2026-03-14T10:02:11.000Z',
    },
  ]),
);

export type NoteView = v.InferOutput<typeof Note>;

/** A row of `notes` as `noteColumns` selects it. */
export type NoteRow = {
  id: string;
  title: string;
  body: string;
  tags: string[];
  created_at: Date;
  updated_at: Date;
};

/** The columns a NoteRow holds, for `select ${sql(noteColumns)}` and `returning ${sql(noteColumns)}`. */
export const noteColumns = ['id', 'title', 'body', 'tags', 'created_at', 'updated_at'];

export function toNote(row: NoteRow): NoteView {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    tags: row.tags,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Where a newest-first page of notes ends: its last note's created_at, to the microsecond, and id. */
export type NotePosition = { createdAt: string; id: string };

/**
 * One newest-first page of a user's notes after `after` (keyset: notes written meanwhile never shift a page),
 * each with its position. The position goes to and from Postgres as text: a JavaScript Date (what postgres.js
 * makes of a timestamptz) would lose the microseconds and skip or repeat notes.
 */
export async function notesPage(
  sql: Queryable,
  page: { userId: string; limit: number; after?: NotePosition; tag?: string; maxBytes?: number },
): Promise<{ rows: (NoteRow & { position: string })[]; cutShort: boolean }> {
  const { after, tag } = page;
  // With maxBytes, the page also stops before the note that would take it past that many bytes as JSON (the
  // first note always comes): a list answer stays small however large notes are. `cutShort` says it stopped.
  const rows = await sql<(NoteRow & { position: string; fetched: number })[]>`
    with recent as (
      select ${sql(noteColumns)}, json_bytes,
        to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position
      from notes
      where user_id = ${page.userId}
        ${tag === undefined ? sql`` : sql`and tags @> array[${tag}]::text[]`}
        ${after ? sql`and (created_at, id) < (${after.createdAt}::text::timestamptz, ${after.id}::uuid)` : sql``}
      order by created_at desc, id desc
      limit ${page.limit}
    ), measured as (
      select *, count(*) over () as fetched,
        coalesce(sum(json_bytes) over (order by created_at desc, id desc
          rows between unbounded preceding and 1 preceding), 0) as before_bytes
      from recent
    )
    select ${sql(noteColumns)}, position, fetched::int from measured
    where ${page.maxBytes === undefined} or before_bytes < ${page.maxBytes ?? 0}
    order by created_at desc, id desc`;
  return { rows, cutShort: rows.length > 0 && rows.length < (rows[0]?.fetched ?? 0) };
}

/** How many notes a user has and their `json_bytes` summed: what an export of them will take. */
export async function noteTotals(
  sql: Queryable,
  userId: string,
): Promise<{ notes: number; jsonBytes: number }> {
  const [totals] = await sql<{ notes: number; jsonBytes: number }[]>`
    select count(*)::int as notes, coalesce(sum(json_bytes), 0)::float8 as "jsonBytes"
    from notes where user_id = ${userId}`;
  return totals ?? { notes: 0, jsonBytes: 0 };
}
