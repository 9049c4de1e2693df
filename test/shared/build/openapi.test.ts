import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { HttpError } from '#runtime/errors.ts';
import { type AnyHandler, defineAuth, defineHandler } from '#runtime/http/handler.ts';
import { defineTask } from '#runtime/jobs/task.ts';
import { type OpenApiInput, openApiDocument } from '#shared/build/openapi.ts';
import { structuralProblems } from '../../support/openapi-checks.ts';

// biome-ignore lint/suspicious/noExplicitAny: the tests walk a JSON document of known shape
type Json = Record<string, any>;

const bearer = defineAuth({
  name: 'bearerAuth',
  openapi: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
  async authenticate() {
    throw HttpError.unauthorized();
  },
});

// Named, since two operations share it (an unnamed shared object is refused: see openapi-components.test.ts).
const Note = v.pipe(v.object({ id: v.string(), title: v.string(), body: v.string() }), v.title('Note'));

const listNotes = defineHandler({
  summary: 'Lists notes',
  query: v.object({
    limit: v.optional(v.pipe(v.string(), v.transform(Number), v.number(), v.minValue(1)), '20'),
    q: v.pipe(v.string(), v.description('Words the title must contain')),
    since: v.optional(v.string(), () => new Date().toISOString()),
  }),
  responses: { 200: v.array(Note) },
  handle: () => [],
});
const createNote = defineHandler({
  summary: 'Creates a note',
  description: 'The note belongs to the caller.',
  auth: bearer,
  headers: v.object({ 'idempotency-key': v.optional(v.string()), authorization: v.string() }),
  body: v.object({ title: v.pipe(v.string(), v.minLength(1)), body: v.optional(v.string(), '') }),
  responses: { 201: Note, 409: { description: 'A note with this title exists' } },
  handle: () => ({ id: 'n1', title: 'Groceries', body: '' }),
});
const readNote = defineHandler({
  summary: 'Reads one note',
  tags: ['reading'],
  params: v.object({ id: v.pipe(v.string(), v.uuid()) }),
  handle: () => ({}),
});
const deleteNote = defineHandler({
  summary: 'Deletes a note',
  auth: bearer,
  params: v.object({ id: v.string() }),
  responses: { 204: { description: 'No Content' } },
  handle: () => undefined,
});
const readFile = defineHandler({
  summary: 'Downloads a file',
  responses: { 200: { description: 'The file', contentType: 'application/octet-stream' } },
  handle: () => new Response('x'),
});
const health = defineHandler({ summary: 'Says hello', handle: () => 'hi' });

type Tree = { name: string; children: Tree[] };
const TreeSchema: v.GenericSchema<Tree> = v.object({
  name: v.string(),
  children: v.array(v.lazy(() => TreeSchema)),
});
const saveTree = defineHandler({
  summary: 'Stores a tree',
  body: TreeSchema,
  responses: { 202: { description: 'Accepted' } },
  handle: () => ({}),
});

const sendEmail = defineTask({
  description: 'Sends the welcome email',
  payload: v.object({ userId: v.string(), locale: v.optional(v.string()) }),
  retries: 5,
  run: () => undefined,
});
const nightly = defineTask({
  payload: v.object({}),
  schedule: '0 3 * * *',
  concurrency: 2,
  backoff: { strategy: 'fixed', delayMs: 500 },
  run: () => undefined,
});

function route(method: string, path: string, definition: AnyHandler) {
  return { method, path, file: `handlers${path}.${method.toLowerCase()}.ts`, definition };
}

const input: OpenApiInput = {
  title: 'Notes API',
  version: '1.2.3',
  routes: [
    route('POST', '/notes', createNote),
    route('DELETE', '/notes/:id', deleteNote),
    route('GET', '/notes', listNotes),
    route('GET', '/notes/:id', readNote),
    route('GET', '/files/:rest{.+}', readFile),
    route('GET', '/', health),
    route('POST', '/trees', saveTree),
  ],
  tasks: [
    { name: 'send-welcome-email', definition: sendEmail },
    { name: 'reports/nightly', definition: nightly },
  ],
};
const doc = openApiDocument(input) as Json;
const op = (path: string, method: string): Json => doc.paths[path][method];
const param = (operation: Json, name: string): Json =>
  operation.parameters.find((p: Json) => p.name === name);

