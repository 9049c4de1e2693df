import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Route } from '#runtime/http/app.ts';
import { type AnyHandler, defineHandler } from '#runtime/http/handler.ts';
import { swaggerUiDir } from '../../../../build.mjs';
import { createTestRuntime } from '../../../support/app.ts';

const plain = defineHandler({
  summary: 'Answers at once',
  responses: { 200: v.object({ ok: v.boolean() }) },
  handle: () => ({ ok: true }),
});
const waiting = defineHandler({
  summary: 'Answers after a turn',
  responses: { 200: v.object({ ok: v.boolean() }) },
  handle: async () => ({ ok: true }),
});
const own = defineHandler({
  summary: 'Answers with a Response of its own',
  responses: { 200: v.string() },
  handle: () => new Response('plain text', { headers: { 'content-type': 'text/plain' } }),
});

const routes: Route[] = [
  { method: 'GET', path: '/plain', file: 'plain.get.ts', definition: plain as AnyHandler },
  { method: 'GET', path: '/waiting', file: 'waiting.get.ts', definition: waiting as AnyHandler },
  { method: 'GET', path: '/own', file: 'own.get.ts', definition: own as AnyHandler },
];

let app: ReturnType<typeof createApp>;
let logs: Record<string, unknown>[];
let close: () => Promise<void>;
beforeAll(async () => {
  const test = await createTestRuntime();
  app = createApp({ routes, runtime: test.runtime, openapi: {}, docsAssetsDir: swaggerUiDir() });
  logs = test.logs;
  close = () => test.runtime.close();
});
afterAll(() => close());

const requestLines = (requestId: string) =>
  logs.filter((line) => line.msg === 'request' && line.reqId === requestId);

describe('the request envelope', () => {
  it('answers a route that waits for nothing synchronously, with every runtime header', () => {
    const answer = app.fetch(new Request('http://api.test/plain', { headers: { 'x-request-id': 'sync-1' } }));
    // A Response, not a promise: the Node adapter writes it at once.
    expect(answer).toBeInstanceOf(Response);
    const response = answer as Response;
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('sync-1');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(requestLines('sync-1')).toEqual([
      expect.objectContaining({ route: '/plain', status: 200, method: 'GET', path: '/plain' }),
    ]);
  });

  it('answers a handler that waits through a promise, with the same headers and line', async () => {
    const answer = app.fetch(
      new Request('http://api.test/waiting', { headers: { 'x-request-id': 'async-1' } }),
    );
    expect(answer).toBeInstanceOf(Promise);
    const response = await answer;
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('async-1');
    expect(requestLines('async-1')).toEqual([expect.objectContaining({ route: '/waiting', status: 200 })]);
  });

  it("adds the runtime's headers to a handler's own Response", async () => {
    const response = await app.request('/own', { headers: { 'x-request-id': 'own-1' } });
    expect(await response.text()).toBe('plain text');
    expect(response.headers.get('x-request-id')).toBe('own-1');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('writes one line for a request a docs route passes on to the 404', async () => {
    const response = await app.request('/docs/no-such-file', { headers: { 'x-request-id': 'nested-1' } });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(((await response.json()) as { requestId: string }).requestId).toBe('nested-1');
    expect(requestLines('nested-1')).toEqual([expect.objectContaining({ status: 404 })]);
  });

  it('refuses a body whose Content-Length is over the limit before any of it is read', async () => {
    const response = await app.request('/plain', {
      method: 'POST',
      headers: { 'x-request-id': 'big-1', 'content-type': 'application/json' },
      body: 'x'.repeat(2 * 1024 * 1024),
    });
    expect(response.status).toBe(413);
    expect(requestLines('big-1')).toEqual([expect.objectContaining({ status: 413 })]);
  });

  it('makes up a request id for a missing or insane one', async () => {
    const response = await app.request('/plain', { headers: { 'x-request-id': 'no spaces <allowed>' } });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
