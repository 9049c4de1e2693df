import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputShapeProblems } from '#runtime/http/input-shape.ts';
import { createTestApp, type TestApp } from '../../../support/app.ts';

const limits = { maxDepth: 4, maxArrayItems: 5, maxValues: 50 };
const auth = { authorization: 'Bearer let-me-in' };

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('inputShapeProblems', () => {
  it('passes an input within the limits', () => {
    expect(
      inputShapeProblems('body', { tags: ['a', 'b'], nested: { deep: [1, { x: 'y' }] } }, limits),
    ).toEqual([]);
  });

  it('refuses an array past the limit without reading its items', () => {
    const huge = new Array(1_000_000);
    expect(inputShapeProblems('body', { tags: huge }, limits)).toEqual([
      { field: 'body.tags', message: 'holds 1000000 items; no input may hold more than 5' },
    ]);
  });

  it('refuses nesting past the limit, too many values, and NUL in strings and keys', () => {
    expect(inputShapeProblems('body', { a: { b: { c: { d: { e: 1 } } } } }, limits)).toEqual([
      { field: 'body.a.b.c.d', message: 'is nested more than 4 levels deep' },
    ]);
    const wide = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i]));
    expect(inputShapeProblems('query', wide, limits)).toEqual([
      { field: 'query', message: 'holds more than 50 values; send less' },
    ]);
    expect(inputShapeProblems('body', { title: 'a\u0000b', tags: ['ok', '\u0000'] }, limits)).toEqual([
      { field: 'body.title', message: 'must not contain NUL (\\u0000)' },
      { field: 'body.tags.1', message: 'must not contain NUL (\\u0000)' },
    ]);
    expect(inputShapeProblems('body', { 'a\u0000': 1 }, limits)).toEqual([
      { field: 'body', message: 'has a key that contains NUL (\\u0000)' },
    ]);
  });
});

describe('hostile input to a route', () => {
  it('answers a stranger 401 before it reads the body, however bad the body', async () => {
    const response = await t.request('POST', '/tags', { body: '{"tags": [0, 0, ' });
    expect(response.status).toBe(401);
  });

  it('answers 330,000 array items at once with a small 400 naming the field', async () => {
    const body = `{"tags":[${new Array(330_000).fill('0').join(',')}]}`;
    const started = performance.now();
    const response = await t.request('POST', '/tags', {
      body,
      headers: { ...auth, 'content-type': 'application/json' },
    });
    const elapsed = performance.now() - started;
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text.length).toBeLessThan(16 * 1024);
    expect(JSON.parse(text).errors).toEqual([
      { field: 'body.tags', message: 'holds 330000 items; no input may hold more than 1000' },
    ]);
    // Not a timing assertion on speed: a bound far above the cost, far below the 1.2 s of the unbounded check.
    expect(elapsed).toBeLessThan(1_000);
  });

  it('lists at most 20 field errors, with the count of all of them', async () => {
    const tags = Array.from({ length: 900 }, () => 7);
    const response = await t.request('POST', '/tags', { body: { tags }, headers: auth });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text.length).toBeLessThan(16 * 1024);
    const problem = JSON.parse(text) as { errors: unknown[]; errorCount: number; detail: string };
    expect(problem.errors).toHaveLength(20);
    expect(problem.errorCount).toBeGreaterThanOrEqual(900);
    expect(problem.detail).toMatch(/and \d+ more/);
  });

  it('answers a NUL character with a 400 naming the field, in the body and the query', async () => {
    const body = await t.request('POST', '/tags', { body: { tags: ['a\u0000b'] }, headers: auth });
    expect(body.status).toBe(400);
    expect(((await body.json()) as { errors: unknown[] }).errors).toEqual([
      { field: 'body.tags.0', message: 'must not contain NUL (\\u0000)' },
    ]);
    const created = (await (
      await t.request('POST', '/items', { body: { name: `nul-${Date.now()}`, qty: 1 } })
    ).json()) as { id: string };
    const query = await t.request('GET', `/items/${created.id}?events=a%00b`);
    expect(query.status).toBe(400);
    expect(((await query.json()) as { errors: unknown[] }).errors).toEqual([
      { field: 'query.events', message: 'must not contain NUL (\\u0000)' },
    ]);
  });

  it('marks every answer nosniff, errors included', async () => {
    for (const [method, url] of [
      ['GET', '/'],
      ['GET', '/nowhere'],
      ['POST', '/tags'],
    ] as const) {
      const response = await t.request(method, url);
      expect(response.headers.get('x-content-type-options'), `${method} ${url}`).toBe('nosniff');
    }
  });
});
