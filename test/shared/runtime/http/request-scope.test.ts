import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Route } from '#runtime/http/app.ts';
import { type AnyHandler, defineHandler } from '#runtime/http/handler.ts';
import { swaggerUiDir } from '../../../../build.mjs';
import { createTestRuntime } from '../../../support/app.ts';

const spreading = defineHandler({
  summary: 'Answers with what a rest parameter of ctx holds',
  params: v.object({ id: v.string() }),
  handle({ params, ...rest }) {
    const own = rest as Record<string, unknown>;
    return { id: params.id, keys: Object.keys(own).sort(), sqlIsThePool: typeof own.sql === 'function' };
  },
});
const form = defineHandler({
  summary: 'Echoes a form',
  bodyEncoding: 'form',
  body: v.object({ name: v.string(), tag: v.optional(v.array(v.string())) }),
  handle: ({ body }) => body,
});

const routes: Route[] = [
  { method: 'GET', path: '/spread/:id', file: 'spread/[id].get.ts', definition: spreading as AnyHandler },
  { method: 'POST', path: '/form', file: 'form.post.ts', definition: form as AnyHandler },
];

let app: ReturnType<typeof createApp>;
let close: () => Promise<void>;
beforeAll(async () => {
  const { runtime } = await createTestRuntime();
  app = createApp({ routes, runtime, openapi: {}, docsAssetsDir: swaggerUiDir() });
  close = () => runtime.close();
});
afterAll(() => close());

describe("a handler's ctx", () => {
  it('holds every service and request value as its own, so that a rest parameter keeps them', async () => {
    const response = await app.request('/spread/n1');
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { id: string; keys: string[]; sqlIsThePool: boolean };
    expect(answer.id).toBe('n1');
    expect(answer.keys).toEqual(
      expect.arrayContaining([
        'sql',
        'redis',
        'log',
        'enqueue',
        'settings',
        'requestId',
        'setHeader',
        'query',
      ]),
    );
    expect(answer.sqlIsThePool).toBe(true);
  });
});

describe("bodyEncoding: 'form'", () => {
  const post = (body: string, type: string) =>
    app.request('/form', { method: 'POST', body, headers: { 'content-type': type } });

  it('reads each field as a string and a repeated one as an array', async () => {
    const response = await post('name=Ada+L&tag=a&tag=b', 'application/x-www-form-urlencoded');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: 'Ada L', tag: ['a', 'b'] });
  });

  it('answers JSON with 415 naming the media type to send', async () => {
    const response = await post('{"name":"Ada"}', 'application/json');
    expect(response.status).toBe(415);
    expect(((await response.json()) as { detail: string }).detail).toBe(
      'Send the body form-encoded with Content-Type: application/x-www-form-urlencoded.',
    );
  });
});
