import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Services } from '../app.ts';
import { elapsedMs } from '../elapsed.ts';
import { HttpError } from '../errors.ts';
import type { HttpMetrics } from './metrics.ts';
import { problemAnswer } from './problem-answer.ts';
import { headerOf, type RequestScope, requestScopes } from './request-scope.ts';

/** What an envelope wraps: the route's own work, given the request's scope; it may answer at once or later. */
export type ScopedHandler = (c: Context, scope: RequestScope) => Response | Promise<Response>;

/** Wraps one request of a route (its pattern, or UNMATCHED_ROUTE) in everything the runtime adds to each. */
export type Envelope = (c: Context, run: ScopedHandler) => Response | Promise<Response>;

export type EnvelopeOptions = {
  services: Services;
  trustProxy: number;
  bodyLimitBytes: number;
  metrics: HttpMetrics;
  /** True once shutdown has begun: answers then close their connection. */
  isShuttingDown: () => boolean;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What the runtime adds to every request, in one piece around the route rather than as middlewares: the
 * request id (the caller's when it is sane), the request scope, the body limit, problem+json for any error,
 * the runtime's headers, one log line and the metrics. A route that answers without waiting (no auth, no body,
 * a synchronous `handle`) is answered synchronously, which lets the Node adapter write it at once: a middleware
 * chain would make every request a promise, an extra microtask round and a close listener on the socket.
 */
export function requestEnvelopes(options: EnvelopeOptions): (route: string) => Envelope {
  const { services, metrics, isShuttingDown, bodyLimitBytes } = options;
  const scopeOf = requestScopes(services, options.trustProxy, isShuttingDown);
  const limitBody = bodyLimit({
    maxSize: bodyLimitBytes,
    onError: () => {
      throw bodyTooLarge(bodyLimitBytes);
    },
  });
  const noMore = async () => {};

  return (route) => {
    const record = metrics.route(route);
    const finish = (c: Context, scope: RequestScope, started: number, response: Response) => {
      const status = scope.answered === response ? (scope.answeredStatus as number) : adopt(scope, response);
      const durationMs = elapsedMs(started);
      record(c.req.method, status, durationMs / 1000);
      // The process logger with the request id as the line's first field: the same line a child logger writes,
      // without building one for every request (a handler's own lines get one, made when it first logs).
      services.log.info(
        { reqId: scope.requestId, method: c.req.method, path: c.req.path, route, status, durationMs },
        'request',
      );
      return response;
    };
    const fail = (c: Context, scope: RequestScope, started: number, error: unknown) =>
      finish(c, scope, started, problemAnswer(c, scope, error));

    return (c, run) => {
      // Nested (a route under /docs passing the request on to the 404): the outer envelope does the rest.
      const outer = c.get('services') as RequestScope | undefined;
      if (outer) return run(c, outer);
      const started = performance.now();
      const incoming = headerOf(c, 'x-request-id');
      const scope = scopeOf(incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID(), c);
      c.set('services', scope);
      let answer: Response | Promise<Response>;
      try {
        answer = needsStreamLimit(c, bodyLimitBytes)
          ? (limitBody(c, noMore) as Promise<unknown>).then(() => run(c, scope))
          : run(c, scope);
      } catch (error) {
        return fail(c, scope, started, error);
      }
      if (answer instanceof Promise) {
        return answer.then(
          (response) => finish(c, scope, started, response),
          (error: unknown) => fail(c, scope, started, error),
        );
      }
      return finish(c, scope, started, answer);
    };
  };
}

/**
 * Whether a body must be read through Hono's limit to be judged: one whose Content-Length Node has checked is
 * judged by that header alone (too long is a 413 at once); a chunked one is counted as it is read. Reading the
 * raw request makes the Node adapter build a full Request, which only the chunked body pays for.
 */
function needsStreamLimit(c: Context, limit: number): boolean {
  if (BODYLESS.has(c.req.method)) return false;
  const node = (c.env as { incoming?: { headers: Record<string, string | string[] | undefined> } })?.incoming;
  if (!node || node.headers['transfer-encoding'] !== undefined) return true;
  const length = node.headers['content-length'];
  if (typeof length === 'string' && Number.parseInt(length, 10) > limit) {
    throw bodyTooLarge(limit);
  }
  return false;
}

/** The one refusal of a body over the limit, whether its header or its bytes said so. */
function bodyTooLarge(limit: number): HttpError {
  return new HttpError(413, 'body_too_large', `The body is larger than ${limit} bytes.`);
}

/** A Response the scope did not build (a handler's own, the docs' files) gets the runtime's headers added. */
function adopt(scope: RequestScope, response: Response): number {
  for (const [name, value] of Object.entries(scope.runtimeHeaders())) response.headers.set(name, value);
  return response.status;
}
