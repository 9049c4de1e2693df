import type { Registry } from 'prom-client';
import { createMetricsRegistry } from '../metrics-registry.ts';
import { HTTP_METHODS } from './methods.mjs';

/** The route label of a request no route matched: raw paths would make a series per scanned URL. */
export const UNMATCHED_ROUTE = 'unmatched';

const REQUESTS = {
  name: 'http_requests_total',
  help: 'HTTP requests answered, by method, route pattern and status.',
};
const DURATION = {
  name: 'http_request_duration_seconds',
  help: 'Time from a request arriving to its response being ready, by method and route pattern.',
};
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const METHODS = new Set(HTTP_METHODS.map((method) => method.toUpperCase()));

/** Records one answered request of a route: its method, status and seconds from its arrival. */
export type RouteRecorder = (method: string, status: number, seconds: number) => void;

/** The counts of one method of one route: answers by status, and the histogram of their times. */
type MethodSeries = { statuses: Map<number, number>; buckets: number[]; count: number; sum: number };

/** A value as prom-client's registry formats it. */
type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

/**
 * Counts requests by method, route pattern (`/notes/:id`, never the raw path) and status, and times them.
 * The scrapes are not among them: they go to the metrics port (see serveMetrics).
 *
 * The counts are kept here and handed to prom-client's registry only when it is scraped: prom-client hashes
 * and checks the labels of every observation, which cost more than the rest of a small request's metrics. Each
 * route gets its recorder once (`route`), so recording is a map read and a few additions. The series are
 * bounded by the routes, the methods (others count as OTHER) and the statuses.
 */
export function createHttpMetrics(registry: Registry = createMetricsRegistry()) {
  const routes = new Map<string, Map<string, MethodSeries>>();
  const recorderOf = (route: string): RouteRecorder => {
    let methods = routes.get(route);
    if (!methods) {
      methods = new Map();
      routes.set(route, methods);
    }
    const byMethod = methods;
    return (method, status, seconds) => {
      const label = METHODS.has(method) ? method : 'OTHER';
      let series = byMethod.get(label);
      if (!series) {
        series = { statuses: new Map(), buckets: BUCKETS.map(() => 0), count: 0, sum: 0 };
        byMethod.set(label, series);
      }
      series.statuses.set(status, (series.statuses.get(status) ?? 0) + 1);
      series.count++;
      series.sum += seconds;
      // Each bucket counts its own range here; the scrape adds them up into Prometheus' cumulative buckets.
      const bucket = BUCKETS.findIndex((bound) => seconds <= bound);
      if (bucket >= 0) (series.buckets[bucket] as number)++;
    };
  };

  // prom-client's registry.resetMetrics() resets every metric: both of these forget every series.
  const reset = () => {
    for (const methods of routes.values()) methods.clear();
  };
  const each = (visit: (method: string, route: string, series: MethodSeries) => void) => {
    for (const [route, methods] of routes)
      for (const [method, series] of methods) visit(method, route, series);
  };
  registry.registerMetric(
    scrapedMetric(
      REQUESTS,
      'counter',
      () => {
        const values: Sample[] = [];
        each((method, route, series) => {
          for (const [status, count] of series.statuses) {
            values.push({ labels: { method, route, status: String(status) }, value: count });
          }
        });
        return values;
      },
      reset,
    ),
  );
  registry.registerMetric(
    scrapedMetric(
      DURATION,
      'histogram',
      () => {
        const values: Sample[] = [];
        const bucketName = `${DURATION.name}_bucket`;
        each((method, route, series) => {
          let below = 0;
          BUCKETS.forEach((bound, index) => {
            below += series.buckets[index] as number;
            values.push({ labels: { method, route, le: bound }, value: below, metricName: bucketName });
          });
          values.push(
            { labels: { method, route, le: '+Inf' }, value: series.count, metricName: bucketName },
            { labels: { method, route }, value: series.sum, metricName: `${DURATION.name}_sum` },
            { labels: { method, route }, value: series.count, metricName: `${DURATION.name}_count` },
          );
        });
        return values;
      },
      reset,
    ),
  );

  return {
    registry,
    /** The recorder of one route pattern (or UNMATCHED_ROUTE), made once per route rather than per request. */
    route: recorderOf,
  };
}

export type HttpMetrics = ReturnType<typeof createHttpMetrics>;

/**
 * A metric whose values are read when the registry is scraped, in the shape prom-client's own metrics give it
 * (`get`), so that the registry formats it as it formats theirs.
 */
function scrapedMetric(
  meta: { name: string; help: string },
  type: string,
  values: () => Sample[],
  reset: () => void,
) {
  return {
    ...meta,
    type,
    aggregator: 'sum',
    get: async () => ({ ...meta, type, aggregator: 'sum', values: values() }),
    reset,
  } as unknown as Parameters<Registry['registerMetric']>[0];
}
