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
