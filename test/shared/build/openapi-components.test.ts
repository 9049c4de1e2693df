import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { type AnyHandler, defineHandler } from '#runtime/http/handler.ts';
import { defineTask } from '#runtime/jobs/task.ts';
import { jsonSchemaConverter } from '#shared/build/json-schema.ts';
import { type OpenApiInput, openApiDocument } from '#shared/build/openapi.ts';
import { structuralProblems } from '../../support/openapi-checks.ts';

// biome-ignore lint/suspicious/noExplicitAny: the tests walk a JSON document of known shape
type Json = Record<string, any>;

const Tags = v.pipe(
  v.array(v.string()),
  v.transform((tags) => [...new Set(tags)]),
);
const Note = v.pipe(
  v.object({
    id: v.string(),
    title: v.string(),
    tags: Tags,
    rank: v.optional(v.pipe(v.string(), v.transform(Number), v.number())),
    extra: v.optional(v.unknown()),
  }),
  v.title('Note'),
);
const NotePage = v.pipe(
  v.object({ items: v.array(Note), next: v.nullable(v.string()) }),
  v.title('NotePage'),
);

function route(method: string, path: string, definition: AnyHandler, file = `handlers${path}.${method}.ts`) {
  return { method, path, file, definition };
}
const documentOf = (routes: OpenApiInput['routes'], tasks: OpenApiInput['tasks'] = []) =>
  openApiDocument({ title: 'T', version: '1', routes, tasks }) as Json;

const list = defineHandler({
  summary: 'Lists',
  query: v.object({
    limit: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^(100|[1-9][0-9]?)$/, 'must be a whole number from 1 to 100'),
        v.description('How many'),
        v.examples(['20']),
        v.toNumber(),
        v.integer(),
        v.minValue(1),
        v.maxValue(100),
      ),
      '20',
    ),
    plain: v.optional(v.pipe(v.string(), v.toNumber())),
    since: v.optional(v.string()),
  }),
  responses: { 200: NotePage },
  handle: () => ({ items: [], next: null }),
});
const create = defineHandler({
  summary: 'Creates',
  body: v.object({ title: v.string(), tags: Tags }),
  responses: { 201: Note },
  handle: () => ({ id: 'n', title: 't', tags: [] }),
});
const replace = defineHandler({
  summary: 'Replaces',
  body: Note,
  responses: { 200: Note },
  handle: () => ({ id: 'n', title: 't', tags: [] }),
});
const doc = documentOf([
  route('get', '/notes', list),
  route('post', '/notes', create),
  route('put', '/notes', replace),
]);
const schemas = doc.components.schemas;

