import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpMetrics } from '#runtime/http/metrics.ts';
import { createMetricsRegistry, type MetricsServer, serveMetrics } from '#runtime/metrics-registry.ts';
import { captureLog, createTestApp, type TestApp } from '../../../support/app.ts';
import { parseMetrics, sampleValue } from '../../../support/metrics.ts';

let t: TestApp;
let itemId: string;
let text: string;
let apiMetrics: Response;
let server: MetricsServer | undefined;
const missing = randomUUID();

// The test app is this file's own, so its registry holds exactly the requests made here.
beforeAll(async () => {
  t = await createTestApp({ env: { RD_PREFIX: `mt${randomUUID().slice(0, 8)}` } });
  const created = await t.request('POST', '/items', { body: { name: `m-${randomUUID()}`, qty: 1 } });
  itemId = ((await created.json()) as { id: string }).id;
  await t.request('GET', `/items/${itemId}`);
  await t.request('GET', `/items/${itemId}?events=no`);
  await t.request('GET', `/items/${missing}`);
  await t.request('GET', `/no-such-route/${missing}`);
  await t.request('DELETE', `/items/${itemId}`);
  await t.request('GET', '/boom');
  await t.request('POST', '/items', { body: 'x'.repeat(t.config.http.bodyLimitBytes + 1) });
  apiMetrics = await t.request('GET', '/metrics');
  // Served as the HTTP main serves them: on a port of their own.
  server = (await serveMetrics(
    t.metrics.registry,
    { host: '127.0.0.1', port: 0 },
    captureLog().log,
  )) as MetricsServer;
  await fetch(`http://127.0.0.1:${server.port}/metrics`);
  const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  text = await response.text();
});
afterAll(async () => {
  await server?.close();
  await t.close();
});

const requests = (method: string, route: string, status: string) =>
  sampleValue(text, 'http_requests_total', { method, route, status });

describe('the HTTP metrics', () => {
  it('counts requests by method, route pattern and status', () => {
    expect(requests('GET', '/items/:id', '200')).toBe(2);
    expect(requests('GET', '/items/:id', '404')).toBe(1);
    expect(requests('POST', '/items', '201')).toBe(1);
    expect(requests('GET', '/boom', '500')).toBe(1);
  });

  it('labels a request no route matched as unmatched, never with its raw path', () => {
    // The route no request matched, and the API's /metrics, which is not a route.
    expect(requests('GET', 'unmatched', '404')).toBe(2);
    // A known path with another method is a 405 now, still labelled unmatched: no route answered it.
    expect(requests('DELETE', 'unmatched', '405')).toBe(1);
    expect(text).not.toContain(missing);
    expect(text).not.toContain(itemId);
  });

  it('labels a request a middleware refused with the route it matched', () => {
    expect(requests('POST', '/items', '413')).toBe(1);
  });

  it('are not served on the API port, and their scrapes are not counted', async () => {
    expect(apiMetrics.status).toBe(404);
    expect(await apiMetrics.text()).not.toContain('http_requests_total');
    expect(parseMetrics(text).filter((sample) => sample.labels.route === '/metrics')).toEqual([]);
    expect(requests('GET', 'unmatched', '404')).toBe(2);
  });

  it('times requests in a histogram by method and route pattern', () => {
    const labels = { method: 'GET', route: '/items/:id' };
    expect(sampleValue(text, 'http_request_duration_seconds_count', labels)).toBe(3);
    expect(sampleValue(text, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(3);
    expect(sampleValue(text, 'http_request_duration_seconds_bucket', { ...labels, le: '0.005' })).toEqual(
      expect.any(Number),
    );
    expect(sampleValue(text, 'http_request_duration_seconds_sum', labels)).toBeGreaterThan(0);
  });

  it("carries prom-client's process metrics", () => {
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(sampleValue(text, name), name).toBeGreaterThan(0);
    }
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
  });

  it('is not in the OpenAPI document', async () => {
    const document = (await (await t.request('GET', '/openapi.json')).json()) as { paths: object };
    expect(Object.keys(document.paths)).not.toContain('/metrics');
  });
});

describe('createHttpMetrics', () => {
  it('gives each app a registry of its own, so that one process can hold several', async () => {
    const [first, second] = [
      createHttpMetrics(),
      createHttpMetrics(createMetricsRegistry({ processMetrics: false })),
    ];
    expect(first.registry).not.toBe(second.registry);
    expect(await second.registry.metrics()).not.toContain('process_cpu_user_seconds_total');
    expect(await first.registry.metrics()).toContain('process_cpu_user_seconds_total');
  });
});
