import { collectDefaultMetrics, Registry } from 'prom-client';

/** Where both processes serve their metrics, in Prometheus' text format. */
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