describe('openApiDocument', () => {
  it('produces an OpenAPI 3.1.0 document with the given info', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toEqual({ title: 'Notes API', version: '1.2.3', description: expect.any(String) });
    // What belongs to no operation is said once, for every one: 405 with Allow, and OPTIONS.
    expect(doc.info.description).toMatch(/answers 405 with `Allow`; `OPTIONS` answers 204 with `Allow`/);
    expect(doc.servers).toEqual([{ url: '/' }]);
  });

  it('templates Hono paths, sorted, with methods in OpenAPI order', () => {
    expect(Object.keys(doc.paths)).toEqual(['/', '/files/{rest}', '/notes', '/notes/{id}', '/trees']);
    expect(Object.keys(doc.paths['/notes'])).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/notes/{id}'])).toEqual(['get', 'delete']);
    const regex = openApiDocument({
      ...input,
      routes: [route('GET', '/n/:id{[0-9]{1,6}}/x', readNote)],
    }) as Json;
    expect(Object.keys(regex.paths)).toEqual(['/n/{id}/x']);
  });

  it('derives unique camelCase operation ids from method and path', () => {
    expect(op('/notes/{id}', 'get').operationId).toBe('getNotesById');
    expect(op('/files/{rest}', 'get').operationId).toBe('getFilesByRest');
    expect(op('/', 'get').operationId).toBe('getRoot');
    const twins = openApiDocument({
      ...input,
      routes: [route('GET', '/a-b', health), route('GET', '/a/b', health)],
    });
    expect(Object.values<Json>((twins as Json).paths).map((item) => item.get.operationId)).toEqual([
      'getAB',
      'getAB2',
    ]);
  });

  it('takes summary, description and tags from the definition; the first static segment is the default tag', () => {
    expect(op('/notes', 'post')).toMatchObject({
      summary: 'Creates a note',
      description: 'The note belongs to the caller.',
    });
    expect(op('/notes', 'post').tags).toEqual(['notes']);
    expect(op('/notes/{id}', 'get').tags).toEqual(['reading']);
    expect(op('/', 'get').tags).toBeUndefined();
    expect(doc.tags.map((t: Json) => t.name)).toEqual(['files', 'notes', 'reading', 'trees']);
  });

  it('declares path parameters as required, query and header ones as the schema says', () => {
    expect(param(op('/notes/{id}', 'get'), 'id')).toEqual({
      name: 'id',
      in: 'path',
      required: true,
      schema: { type: 'string', format: 'uuid' },
    });
    // A catch-all with no params schema is still declared.
    expect(op('/files/{rest}', 'get').parameters).toEqual([
      { name: 'rest', in: 'path', required: true, schema: { type: 'string' } },
    ]);
    const list = op('/notes', 'get');
    // Text turned into a number is documented as the number, its default parsed too.
    expect(param(list, 'limit')).toEqual({
      name: 'limit',
      in: 'query',
      required: false,
      schema: { type: 'number', minimum: 1, default: 20 },
    });
    // A default computed by a function is dropped (see json-schema.test.ts).
    expect(param(list, 'since').schema).toEqual({ type: 'string' });
    expect(param(list, 'q')).toMatchObject({
      in: 'query',
      required: true,
      description: 'Words the title must contain',
    });
    expect(param(op('/notes', 'post'), 'idempotency-key')).toMatchObject({ in: 'header', required: false });
    expect(param(op('/notes', 'post'), 'authorization')).toBeUndefined();
  });

  it('describes the body as required JSON with the schema’s required fields', () => {
    const body = op('/notes', 'post').requestBody;
    expect(body.required).toBe(true);
    expect(body.content['application/json'].schema).toMatchObject({
      type: 'object',
      required: ['title'],
      properties: { title: { type: 'string', minLength: 1 }, body: { type: 'string', default: '' } },
    });
    expect(body.content['application/json'].schema.$schema).toBeUndefined();
  });

  it('answers with the declared success status: 201 with its schema, 204 with no content', () => {
    const created = op('/notes', 'post').responses;
    expect(created['200']).toBeUndefined();
    expect(created['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Note' });
    expect(doc.components.schemas.Note.required).toEqual(['id', 'title', 'body']);
    expect(op('/notes/{id}', 'delete').responses['204']).toEqual({
      description: 'No Content',
      headers: { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } },
    });
    expect(op('/notes', 'get').responses['200'].content['application/json'].schema.type).toBe('array');
    expect(op('/files/{rest}', 'get').responses['200']).toEqual({
      description: 'The file',
      content: { 'application/octet-stream': {} },
      headers: { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } },
    });
  });

  it('adds problem responses: 400 for input, 401 for auth, 404 for a path parameter, 413 and 415 for a body, 500 and 503 always, and declared errors', () => {
    const requestId = { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } };
    const problem = (description: string, headers: Json = requestId) => ({
      description,
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      headers,
    });
    const created = op('/notes', 'post').responses;
    expect(Object.keys(created)).toEqual(['201', '400', '401', '409', '413', '415', '500', '503']);
    expect(created['400']).toEqual(problem('Bad Request'));
    expect(created['401']).toEqual(problem('Unauthorized'));
    expect(created['409']).toEqual(problem('A note with this title exists'));
    expect(created['503'].headers).toEqual({
      ...requestId,
      'Retry-After': { $ref: '#/components/headers/RetryAfter' },
    });
    expect(Object.keys(op('/', 'get').responses)).toEqual(['200', '500', '503']);
    expect(Object.keys(op('/notes/{id}', 'get').responses)).toEqual(['200', '400', '404', '500', '503']);
    expect(Object.keys(doc.components.headers)).toEqual(['RequestId', 'RetryAfter']);
    const schema = doc.components.schemas.Problem;
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        'type',
        'title',
        'status',
        'detail',
        'instance',
        'code',
        'requestId',
        'errors',
      ]),
    );
    expect(schema.properties.errors.items.required).toEqual(['field', 'message']);
  });

  it('requires the auth scheme where a handler names one, and publishes it', () => {
    expect(op('/notes', 'post').security).toEqual([{ bearerAuth: [] }]);
    // A public operation says so explicitly.
    expect(op('/notes', 'get').security).toEqual([]);
    expect(doc.components.securitySchemes).toEqual({
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    });
  });

  it('publishes the task contract under x-tasks, sorted by name', () => {
    expect(doc['x-tasks']).toEqual([
      {
        name: 'reports/nightly',
        payload: { type: 'object', properties: {}, required: [] },
        retries: 3,
        backoff: { strategy: 'fixed', delayMs: 500 },
        timeoutMs: 60_000,
        concurrency: 2,
        schedule: '0 3 * * *',
      },
      {
        name: 'send-welcome-email',
        description: 'Sends the welcome email',
        payload: {
          type: 'object',
          properties: { userId: { type: 'string' }, locale: { type: 'string' } },
          required: ['userId'],
        },
        retries: 5,
        backoff: { strategy: 'exponential', delayMs: 1_000 },
        timeoutMs: 60_000,
        concurrency: 1,
      },
    ]);
  });

  it('is deterministic: the same input, in any order, gives the same JSON', () => {
    const again = openApiDocument(input);
    const shuffled = openApiDocument({
      ...input,
      routes: [...input.routes].reverse(),
      tasks: [...input.tasks].reverse(),
    });
    expect(JSON.stringify(again)).toBe(JSON.stringify(doc));
    expect(JSON.stringify(shuffled)).toBe(JSON.stringify(doc));
  });

  it('passes the structural rules of OpenAPI 3.1 that can be checked offline', () => {
    expect(structuralProblems(doc)).toEqual([]);
  });

  it('refuses routes OpenAPI cannot describe, naming the file', () => {
    const bad = (routes: OpenApiInput['routes']) => () => openApiDocument({ ...input, routes });
    expect(
      bad([route('GET', '/notes/:id', readNote), route('DELETE', '/notes/:noteId', deleteNote)]),
    ).toThrow(/handlers\/notes\/:id\.get\.ts and handlers\/notes\/:noteId\.delete\.ts/);
    expect(bad([route('GET', '/notes', readNote)])).toThrow(
      /handlers\/notes\.get\.ts: params id are not in \/notes/,
    );
    expect(bad([route('GET', '/notes/:id?', health)])).toThrow(/optional parameter/);
    const twice = [
      route('GET', '/notes/:id', readNote),
      { ...route('GET', '/notes/:id', readNote), file: 'other.ts' },
    ];
    expect(bad(twice)).toThrow(/handlers\/notes\/:id\.get\.ts and other\.ts both serve GET \/notes\/\{id\}/);
  });
});
