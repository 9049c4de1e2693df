import { Agent, get, type IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRoot } from '../../../support/app.ts';
import {
  type BuiltApp,
  type BundleProcess,
  installBuiltAppWithDatabase,
  runBundle,
  stopProcess,
} from '../../../support/processes.ts';
import { freePort } from '../../../support/services.ts';

const DRAIN_MS = 3_000;
// Started during the drain, it is still running well after the drain is over.
const SLOW_MS = DRAIN_MS + 3_000;

let app: BuiltApp;
let http: BundleProcess | undefined;
let port: number;

beforeAll(async () => {
  app = await installBuiltAppWithDatabase(fixtureRoot, 'drain');
  port = await freePort();
  const env = {
    ...app.env,
    AP_PORT: String(port),
    HTTP_METRICS_PORT: String(await freePort()),
    MIGRATE_ON_START: 'true',
    SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
    SHUTDOWN_TIMEOUT_MS: '15000',
    WORKER_HEARTBEAT_FILE: path.join(app.dir, 'heartbeat.json'),
  };
  http = runBundle(app.dir, 'http.mjs', [], env);
  await http.waitForLog((line) => line.msg === 'listening', 30_000);
}, 120_000);
afterAll(async () => {
  await stopProcess(http);
  await app?.cleanup();
});

type Answer = { status: number; headers: IncomingHttpHeaders; body: string };

/** One GET; `agent: false` opens a connection of its own, an Agent with keepAlive reuses one. */
function request(url: string, agent: Agent | false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    get(`http://127.0.0.1:${port}${url}`, { agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    }).on('error', reject);
  });
}

describe('on SIGTERM, the HTTP process drains before it stops', () => {
  it('fails readiness on new connections, still serves, closes kept-alive ones, then refuses', async () => {
    const running = http as BundleProcess;
    const keptAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await request('/healthz', keptAlive);
    expect(first.headers.connection).toBe('keep-alive');
    expect((await request('/readyz', false)).status).toBe(200);

    running.child.kill('SIGTERM');
    await running.waitForLog((line) => line.msg === 'draining: readiness fails, requests are still served');

    const ready = await request('/readyz', false);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ checks: { process: 'shutting down' } });
    const served = await request('/healthz', false);
    expect(served.status).toBe(200);
    expect(served.headers.connection).toBe('close');
    // The connection kept alive from before is told to close, so that its client reconnects elsewhere.
    const again = await request('/healthz', keptAlive);
    expect(again.status).toBe(200);
    expect(again.headers.connection).toBe('close');
    const slow = request(`/slow?ms=${SLOW_MS}`, false);
    await running.waitForLog((line) => line.msg === 'slow request started');

    await running.waitForLog((line) => String(line.msg).startsWith('drain over'), DRAIN_MS + 15_000);
    await expect(request('/healthz', false)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(running.child.exitCode).toBeNull();
    const finished = await slow;
    expect(finished.status).toBe(200);
    expect(JSON.parse(finished.body)).toEqual({ waitedMs: SLOW_MS });
    expect(await running.exited).toEqual({ code: 0, signal: null });
    keptAlive.destroy();
  });
});
