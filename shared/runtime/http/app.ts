import { Hono } from 'hono';
import type { Services } from '../app.ts';
import type { Runtime } from '../compose.ts';
import { HttpError } from '../errors.ts';
import { storeStates } from '../health.ts';
import { allowedMethods } from './allowed-methods.ts';
import { corsFor } from './cors.ts';
import { docsRoutes } from './docs.ts';
import type { AnyHandler } from './handler.ts';
import { createHttpMetrics, type HttpMetrics, UNMATCHED_ROUTE } from './metrics.ts';
import { echoedPath, problemAnswer } from './problem-answer.ts';
import { requestEnvelopes, type ScopedHandler } from './request-envelope.ts';
import { type RequestVariables, routeHandler } from './route-handler.ts';

/** A discovered handler: where it is served and the definition its file exports. */
export type Route = { method: string; path: string; file: string; definition: AnyHandler };

export type AppOptions = {
  routes: Route[];
  /** The process's connections, services and configuration (see composeRuntime). */
  runtime: Pick<Runtime, 'services' | 'config'>;
  /** The OpenAPI document, or its JSON text (as the build embeds it). */
  openapi: Record<string, unknown> | string;
  /** The folder holding swagger-ui's files for /docs. */
  docsAssetsDir: string;
  /** True once shutdown has begun: readiness fails and connections are not kept alive. */
  isShuttingDown?: () => boolean;
  /** The process's request metrics (served on their own port by the main); a registry of its own without them. */
  metrics?: HttpMetrics;
};

/** Builds the Hono app: the routes plus request ids, logs, limits, problem+json errors, health and docs. */
export function createApp(options: AppOptions) {
  const { isShuttingDown = () => false } = options;
  const { services, config } = options.runtime;
  const { bodyLimitBytes, trustProxy, inputLimits, checkResponses } = config.http;
  const metrics = options.metrics ?? createHttpMetrics();
  const app = new Hono<{ Variables: RequestVariables }>();
  const envelope = requestEnvelopes({ services, trustProxy, bodyLimitBytes, metrics, isShuttingDown });
  // Every route is registered inside its envelope (request id, limits, errors, log, metrics): one handler per
  // route is what lets Hono and its Node adapter answer a request without a promise (see request-envelope.ts).
  const serve = (method: string, path: string, run: ScopedHandler) => {
    const wrap = envelope(path);
    app.on(method, path, (c) => wrap(c, run));
  };
  const unmatched = envelope(UNMATCHED_ROUTE);

  // Off unless CORS_ORIGINS names the origins whose pages may call the API. A preflight it answers itself
  // still gets a request id, a log line and its count.
  if (config.http.corsOrigins.length > 0) {
    const cors = corsFor(config.http.corsOrigins);
    app.use(async (c, next) =>
      c.req.method === 'OPTIONS' ? unmatched(c, async () => (await cors(c, next)) ?? c.res) : cors(c, next),
    );
  }

  serve('GET', '/healthz', (_c, scope) => scope.answer(200, HEALTHY, 'application/json'));
  serve('GET', '/readyz', async (_c, scope) => {
    const checks = await readiness(services, isShuttingDown());
    const down = Object.entries(checks).filter(([, state]) => state !== 'ok');
    if (down.length === 0)
      return scope.answer(200, JSON.stringify({ status: 'ready', checks }), 'application/json');
    throw new HttpError(
      503,
      'not_ready',
      `Not ready: ${down.map(([name, state]) => `${name} ${state}`).join('; ')}.`,
      {
        headers: { 'retry-after': '1' },
        extra: { checks },
      },
    );
  });
  // Served as the text it is, or made once from the object on the first request for it.
  let openapi = typeof options.openapi === 'string' ? options.openapi : undefined;
  serve('GET', '/openapi.json', (_c, scope) => {
    openapi ??= JSON.stringify(options.openapi);
    return scope.answer(200, openapi, 'application/json');
  });
  // The docs' own routes answer Hono's way; the envelope around them adds the rest.
  const docs = envelope('/docs');
  app.use('/docs/*', async (c, next) =>
    docs(c, async () => {
      await next();
      return c.res;
    }),
  );
  app.route('/docs', docsRoutes(options.docsAssetsDir));

  for (const route of options.routes) {
    const catchAll = [...route.path.matchAll(/:(\w+)\{\.\+\}/g)].map((match) => match[1] as string);
    serve(
      route.method,
      route.path,
      routeHandler(route.definition, { trustProxy, inputLimits, catchAll, checkResponses }),
    );
  }

  const methodsOf = allowedMethods(options.routes);
  app.notFound((c) =>
    unmatched(c, (_c, scope) => {
      const methods = methodsOf(c.req.path);
      if (methods.length === 0) {
        throw HttpError.notFound(`No route matches ${c.req.method} ${echoedPath(c.req.path)}.`);
      }
      const allow = methods.join(', ');
      if (c.req.method === 'OPTIONS') return scope.answer(204, null, undefined, [['allow', allow]]);
      throw new HttpError(
        405,
        'method_not_allowed',
        `${echoedPath(c.req.path)} answers ${allow}, not ${c.req.method}.`,
        { headers: { allow } },
      );
    }),
  );
  // Only what escaped every envelope (a bug in the runtime itself) reaches Hono's own handler.
  app.onError((error, c) => unmatched(c, (_c, scope) => problemAnswer(c, scope, error)));
  return app;
}

const HEALTHY = JSON.stringify({ status: 'ok' });

/**
 * The public readiness checks: 'ok' or 'down' per store. Why a store is down goes to the log, never to the
 * caller: its error text can name hosts, users and ports.
 */
async function readiness(services: Services, shuttingDown: boolean) {
  const stores = await storeStates(services.sql, services.redis);
  const down = Object.entries(stores).filter(([, state]) => state !== 'ok');
  if (down.length > 0) services.log.warn(Object.fromEntries(down), 'not ready');
  const publicState = (state: string) => (state === 'ok' ? 'ok' : 'down');
  return {
    postgres: publicState(stores.postgres),
    redis: publicState(stores.redis),
    process: shuttingDown ? 'shutting down' : 'ok',
  };
}
