import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const problem = async (response: Response) => {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as Record<string, unknown> & {
    errors?: { field: string; message: string }[];
  };
};

describe('handlers from files', () => {
  it('serves index.get.ts at its folder path', async () => {
    const response = await t.request('GET', '/');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ app: 'fixture' });
  });

  it('sends the definition status with headers the handler set, and enqueues with a typed payload', async () => {
    const response = await t.request('POST', '/items', { body: { name: `thing-${Date.now()}`, qty: 3 } });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { id: string; jobId: string };
    expect(response.headers.get('location')).toBe(`/items/${body.id}`);
    const job = await t.queues.producer('record-item').getJob(body.jobId);
    expect(job.data.payload).toEqual({ itemId: body.id, kind: 'created' });
    expect(job.data.requestId).toBe(response.headers.get('x-request-id'));
  });

  it('reads path params and query through their schemas', async () => {
    const created = await (
      await t.request('POST', '/items', { body: { name: `p-${Date.now()}`, qty: 1 } })
    ).json();
    const response = await t.request('GET', `/items/${(created as { id: string }).id}?events=no`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ qty: 1 });
  });
});

describe('errors are problem+json with a request id', () => {
  it('names every failing field of params, query and body at once', async () => {
    const response = await t.request('POST', '/items', { body: { name: '', qty: 1.5, extra: true } });
    expect(response.status).toBe(400);
    const body = await problem(response);
    const fields = body.errors?.map((error) => error.field).sort();
    expect(fields).toEqual(['body.extra', 'body.name', 'body.qty']);
    expect(body.requestId).toBe(response.headers.get('x-request-id'));
  });

  it('rejects a malformed path param and a bad query value together', async () => {
    const body = await problem(await t.request('GET', '/items/not-a-uuid?events=maybe'));
    expect(body.status).toBe(400);
    expect(body.errors?.map((error) => error.field).sort()).toEqual(['params.id', 'query.events']);
  });

  it('answers 404 for an unknown route', async () => {
    const response = await t.request('GET', '/no/such/route');
    expect(response.status).toBe(404);
    expect((await problem(response)).detail).toContain('/no/such/route');
  });

  it('answers 400 for malformed JSON', async () => {
    const response = await t.request('POST', '/items', {
      body: '{"name": "x", ',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect((await problem(response)).code).toBe('malformed_json');
  });

  it('answers 415 for a body that is not JSON', async () => {
    const response = await t.request('POST', '/items', {
      body: 'name=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.status).toBe(415);
  });

  it('answers 413 for a body over the limit', async () => {
    const big = { name: 'x'.repeat(1024 * 1024), qty: 1 };
    const response = await t.request('POST', '/items', { body: big });
    expect(response.status).toBe(413);
    expect((await problem(response)).code).toBe('body_too_large');
  });

  it('hides the cause of an unexpected error and logs it against the request id', async () => {
    const response = await t.request('GET', '/boom');
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain('hunter2');
    const requestId = response.headers.get('x-request-id');
    expect(JSON.parse(text).requestId).toBe(requestId);
    const logged = t.logs.find((line) => line.reqId === requestId && line.msg === 'unhandled error');
    expect(JSON.stringify(logged)).toContain('hunter2');
  });

  it('answers 401 when the auth hook refuses, and passes its user on when it accepts', async () => {
    expect((await t.request('GET', '/whoami')).status).toBe(401);
    const response = await t.request('GET', '/whoami', {
      headers: { authorization: 'Bearer let-me-in', 'x-tenant': 'acme' },
    });
    expect(await response.json()).toEqual({ sub: 'tester', tenant: 'acme' });
  });
});

describe('health', () => {
  it('is ready while both stores answer', async () => {
    const response = await t.request('GET', '/readyz');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ checks: { postgres: 'ok', redis: 'ok', process: 'ok' } });
  });

  it('is not ready, naming what is down, when a store does not answer', async () => {
    const down = await createTestApp({ env: { RD_PORT: '1', PG_PORT: '1' }, migrate: false });
    try {
      const response = await down.request('GET', '/readyz');
      expect(response.status).toBe(503);
      const body = await problem(response);
      expect(body.detail).toMatch(/postgres down.*redis down/);
      expect((await down.request('GET', '/healthz')).status).toBe(200);
      // Why is for the operator's log, not for the caller: store errors name hosts and ports.
      expect(body.checks).toEqual({ postgres: 'down', redis: 'down', process: 'ok' });
      expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|:1\b/);
      expect(down.logs.find((line) => line.msg === 'not ready')).toMatchObject({
        postgres: expect.stringMatching(/^down \(/),
      });
    } finally {
      await down.close();
    }
  });

  it('fails readiness and stops keeping connections alive once shutdown begins', async () => {
    const stopping = await createTestApp();
    try {
      stopping.beginShutdown();
      const response = await stopping.request('GET', '/readyz');
      expect(response.status).toBe(503);
      expect((await problem(response)).detail).toContain('shutting down');
      expect((await stopping.request('GET', '/healthz')).headers.get('connection')).toBe('close');
    } finally {
      await stopping.close();
    }
  });
});

describe('API documentation', () => {
  it('serves the OpenAPI 3.1 document made from the handlers', async () => {
    const response = await t.request('GET', '/openapi.json');
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/items', '/items/{id}', '/whoami']));
    expect(doc.paths['/items']?.post).toMatchObject({
      summary: 'Creates an item and records it in the background',
    });
  });

  it('serves a docs page that loads nothing from another origin', async () => {
    const response = await t.request('GET', '/docs');
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('/docs/swagger-ui-bundle.js');
    expect(html).not.toMatch(/https?:\/\//);
  });
});

describe('a database that cannot be reached', () => {
  it('answers 503 with Retry-After, not 500', async () => {
    const offline = await createTestApp({ env: { PG_PORT: '1' }, migrate: false });
    try {
      const response = await offline.request('GET', '/items/00000000-0000-4000-8000-000000000000');
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('2');
      expect((await problem(response)).code).toBe('unavailable');
    } finally {
      await offline.close();
    }
  });
});
