import * as v from 'valibot';
import { defineHandler } from '#runtime/http/handler.ts';
import { bearer } from '#shared/bearer-auth.ts';
import { Note, type NotePosition, notesPage, toNote } from '#shared/notes.ts';

const CURSOR_EXAMPLE =
  'MjAyNi0wMy0xNFQwOToyNjo1My41ODkxMjNaLDBmOGU0YjFlLTRhM2MtNGQyYi05ZjYxLTJjN2Q1ZThhOWIxMA';

const Cursor = v.pipe(
  v.string(),
  v.description('The `nextCursor` of the page before; leave it out for the first page.'),
  v.examples([CURSOR_EXAMPLE]),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const position = decodeCursor(dataset.value);
    if (!position) addIssue({ message: 'must be the nextCursor of an earlier page' });
    return position ?? NEVER;
  }),
);

export default defineHandler({
  summary: 'Lists your notes, newest first',
  description:
    'Pages are cut by keyset: pass the `nextCursor` of one page as `cursor` to get the next; it is null on ' +
    'the last page. Notes added meanwhile never shift a page. A page holds at most `limit` notes, and each note ' +
    'at most NOTE_MAX_BYTES (128 KiB unless configured) of title, body and tags as JSON.',
  tags: ['notes'],
  auth: bearer,
  query: v.object({
    limit: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^(100|[1-9][0-9]?)$/, 'must be a whole number from 1 to 100'),
        v.description('How many notes a page holds, 1 to 100.'),
        v.examples(['20']),
        v.toNumber(),
        // Always true after the regex: they tell the document which numbers it takes (1 to 100, whole).
        v.integer(),
        v.minValue(1),
        v.maxValue(100),
      ),
      '20',
    ),
    cursor: v.optional(Cursor),
    tag: v.optional(
      v.pipe(
        v.string(),
        v.trim(),
        v.minLength(1, 'must not be blank'),
        v.maxLength(50, 'must be at most 50 characters'),
        v.description('Only notes that carry this tag.'),
        v.examples(['home']),
      ),
    ),
  }),
  responses: {
    200: v.pipe(
      v.object({
        items: v.array(Note),
        nextCursor: v.nullable(
          v.pipe(
            v.string(),
            v.description('Send it as `cursor` for the next page.'),
            v.examples([CURSOR_EXAMPLE]),
          ),
        ),
      }),
      v.title('NotePage'),
      v.description('One page of notes, and the cursor of the next page (null on the last).'),
    ),
  },
  async handle({ query, user, sql, settings }) {
    // One more than the page holds: whether it comes back says if there is a next page.
    const { rows, cutShort } = await notesPage(sql, {
      userId: user.id,
      limit: query.limit + 1,
      after: query.cursor,
      tag: query.tag,
      maxBytes: settings.notes.pageMaxBytes,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    const more = rows.length > query.limit || cutShort;
    return {
      items: page.map(toNote),
      nextCursor: more && last ? encodeCursor({ createdAt: last.position, id: last.id }) : null,
    };
  },
});

function encodeCursor(position: NotePosition): string {
  return Buffer.from(`${position.createdAt},${position.id}`).toString('base64url');
}

const POSITION =
  /^([1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})\d{3}Z,[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$/;

function decodeCursor(cursor: string): NotePosition | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = POSITION.exec(text);
  // Only what encodeCursor gives back is a cursor: this also refuses padding and stray characters.
  if (!match?.[1] || encodeCursor(position(text)) !== cursor) return undefined;
  // A well-formed but impossible date (month 13) would make Postgres fail; refuse it here instead.
  const millis = new Date(`${match[1]}Z`);
  if (Number.isNaN(millis.getTime()) || millis.toISOString() !== `${match[1]}Z`) return undefined;
  return position(text);
}

function position(text: string): NotePosition {
  const [createdAt, id] = text.split(',') as [string, string];
  return { createdAt, id };
}
