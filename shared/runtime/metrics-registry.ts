import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** Where both processes serve their metrics, in Prometheus' text format, each on a port of its own. */
export const METRICS_PATH = '/metrics';

/**
 * A Prometheus registry of the process's own, never prom-client's global one, so that tests can build many
 * apps and workers in one process. It carries prom-client's process metrics (CPU, memory, event loop, GC).
 */
export function createMetricsRegistry(options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}

/** A running metrics server, and the port it was given (for port 0). */
export type MetricsServer = { port: number; close(): Promise<void> };

/**
 * Serves `registry` at GET /metrics. A port that cannot be bound (taken, or a bad host) is logged as a
 * warning and resolves undefined: the process does its work without metrics rather than not at all.
 */
export function serveMetrics(
  registry: Registry,
  address: { host: string; port: number },
  log: Logger,
): Promise<MetricsServer | undefined> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== METRICS_PATH) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('This port serves only GET /metrics.\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => {
        log.warn({ err: error }, 'metrics could not be collected');
        response.writeHead(500, { 'content-type': 'text/plain' }).end('Metrics could not be collected.\n');
      },
    );
  });
  return new Promise((resolve) => {
    server.on('error', (error) => {
      log.warn(
        { err: error, host: address.host, port: address.port },
        `metrics are not served (${error.message}); the process runs without them`,
      );
      resolve(undefined);
    });
    server.listen(address.port, address.host, () => {
      const { port } = server.address() as AddressInfo;
      log.info({ host: address.host, port }, 'metrics listening');
      const close = () =>
        new Promise<void>((done) => {
          server.close(() => done());
          // Prometheus keeps its connection open between scrapes.
          server.closeAllConnections();
        });
      resolve({ port, close });
    });
  });
}
