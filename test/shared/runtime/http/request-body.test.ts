import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { serve } from '@hono/node-server';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Route } from '#runtime/http/app.ts';
import { type AnyHandler, defineHandler } from '#runtime/http/handler.ts';
import { swaggerUiDir } from '../../../../build.mjs';
import { createTestRuntime } from '../../../support/app.ts';

// Through a real Node server: a body of known length is read from Node's own request, a chunked one through
// the Fetch request the limit left.
const echo = defineHandler({
  summary: 'Echoes a JSON body',
  body: v.object({ name: v.string() }),
  responses: { 200: v.object({ name: v.string() }) },
  handle: ({ body }) => body,
});
const routes: Route[] = [
  { method: 'POST', path: '/echo', file: 'echo.post.ts', definition: echo as AnyHandler },
];
const LIMIT = 1024;

let server: Server;
let base: string;
let logs: Record<string, unknown>[];
let close: () => Promise<void>;
beforeAll(async () => {
  const test = await createTestRuntime({ env: { BODY_LIMIT_BYTES: String(LIMIT) } });
  const app = createApp({ routes, runtime: test.runtime, openapi: {}, docsAssetsDir: swaggerUiDir() });
  logs = test.logs;
  server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () =>
      resolve(started as Server),
    );
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = async () => {
    await new Promise((resolve) => server.close(resolve));
    await test.runtime.close();
  };
});
afterAll(() => close());

const post = (body: RequestInit['body'], headers: Record<string, string> = {}) =>
  fetch(`${base}/echo`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
    duplex: 'half',
  } as RequestInit);

/** A body sent in pieces, without a Content-Length (fetch sends a stream chunked). */
const chunked = (text: string) =>
  new ReadableStream({
    start(controller) {
      for (let at = 0; at < text.length; at += 100)
        controller.enqueue(new TextEncoder().encode(text.slice(at, at + 100)));
      controller.close();
    },
  });

describe('a request body', () => {
  it('of a known length is read and validated', async () => {
    const response = await post(JSON.stringify({ name: 'Ada' }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: 'Ada' });
  });

  it('keeps its UTF-8 text whole, and loses a byte order mark as the Fetch API would', async () => {
    const name = `Zoë 😀 ${'é'.repeat(200)}`;
    const response = await post(`\uFEFF${JSON.stringify({ name })}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name });
  });

  it('sent chunked is read too, and refused with 413 once it passes the limit', async () => {
    const small = await post(chunked(JSON.stringify({ name: 'B'.repeat(300) })));
    expect(small.status).toBe(200);
    const big = await post(chunked(JSON.stringify({ name: 'B'.repeat(LIMIT * 2) })));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { code: string }).code).toBe('body_too_large');
  });

  it('whose client goes away before its Content-Length ends the request instead of leaving it waiting', async () => {
    const requestId = `gone-${Date.now()}`;
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\nx-request-id: ${requestId}\r\n\r\n{"name":`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    const deadline = Date.now() + 5_000;
    while (
      Date.now() < deadline &&
      !logs.some((line) => line.reqId === requestId && line.msg === 'request')
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(logs.find((line) => line.reqId === requestId && line.msg === 'request')).toEqual(
      expect.objectContaining({ status: 400, route: '/echo' }),
    );
  });
});
