import { randomUUID } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { Services } from '../app.ts';
import type { Runtime } from '../compose.ts';
import { elapsedMs } from '../elapsed.ts';
import { classifyError, HttpError, problemBody } from '../errors.ts';
import { storeStates } from '../health.ts';
import { allowedMethods } from './allowed-methods.ts';
import { corsFor } from './cors.ts';
import { docsRoutes } from './docs.ts';
import type { AnyHandler } from './handler.ts';
import { createHttpMetrics, type HttpMetrics } from './metrics.ts';
import { headerOf, requestScopes, setAnswerHeader } from './request-scope.ts';
import { type RequestVariables, routeHandler } from './route-handler.ts';

/** A discovered handler: where it is served and the definition its file exports. */
export type Route = { method: string; path: string; file: string; definition: AnyHandler };

export type AppOptions = {
  routes: Route[];
  /** The process's connections, services and configuration (see composeRuntime). */
  runtime: Pick<Runtime, 'services' | 'config'>;
  openapi: Record<string, unknown>;
  /** The folder holding swagger-ui's files for /docs. */
  docsAssetsDir: string;
  /** True once shutdown has begun: readiness fails and connections are not kept alive. */
  isShuttingDown?: () => boolean;
  /** The process's request metrics (served on their own port by the main); a registry of its own without them. */
  metrics?: HttpMetrics;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The most characters of the request path a problem answer repeats. */
const MAX_ECHOED_PATH = 512;

/** Builds the Hono app: the routes plus request ids, logs, limits, problem+json errors, health and docs. */
export function createApp(options: AppOptions) {
  const { isShuttingDown = () => false } = options;
  const { services, config } = options.runtime;
  const { bodyLimitBytes, trustProxy, inputLimits, checkResponses } = config.http;
  const metrics = options.metrics ?? createHttpMetrics();
  const app = new Hono<{ Variables: RequestVariables }>();

  const scopeOf = requestScopes(services, trustProxy);
  app.use(async (c, next) => {
    const started = performance.now();
    const incoming = headerOf(c, 'x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.set('services', scopeOf(requestId, c));
    // Set before the handler answers, so the answer is written with it rather than rebuilt to add it. nosniff:
    // a browser must never read a JSON or problem answer as HTML or script.
    setAnswerHeader(c, 'x-request-id', requestId);
    setAnswerHeader(c, 'x-content-type-options', 'nosniff');
    await next();
    if (isShuttingDown()) setAnswerHeader(c, 'connection', 'close');
    const durationMs = elapsedMs(started);
    metrics.observe(c, durationMs / 1000);
    // The process logger with the request id as the line's first field: the same line a child logger writes,
    // without building one for every request (a handler's own lines get one, made when it first logs).
    services.log.info(
      {
        reqId: requestId,
        method: c.req.method,
        path: c.req.path,
        route: c.req.routePath,
        status: c.res.status,
        durationMs,
      },
      'request',
    );
  });

  // Off unless CORS_ORIGINS names the origins whose pages may call the API; preflights are answered here.
  if (config.http.corsOrigins.length > 0) app.use(corsFor(config.http.corsOrigins));

  const limitBody = bodyLimit({
    maxSize: bodyLimitBytes,
    onError: () => {
      throw new HttpError(413, 'body_too_large', `The body is larger than ${bodyLimitBytes} bytes.`);
    },
  });
  // Hono's limit reads the raw request, which makes the Node adapter build a full Request (and read the body
  // through a stream): a body whose Content-Length Node has already checked is judged by that header alone, as
  // Hono's limit would judge it, and only a chunked body pays for the full Request.
  app.use((c, next) => {
    if (BODYLESS.has(c.req.method)) return next();
    const node = (c.env as { incoming?: { headers: Record<string, string | string[] | undefined> } })
      ?.incoming;
    if (!node || node.headers['transfer-encoding'] !== undefined) return limitBody(c, next);
    const length = node.headers['content-length'];
    if (typeof length === 'string' && Number.parseInt(length, 10) > bodyLimitBytes) return limitBody(c, next);
    return next();
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks = await readiness(services, isShuttingDown());
    const down = Object.entries(checks).filter(([, state]) => state !== 'ok');
    if (down.length === 0) return c.json({ status: 'ready', checks });
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
  app.get('/openapi.json', (c) => c.json(options.openapi));
  app.route('/docs', docsRoutes(options.docsAssetsDir));

  for (const route of options.routes) {
    const catchAll = [...route.path.matchAll(/:(\w+)\{\.\+\}/g)].map((match) => match[1] as string);
    app.on(
      route.method,
      route.path,
      routeHandler(route.definition, { trustProxy, inputLimits, catchAll, checkResponses }),
    );
  }

  const methodsOf = allowedMethods(options.routes);
  app.notFound((c) => {
    const methods = methodsOf(c.req.path);
    if (methods.length === 0) {
      throw HttpError.notFound(`No route matches ${c.req.method} ${echoedPath(c.req.path)}.`);
    }
    const allow = methods.join(', ');
    if (c.req.method === 'OPTIONS') return c.body(null, 204, { allow });
    throw new HttpError(
      405,
      'method_not_allowed',
      `${echoedPath(c.req.path)} answers ${allow}, not ${c.req.method}.`,
      {
        headers: { allow },
      },
    );
  });
  app.onError((error, c) => problemResponse(c, error));
  return app;
}

function problemResponse(c: Context<{ Variables: RequestVariables }>, error: unknown) {
  const requestId = c.get('requestId') ?? randomUUID();
  const known = classifyError(error) ?? fromHonoException(error);
  if (!known) {
    c.get('services')?.log.error({ err: error }, 'unhandled error');
  }
  const problem =
    known ??
    new HttpError(
      500,
      'internal_error',
      `Something went wrong on our side. Quote request id ${requestId} when reporting it.`,
    );
  const response = c.json(problemBody(problem, requestId, echoedPath(c.req.path)), problem.status as 400);
  response.headers.set('content-type', 'application/problem+json');
  for (const [name, value] of Object.entries(problem.headers)) response.headers.set(name, value);
  return response;
}

/**
 * A request path as an answer repeats it, cut short: Node lets a path through up to its 16 KiB header limit, and
 * a 404 that echoed it in both `detail` and `instance` would weigh twice that, past the 16 KB a 4xx may.
 */
function echoedPath(path: string): string {
  return path.length > MAX_ECHOED_PATH ? `${path.slice(0, MAX_ECHOED_PATH - 1)}…` : path;
}

function fromHonoException(error: unknown): HttpError | undefined {
  if (!(error instanceof HTTPException) || error.status >= 500) return undefined;
  return new HttpError(error.status, 'bad_request', error.message || 'The request could not be read.');
}

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
