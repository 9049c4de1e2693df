import * as v from 'valibot';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonSchemaConverter } from '#shared/build/json-schema.ts';
import {
  Note,
  NoteBody,
  NoteTags,
  NoteTitle,
  noteColumns,
  noteFieldsMessage,
  toNote,
} from '#shared/notes.ts';
import { testSql } from '../support/context.ts';

const sql = testSql();
afterAll(() => sql.end());

const messages = (schema: v.GenericSchema, input: unknown) =>
  v.safeParse(schema, input).issues?.map((issue) => issue.message) ?? [];

describe('NoteTags', () => {
  it('trims each tag and drops repeats, keeping the first in order and telling cases apart', () => {
    expect(v.parse(NoteTags, [' b ', 'a', 'b', 'B', 'a '])).toEqual(['b', 'a', 'B']);
  });

  it('takes up to 20 tags of 1 to 50 characters, counted after trimming', () => {
    expect(
      v.parse(
        NoteTags,
        Array.from({ length: 20 }, (_, i) => `t${i}`),
      ),
    ).toHaveLength(20);
    expect(v.parse(NoteTags, [` ${'x'.repeat(50)} `])).toEqual(['x'.repeat(50)]);
    expect(
      messages(
        NoteTags,
        Array.from({ length: 21 }, (_, i) => `t${i}`),
      ),
    ).toEqual(['must hold at most 20 tags']);
    expect(messages(NoteTags, ['x'.repeat(51)])).toEqual(['must be at most 50 characters']);
    expect(messages(NoteTags, [' '])).toEqual(['must not be blank']);
  });

  it('counts 21 tags as too many even when repeats would leave fewer', () => {
    expect(
      v.safeParse(
        NoteTags,
        Array.from({ length: 21 }, () => 'same'),
      ).success,
    ).toBe(false);
  });
});

describe('NoteTitle and NoteBody', () => {
  it('trims the title and refuses a blank or overlong one', () => {
    expect(v.parse(NoteTitle, '  Hi  ')).toBe('Hi');
    expect(v.parse(NoteTitle, 'x'.repeat(200))).toHaveLength(200);
    expect(messages(NoteTitle, '   ')).toEqual(['must not be blank']);
    expect(messages(NoteTitle, 'x'.repeat(201))).toEqual(['must be at most 200 characters']);
  });

  it('keeps the body as sent, empty allowed, up to 100000 characters', () => {
    expect(v.parse(NoteBody, '')).toBe('');
    expect(v.parse(NoteBody, '  spaced\n')).toBe('  spaced\n');
    expect(messages(NoteBody, 'y'.repeat(100_001))).toEqual(['must be at most 100000 characters']);
  });
});

describe('noteFieldsMessage', () => {
  it('says an unknown field is not a note field, and a non-object is not an object', () => {
    const schema = v.strictObject({ title: v.string() }, noteFieldsMessage);
    expect(messages(schema, { title: 't', colour: 'red' })).toEqual(['is not a field of a note']);
    expect(messages(schema, 'text')).toEqual(['must be a JSON object']);
  });
});

describe('toNote', () => {
  it('maps a row selected with noteColumns to the API shape', async () => {
    const [row] = await sql`
      select ${sql(noteColumns)} from (values (
        gen_random_uuid(), 'T', 'B', array['a']::text[],
        '2026-03-14T09:26:53.589123Z'::timestamptz, '2026-03-14T10:00:00Z'::timestamptz
      )) as notes (id, title, body, tags, created_at, updated_at)`;
    const note = toNote(row as Parameters<typeof toNote>[0]);
    expect(note).toEqual({
      id: row?.id,
      title: 'T',
      body: 'B',
      tags: ['a'],
      createdAt: '2026-03-14T09:26:53.589Z',
      updatedAt: '2026-03-14T10:00:00.000Z',
    });
    expect(v.is(Note, note)).toBe(true);
  });

  it('selects columns that the notes table has', async () => {
    const result = await sql`select ${sql(noteColumns)} from notes limit 0`;
    expect(result.columns.map((column) => column.name)).toEqual(noteColumns);
  });
});

describe('OpenAPI', () => {
  it('documents a note and its inputs with descriptions and examples', () => {
    const { components, convert } = jsonSchemaConverter();
    // Note is named (v.title), so a use of it refers to its component, which carries the description.
    expect(convert(Note, 'output', 'Note')).toEqual({ $ref: '#/components/schemas/Note' });
    const note = components.Note as Record<string, unknown>;
    expect(note.description).toEqual(expect.any(String));
    expect(v.is(Note, (note.examples as unknown[])[0])).toBe(true);
    const tags = convert(NoteTags, 'input', 'Tags');
    expect(tags).toMatchObject({ type: 'array', maxItems: 20, examples: [['home', 'errands']] });
    expect(convert(NoteTitle, 'input', 'Title')).toMatchObject({ minLength: 1, maxLength: 200 });
  });
});
