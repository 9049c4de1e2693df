import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRoot } from '../support/app.ts';
import {
  type BuiltApp,
  type BundleProcess,
  createScratchDatabase,
  installBuiltAppWithDatabase,
  runBundle,
  stopProcess,
} from '../support/processes.ts';
import { freePort } from '../support/services.ts';

let app: BuiltApp;
let env: Record<string, string>;
let base: string;
let workerMetrics: string;
let apiMetrics: string;
let http: BundleProcess | undefined;
let worker: BundleProcess | undefined;

const poll = async <T>(read: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
};

beforeAll(async () => {
  app = await installBuiltAppWithDatabase(fixtureRoot, 'e2e');
  const port = await freePort();
  const metricsPort = await freePort();
  const apiMetricsPort = await freePort();
  env = {
    ...app.env,
    AP_HOST: '127.0.0.1',
    AP_PORT: String(port),
    MIGRATE_ON_START: 'false',
    SHUTDOWN_TIMEOUT_MS: '5000',
    WORKER_HEARTBEAT_FILE: path.join(app.dir, 'heartbeat.json'),
    WORKER_METRICS_PORT: String(metricsPort),
    HTTP_METRICS_PORT: String(apiMetricsPort),
  };
  base = `http://127.0.0.1:${port}`;
  workerMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
  apiMetrics = `http://127.0.0.1:${apiMetricsPort}/metrics`;
}, 120_000);

afterAll(async () => {
  await stopProcess(http);
  await stopProcess(worker);
  await app?.cleanup();
});

describe('the built bundles, run as processes from a folder without node_modules', () => {
  it('`http.mjs migrate` applies the migrations and exits 0', async () => {
    const migrate = runBundle(app.dir, 'http.mjs', ['migrate'], env);
    expect(await migrate.exited).toEqual({ code: 0, signal: null });
    expect(migrate.logs().some((line) => line.migration === '0001_fixture-items.sql')).toBe(true);
  });

  it('serves /healthz and /readyz once listening', async () => {
    http = runBundle(app.dir, 'http.mjs', [], env);
    await http.waitForLog((line) => line.msg === 'listening');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { postgres: 'ok', redis: 'ok' } });
    const health = runBundle(app.dir, 'http.mjs', ['health'], env);
    expect((await health.exited).code).toBe(0);
    expect(health.output()).toContain('healthy');
  });

  it('runs an enqueued job in the worker and reports healthy', async () => {
    worker = runBundle(app.dir, 'worker.mjs', [], env);
    await worker.waitForLog((line) => line.msg === 'worker started');
    const created = await fetch(`${base}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer top-secret-token' },
      body: JSON.stringify({ name: 'body-secret-marker', qty: 7 }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const events = await poll(async () => {
      const item = (await (await fetch(`${base}/items/${id}`)).json()) as { events: unknown[] };
      return item.events.length > 0 ? item.events : undefined;
    });
    expect(events).toEqual([{ kind: 'created', attempts: 1 }]);

    // The job's line comes after its run has written the row: wait for it rather than read the log once.
    const job = await worker.waitForLog(
      (line) => line.task === 'record-item' && line.outcome === 'succeeded',
    );
    expect(job).toMatchObject({ attempt: 1 });
    expect(job?.jobId).toBeDefined();
    const health = runBundle(app.dir, 'worker.mjs', ['health'], env);
    expect((await health.exited).code).toBe(0);
  });

  it('logs method, path, status and duration, but never the authorization header or the body', () => {
    const line = http?.logs().find((entry) => entry.method === 'POST' && entry.path === '/items');
    expect(line).toMatchObject({ status: 201, route: '/items' });
    expect(typeof line?.durationMs).toBe('number');
    expect(typeof line?.reqId).toBe('string');
    expect(http?.output()).not.toContain('top-secret-token');
    expect(http?.output()).not.toContain('body-secret-marker');
  });

  it('serves Prometheus metrics on ports of their own, the API’s and the worker’s, never on the API', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    const api = await fetch(apiMetrics);
    expect(api.headers.get('content-type')).toMatch(/^text\/plain/);
    const apiText = await api.text();
    expect(apiText).toContain('http_requests_total{method="POST",route="/items",status="201"} 1');
    expect(apiText).toContain('process_resident_memory_bytes');
    const workerText = await (await fetch(workerMetrics)).text();
    expect(workerText).toContain('jobs_total{task="record-item",outcome="succeeded"} 1');
    expect(workerText).toMatch(/^queue_jobs\{task="record-item",state="waiting"\} 0$/m);
  });

  it('on SIGTERM fails readiness, finishes the request in flight, refuses new ones and exits 0', async () => {
    const running = http as BundleProcess;
    const inFlight = fetch(`${base}/slow?ms=1500`);
    await running.waitForLog((line) => line.msg === 'slow request started');
    running.child.kill('SIGTERM');
    await running.waitForLog((line) => line.msg === 'shutting down');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ waitedMs: 1500 });
    expect(await running.exited).toEqual({ code: 0, signal: null });
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    const health = runBundle(app.dir, 'http.mjs', ['health'], env);
    expect((await health.exited).code).toBe(1);
    expect(health.output()).toContain('did not answer');
  });

  it('stops the worker on SIGTERM with exit 0', async () => {
    const running = worker as BundleProcess;
    running.child.kill('SIGTERM');
    expect(await running.exited).toEqual({ code: 0, signal: null });
    expect(running.logs().some((line) => line.msg === 'shutdown complete')).toBe(true);
  });

  it('the worker health check fails once the worker has stopped beating', async () => {
    const health = runBundle(app.dir, 'worker.mjs', ['health'], {
      ...env,
      WORKER_HEARTBEAT_FILE: path.join(app.dir, 'none'),
    });
    expect((await health.exited).code).toBe(1);
    expect(health.output()).toContain('no heartbeat');
  });
});

describe('migrations at start', () => {
  it('the HTTP process applies pending migrations before listening unless MIGRATE_ON_START=false', async () => {
    const fresh = await createScratchDatabase();
    const port = String(await freePort());
    const started: BundleProcess[] = [];
    try {
      const skip = runBundle(app.dir, 'http.mjs', [], { ...env, POSTGRES_DB: fresh.name, AP_PORT: port });
      started.push(skip);
      await skip.waitForLog((line) => line.msg === 'listening');
      expect(skip.logs().some((line) => line.msg === 'migrations up to date')).toBe(false);
      skip.child.kill('SIGTERM');
      await skip.exited;

      const migrating = runBundle(app.dir, 'http.mjs', [], {
        ...env,
        POSTGRES_DB: fresh.name,
        AP_PORT: port,
        MIGRATE_ON_START: 'true',
      });
      started.push(migrating);
      await migrating.waitForLog((line) => line.msg === 'listening');
      const logs = migrating.logs();
      const applied = logs.findIndex((line) => line.migration === '0001_fixture-items.sql');
      expect(applied).toBeGreaterThanOrEqual(0);
      expect(applied).toBeLessThan(logs.findIndex((line) => line.msg === 'listening'));
    } finally {
      for (const running of started) await stopProcess(running);
      await fresh.drop();
    }
  });
});
