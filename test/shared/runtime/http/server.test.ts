import type { Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenHttp } from '#runtime/http/server.ts';
import { captureLog, createTestApp, type TestApp } from '../../../support/app.ts';

let t: TestApp;
let server: Server;
let port: number;
const limits = { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, keepAliveTimeoutMs: 500 };

beforeAll(async () => {
  t = await createTestApp({ migrate: false });
  server = await listenHttp(t.app.fetch, { ...t.config.http, ...limits, port: 0 }, captureLog().log);
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await t.close();
});

/** A raw connection, with what the server sent and when it hung up. */
function open(): { socket: Socket; received: () => string; closed: Promise<number> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk) => {
    text += chunk;
  });
  const started = performance.now();
  const closed = new Promise<number>((resolve) =>
    socket.on('close', () => resolve(performance.now() - started)),
  );
  return { socket, received: () => text, closed };
}

describe('listenHttp', () => {
  it('cuts off a client that sends its headers a line at a time, with 408', async () => {
    const { socket, received, closed } = open();
    socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n');
    const drip = setInterval(() => socket.write('X-Slow: yes\r\n'), 200);
    try {
      // Cut off near the 1 s limit (Node looks every second), not at its 60 s default.
      expect(await closed).toBeLessThan(5_000);
    } finally {
      clearInterval(drip);
    }
    expect(received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a keep-alive connection that stays idle', async () => {
    const { socket, received, closed } = open();
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    // Near the 0.5 s limit, well before Node's 5 s default.
    expect(await closed).toBeLessThan(3_000);
    expect(received()).toMatch(/^HTTP\/1\.1 200/);
  });

  it('rejects, naming the address, when the port is taken', async () => {
    await expect(
      listenHttp(t.app.fetch, { ...t.config.http, host: '127.0.0.1', port }, captureLog().log),
    ).rejects.toThrow(
      /127\.0\.0\.1:\d+ is in use \(AP_HOST, AP_PORT\): stop what listens there or set AP_PORT/,
    );
  });
});

describe('answers written through Node’s own response', () => {
  const base = () => `http://127.0.0.1:${port}`;

  it('carry the request id and nosniff, on a 200, a 404 and a 500 alike', async () => {
    for (const [route, status] of [
      ['/', 200],
      ['/no-such-route', 404],
      ['/boom', 500],
    ] as const) {
      const requestId = `node-path-${status}`;
      const response = await fetch(`${base()}${route}`, { headers: { 'x-request-id': requestId } });
      expect(response.status).toBe(status);
      expect(response.headers.get('x-request-id')).toBe(requestId);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      if (status !== 200)
        expect(((await response.json()) as { requestId: string }).requestId).toBe(requestId);
    }
  });

  it('log one request line with the request id, and the handler’s own lines under it', async () => {
    const response = await fetch(`${base()}/boom`);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const lines = t.logs.filter((line) => line.reqId === requestId);
    expect(lines.map((line) => line.msg).sort()).toEqual(['request', 'unhandled error']);
    expect(lines.find((line) => line.msg === 'request')).toMatchObject({
      method: 'GET',
      path: '/boom',
      route: '/boom',
      status: 500,
    });
  });

  it('refuse a body past the limit with 413, whether its length is declared or it comes chunked', async () => {
    const big = 'x'.repeat(t.config.http.bodyLimitBytes + 1);
    const declared = await fetch(`${base()}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: big, qty: 1 }),
    });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { code: string }).code).toBe('body_too_large');
    const chunks = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ name: big, qty: 1 })));
        controller.close();
      },
    });
    const chunked = await fetch(`${base()}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    // Within the limit, the body reaches the handler's validation (here it fails it: the name is too long).
    const small = await fetch(`${base()}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'y'.repeat(51), qty: 1 }),
    });
    expect(small.status).toBe(400);
  });
});