describe('named component schemas', () => {
  it('makes a schema named with v.title a component, referenced wherever it is used', () => {
    expect(Object.keys(schemas)).toEqual(['JsonValue', 'Note', 'NoteInput', 'NotePage', 'Problem']);
    expect(doc.paths['/notes'].get.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/NotePage',
    });
    expect(schemas.NotePage.properties.items.items).toEqual({ $ref: '#/components/schemas/Note' });
    expect(doc.paths['/notes'].post.responses['201'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Note',
    });
    expect(structuralProblems(doc)).toEqual([]);
  });

  it('names the input side apart only where a transform makes it differ from the output side', () => {
    // rank is sent as text and read back as a number: Note's two sides differ.
    expect(doc.paths['/notes'].put.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/NoteInput',
    });
    expect(schemas.NoteInput.title).toBe('Note');
    expect([schemas.NoteInput.properties.rank.type, schemas.Note.properties.rank.type]).toEqual([
      'string',
      'number',
    ]);
    const same = v.pipe(v.object({ a: v.string() }), v.title('Same'));
    const { components, convert } = jsonSchemaConverter();
    expect([convert(same, 'input', 'X'), convert(same, 'output', 'X')]).toEqual([
      { $ref: '#/components/schemas/Same' },
      { $ref: '#/components/schemas/Same' },
    ]);
    expect(Object.keys(components)).toEqual(['Same']);
  });

  it('documents v.unknown() as any JSON value, once', () => {
    expect(schemas.Note.properties.extra).toEqual({ $ref: '#/components/schemas/JsonValue' });
    expect(schemas.JsonValue.type).toEqual(['null', 'boolean', 'number', 'string', 'array', 'object']);
    expect(schemas.JsonValue.items).toEqual({ $ref: '#/components/schemas/JsonValue' });
  });

  it('refuses two different schemas under one name, naming both files', () => {
    const other = v.pipe(v.object({ id: v.number() }), v.title('Note'));
    const read = defineHandler({ summary: 'Reads', responses: { 200: other }, handle: () => ({ id: 1 }) });
    expect(() =>
      documentOf([route('get', '/a', replace, 'handlers/a.ts'), route('get', '/b', read, 'handlers/b.ts')]),
    ).toThrow(/^handlers\/a\.ts and handlers\/b\.ts both name a schema Note, and the two differ/);
  });

  it('refuses a title that cannot be a component name, saying what would do', () => {
    const wordy = v.pipe(v.object({ a: v.string() }), v.title('One page of notes'));
    const read = defineHandler({ summary: 'Reads', responses: { 200: wordy }, handle: () => ({ a: '' }) });
    expect(() => documentOf([route('get', '/a', read, 'handlers/a.ts')])).toThrow(
      /^handlers\/a\.ts: v\.title\('One page of notes'\) names a schema component.*such as NotePage/,
    );
  });

  it('refuses an object schema that several operations or tasks share without a name, naming them', () => {
    const Shared = v.object({ id: v.string(), name: v.string() });
    const read = defineHandler({
      summary: 'Reads',
      responses: { 200: Shared },
      handle: () => ({ id: '', name: '' }),
    });
    const task = defineTask({ payload: v.object({ item: Shared }), run: () => undefined });
    expect(() =>
      documentOf(
        [route('get', '/a', read, 'handlers/a.ts')],
        [{ name: 'sync', file: 'tasks/sync.ts', definition: task }],
      ),
    ).toThrow(
      /^handlers\/a\.ts and tasks\/sync\.ts share an object schema with no name \(\{ id, name \}, in handlers\/a\.ts at response 200\): .*v\.title\('Name'\)/,
    );
    // Shared strings stay inline, and so does an object one operation uses in two places.
    const Id = v.pipe(v.string(), v.uuid());
    const twice = defineHandler({
      summary: 'Twice',
      params: v.object({ id: Id }),
      body: v.object({ a: Shared, b: Shared }),
      responses: { 200: v.object({ id: Id }) },
      handle: () => ({ id: '' }),
    });
    expect(() => documentOf([route('post', '/t/:id', twice), route('get', '/u/:id', twice)])).toThrow(
      /share/,
    );
    expect(() => documentOf([route('post', '/t/:id', twice)])).not.toThrow();
  });
});

describe('numbers in parameters', () => {
  const param = (name: string) => doc.paths['/notes'].get.parameters.find((p: Json) => p.name === name);

  it('documents text turned into a number by the number, with its default and examples parsed', () => {
    expect(param('limit').schema).toEqual({
      type: 'integer',
      description: 'How many',
      examples: [20],
      minimum: 1,
      maximum: 100,
      default: 20,
    });
    expect(param('plain').schema).toEqual({ type: 'number' });
    expect(param('since').schema).toEqual({ type: 'string' });
  });

  it('keeps validating the text as before: the document is made from a copy', () => {
    const query = list.query as v.GenericSchema;
    expect(v.safeParse(query, { limit: '7' }).output).toEqual({ limit: 7 });
    expect(v.safeParse(query, {}).output).toEqual({ limit: 20 });
    const refused = v.safeParse(query, { limit: '0' });
    expect(refused.issues?.map((issue) => issue.message)).toEqual(['must be a whole number from 1 to 100']);
  });
});

describe('the document around the operations', () => {
  it('has servers, explicit security on public operations, and a description for every tag', () => {
    expect(doc.servers).toEqual([{ url: '/' }]);
    expect(doc.paths['/notes'].get.security).toEqual([]);
    expect(doc.tags).toEqual([{ name: 'notes', description: 'Operations on /notes.' }]);
    const described = openApiDocument({
      title: 'T',
      version: '1',
      servers: [{ url: 'https://api.example.com' }],
      tags: { notes: 'Your notes.' },
      routes: [route('get', '/notes', list)],
      tasks: [],
    }) as Json;
    expect(described.servers).toEqual([{ url: 'https://api.example.com' }]);
    expect(described.tags).toEqual([{ name: 'notes', description: 'Your notes.' }]);
  });

  it('gives the problem schema a real example: the runtime’s own 404', () => {
    expect(schemas.Problem.examples).toEqual([
      {
        type: 'about:blank#not_found',
        title: 'Not Found',
        status: 404,
        detail: 'No route matches GET /no-such-path.',
        instance: '/no-such-path',
        code: 'not_found',
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    ]);
  });
});
