import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Counter, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '../metrics-registry.ts';
import { HTTP_METHODS } from './methods.mjs';

/** The route label of a request no route matched: raw paths would make a series per scanned URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Beyond this many label sets, the rest are made per request instead of kept. */
const MAX_CACHED_SERIES = 10_000;

const METHODS = new Set(HTTP_METHODS.map((method) => method.toUpperCase()));

/**
 * Counts requests by method, route pattern (`/notes/:id`, never the raw path) and status, and times them.
 * The scrapes are not among them: they go to the metrics port (see serveMetrics).
 */
export function createHttpMetrics(registry: Registry = createMetricsRegistry()) {
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from a request arriving to its response being ready, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // The label sets, made once per method, route and status and then reused: prom-client hashes the labels it is
  // given at every observation, and a fresh object per request would be garbage too. Bounded by the routes.
  const series = new Map<string, { counted: Record<string, string>; timed: Record<string, string> }>();
  return {
    registry,
    /** Records one answered request; `seconds` from its arrival. */
    observe(c: Context, seconds: number) {
      const route = routeLabel(c);
      const method = METHODS.has(c.req.method) ? c.req.method : 'OTHER';
      const status = c.res.status;
      const key = `${method} ${status} ${route}`;
      let labels = series.get(key);
      if (!labels) {
        labels = { counted: { method, route, status: String(status) }, timed: { method, route } };
        if (series.size < MAX_CACHED_SERIES) series.set(key, labels);
      }
      requests.inc(labels.counted);
      duration.observe(labels.timed, seconds);
    },
  };
}

export type HttpMetrics = ReturnType<typeof createHttpMetrics>;

/**
 * The pattern of the route that answered, else of the route the request matched (a middleware such as the
 * body limit may answer first), else `unmatched`. Middlewares are registered for every method, routes for one.
 */
function routeLabel(c: Context): string {
  const routes = matchedRoutes(c);
  const answered = routes[c.req.routeIndex];
  if (answered && answered.method !== 'ALL') return answered.path;
  return routes.findLast((route) => route.method !== 'ALL')?.path ?? UNMATCHED_ROUTE;
}
