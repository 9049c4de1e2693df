import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { failingFields, readJson } from '../../support/notes.ts';
import { type SignedIn, signUp } from '../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

const post = (user: SignedIn, body: unknown, key?: string) =>
  t.request('POST', '/notes', {
    headers: { ...user.headers, ...(key ? { 'idempotency-key': key } : {}) },
    body,
  });

const countNotes = async (userId: string) =>
  Number((await t.sql`select count(*)::int as n from notes where user_id = ${userId}`)[0]?.n);

describe('POST /notes', () => {
  it('creates a note and answers 201 with it and its Location', async () => {
    const user = await signUp(t);
    const response = await post(user, { title: 'Groceries', body: 'Milk\nEggs', tags: ['home'] });
    expect(response.status).toBe(201);
    const note = await readJson(response);
    expect(note).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      title: 'Groceries',
      body: 'Milk\nEggs',
      tags: ['home'],
      createdAt: expect.any(String),
      updatedAt: note.createdAt,
    });
    expect(response.headers.get('location')).toBe(`/notes/${note.id}`);
    const [row] = await t.sql`select user_id, title, body, tags from notes where id = ${note.id}`;
    expect(row).toEqual({ user_id: user.id, title: 'Groceries', body: 'Milk\nEggs', tags: ['home'] });
  });

  it('allows an empty body, leaves tags out as [], and trims the title', async () => {
    const user = await signUp(t);
    const response = await post(user, { title: '  Just a title  ', body: '' });
    expect(response.status).toBe(201);
    expect(await readJson(response)).toMatchObject({ title: 'Just a title', body: '', tags: [] });
  });

  it('trims tags and drops repeats, keeping the first one in order', async () => {
    const user = await signUp(t);
    const response = await post(user, { title: 't', body: 'b', tags: [' work ', 'home', 'work', 'Work'] });
    expect((await readJson(response)).tags).toEqual(['work', 'home', 'Work']);
  });

  it('accepts the largest title, body and tag list', async () => {
    const user = await signUp(t);
    const tags = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(50, 'x'));
    const response = await post(user, { title: 'x'.repeat(200), body: 'y'.repeat(100_000), tags });
    expect(response.status).toBe(201);
    expect((await readJson(response)).tags).toEqual(tags);
  });

  it('answers 400 naming an unknown field, and stores nothing', async () => {
    const user = await signUp(t);
    const response = await post(user, { title: 't', body: 'b', colour: 'red' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = await readJson(response);
    expect(problem.errors).toEqual([{ field: 'body.colour', message: 'is not a field of a note' }]);
    expect(problem.detail).toContain('body.colour');
    expect(await countNotes(user.id)).toBe(0);
  });

  it('answers 400 naming each field out of its limits', async () => {
    const user = await signUp(t);
    const cases: [unknown, string[]][] = [
      [{ body: 'b' }, ['body.title']],
      [{ title: 't' }, ['body.body']],
      [{ title: '   ', body: 'b' }, ['body.title']],
      [{ title: 'x'.repeat(201), body: 'b' }, ['body.title']],
      [{ title: 't', body: 'y'.repeat(100_001) }, ['body.body']],
      [{ title: 't', body: 'b', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, ['body.tags']],
      [{ title: 't', body: 'b', tags: ['ok', 'z'.repeat(51)] }, ['body.tags.1']],
      [{ title: 't', body: 'b', tags: ['  '] }, ['body.tags.0']],
      [{ title: 't', body: 'b', tags: 'home' }, ['body.tags']],
      [{ title: 7, body: null }, ['body.body', 'body.title']],
      [null, ['body']],
    ];
    for (const [body, fields] of cases) {
      const response = await post(user, body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(await failingFields(response)).toEqual(fields);
    }
    expect(await countNotes(user.id)).toBe(0);
  });

  it('answers 401 without a valid access token', async () => {
    const response = await t.request('POST', '/notes', { body: { title: 't', body: 'b' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('is documented in /openapi.json with examples of the body and the note', async () => {
    const document = await readJson(await t.request('GET', '/openapi.json'));
    const operation = document.paths['/notes'].post;
    expect(operation.requestBody.content['application/json'].schema).toMatchObject({
      additionalProperties: false,
      required: ['title', 'body'],
      examples: [expect.objectContaining({ title: expect.any(String) })],
    });
    expect(operation.responses['201'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Note',
    });
    expect(document.components.schemas.Note.examples).toHaveLength(1);
    expect(Object.keys(operation.responses['201'].headers)).toEqual([
      'X-Request-Id',
      'Location',
      'Idempotent-Replayed',
    ]);
    expect(operation.parameters).toContainEqual(
      expect.objectContaining({ name: 'idempotency-key', in: 'header' }),
    );
    expect(Object.keys(operation.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '413', '415', '422', '500', '503']),
    );
  });

  describe('with an Idempotency-Key', () => {
    it('answers the same key and body with the first note, and creates no second one', async () => {
      const user = await signUp(t);
      const key = randomUUID();
      const body = { title: 'Once', body: 'only once', tags: ['a'] };
      const first = await post(user, body, key);
      const again = await post(user, body, key);
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(again.headers.get('location')).toBe(first.headers.get('location'));
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(await readJson(again)).toEqual(await readJson(first));
      expect(await countNotes(user.id)).toBe(1);
    });

    it('answers 422 to the same key with a different body', async () => {
      const user = await signUp(t);
      const key = randomUUID();
      expect((await post(user, { title: 'One', body: 'b' }, key)).status).toBe(201);
      const response = await post(user, { title: 'Two', body: 'b' }, key);
      expect(response.status).toBe(422);
      expect((await readJson(response)).code).toBe('unprocessable');
      expect(await countNotes(user.id)).toBe(1);
    });

    it('keeps keys per user: another user may use the same key', async () => {
      const [ada, bob] = [await signUp(t), await signUp(t)];
      const key = randomUUID();
      const body = { title: 'Same', body: 'same' };
      const first = await readJson(await post(ada, body, key));
      const response = await post(bob, body, key);
      expect(response.status).toBe(201);
      const second = await readJson(response);
      expect(second.id).not.toBe(first.id);
      expect([await countNotes(ada.id), await countNotes(bob.id)]).toEqual([1, 1]);
    });

    it('creates exactly one note for concurrent requests with the same key and body', async () => {
      const user = await signUp(t);
      const key = randomUUID();
      const body = { title: 'Raced', body: 'twice at once' };
      const responses = await Promise.all(Array.from({ length: 4 }, () => post(user, body, key)));
      expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201]);
      const notes = await Promise.all(responses.map(readJson));
      expect(new Set(notes.map((note) => note.id)).size).toBe(1);
      expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(3);
      expect(await countNotes(user.id)).toBe(1);
    });

    it('creates a new note for each request without a key', async () => {
      const user = await signUp(t);
      const body = { title: 'Twice', body: 'b' };
      const [a, b] = [await readJson(await post(user, body)), await readJson(await post(user, body))];
      expect(b.id).not.toBe(a.id);
      expect(await countNotes(user.id)).toBe(2);
    });

    it('answers 400 naming a malformed key', async () => {
      const user = await signUp(t);
      const response = await post(user, { title: 't', body: 'b' }, 'k'.repeat(256));
      expect(response.status).toBe(400);
      expect(await failingFields(response)).toEqual(['headers.idempotency-key']);
    });
  });
});

describe('POST /notes, within the account’s limits', () => {
  // Three notes of 2 kB each at most, so that the limits are reached in a few requests.
  let small: TestApp;
  beforeAll(async () => {
    small = await createTestApp({
      root: projectRoot,
      migrate: false,
      env: { NOTES_PER_USER_MAX: '3', NOTE_MAX_BYTES: '2048' },
    });
  });
  afterAll(() => small.close());

  const postTo = (user: SignedIn, body: unknown) =>
    small.request('POST', '/notes', { headers: user.headers, body });

  it('answers 413 note_too_large for a note over NOTE_MAX_BYTES as JSON, and stores nothing', async () => {
    const user = await signUp(small);
    expect((await postTo(user, { title: 't', body: 'x'.repeat(2_000) })).status).toBe(201);
    // 400 characters, 400 bytes stored, but JSON writes each as \u0001: 2,400 bytes.
    const response = await postTo(user, { title: 't', body: '\u0001'.repeat(400) });
    expect(response.status).toBe(413);
    const problem = await readJson(response);
    expect(problem).toMatchObject({ code: 'note_too_large', bytes: 2_407, maxBytes: 2_048 });
    expect(problem.detail).toContain('at most 2048');
    expect(await countNotes(user.id)).toBe(1);
  });

  it('answers 409 notes_limit_reached once the account holds NOTES_PER_USER_MAX notes, until one goes', async () => {
    const user = await signUp(small);
    const created = [];
    for (let i = 0; i < 3; i++)
      created.push(await readJson(await postTo(user, { title: `n${i}`, body: '' })));
    const refused = await postTo(user, { title: 'one too many', body: '' });
    expect(refused.status).toBe(409);
    const problem = await readJson(refused);
    expect(problem).toMatchObject({ code: 'notes_limit_reached', maxNotes: 3 });
    expect(problem.detail).toContain('Delete some');
    await small.request('DELETE', `/notes/${created[0]?.id}`, { headers: user.headers });
    expect((await postTo(user, { title: 'room again', body: '' })).status).toBe(201);
  });

  it('holds the limit for requests sent at once', async () => {
    const user = await signUp(small);
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => postTo(user, { title: `at once ${i}`, body: '' })),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 201, 201, 409, 409, 409]);
    expect(await countNotes(user.id)).toBe(3);
  });
});
