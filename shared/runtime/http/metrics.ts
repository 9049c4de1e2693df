import { Counter, type Registry } from 'prom-client';
import { createMetricsRegistry } from '../metrics-registry.ts';
import { type HistogramSeries, TalliedHistogram } from '../tallied-histogram.ts';
import { HTTP_METHODS } from './methods.mjs';

/** The route label of a request no route matched: raw paths would make a series per scanned URL. */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(HTTP_METHODS.map((method) => method.toUpperCase()));

/** Records one answered request of a route: its method, status and seconds from its arrival. */
export type RouteRecorder = (method: string, status: number, seconds: number) => void;

/** One status of one method of one route: its labels, and its answers not yet added to the counter. */
type Answered = { labels: { method: string; route: string; status: string }; uncounted: number };

/** One method of one route: its answers by status and its series of times. */
type MethodSeries = { statuses: Map<number, Answered>; times: HistogramSeries };

/**
 * Counts requests by method, route pattern (`/notes/:id`, never the raw path) and status, and times them.
 * The scrapes are not among them: they go to the metrics port (see serveMetrics).
 *
 * The counts are kept in plain numbers and added to prom-client's counter when it is read (its `collect`), and
 * the times go to a tallied histogram: prom-client hashes and checks the labels of every call, which cost more
 * than the rest of a small request's metrics. Each route gets its recorder once (`route`), so recording is two
 * map reads and a few additions. The series are bounded by the routes, the methods (others count as OTHER)
 * and the statuses.
 */
export function createHttpMetrics(registry: Registry = createMetricsRegistry()) {
  const all: Answered[] = [];
  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
    collect() {
      for (const answered of all) {
        if (answered.uncounted === 0) continue;
        this.inc(answered.labels, answered.uncounted);
        answered.uncounted = 0;
      }
    },
  });
  const duration = new TalliedHistogram(
    'http_request_duration_seconds',
    'Time from a request arriving to its response being ready, by method and route pattern.',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    [registry],
  );

  const recorderOf = (route: string): RouteRecorder => {
    const methods = new Map<string, MethodSeries>();
    const seriesOf = (method: string) => {
      let series = methods.get(method);
      if (!series) {
        series = { statuses: new Map(), times: duration.series({ method, route }) };
        methods.set(method, series);
      }
      return series;
    };
    return (method, status, seconds) => {
      const label = METHODS.has(method) ? method : 'OTHER';
      const series = seriesOf(label);
      let answered = series.statuses.get(status);
      if (!answered) {
        answered = { labels: { method: label, route, status: String(status) }, uncounted: 0 };
        series.statuses.set(status, answered);
        all.push(answered);
      }
      answered.uncounted += 1;
      series.times.observe(seconds);
    };
  };

  return {
    registry,
    /** The recorder of one route pattern (or UNMATCHED_ROUTE), made once per route rather than per request. */
    route: recorderOf,
  };
}

export type HttpMetrics = ReturnType<typeof createHttpMetrics>;
