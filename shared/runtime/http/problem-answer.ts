import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { classifyError, HttpError, problemBody } from '../errors.ts';
import type { RequestScope } from './request-scope.ts';

/** The most characters of the request path a problem answer repeats. */
const MAX_ECHOED_PATH = 512;

/**
 * The problem+json answer (RFC 9457) for any error of a request: a known one says what is wrong; anything else
 * is logged with its stack and answered 500 with the request id to quote, never its message.
 */
export function problemAnswer(c: Context, scope: RequestScope, error: unknown): Response {
  const known = classifyError(error) ?? fromHonoException(error);
  if (!known) scope.log.error({ err: error }, 'unhandled error');
  const problem =
    known ??
    new HttpError(
      500,
      'internal_error',
      `Something went wrong on our side. Quote request id ${scope.requestId} when reporting it.`,
    );
  const body = JSON.stringify(problemBody(problem, scope.requestId, echoedPath(c.req.path)));
  return scope.answer(problem.status, body, 'application/problem+json', Object.entries(problem.headers));
}

/**
 * A request path as an answer repeats it, cut short: Node lets a path through up to its 16 KiB header limit, and
 * a 404 that echoed it in both `detail` and `instance` would weigh twice that, past the 16 KB a 4xx may.
 */
export function echoedPath(path: string): string {
  return path.length > MAX_ECHOED_PATH ? `${path.slice(0, MAX_ECHOED_PATH - 1)}…` : path;
}

function fromHonoException(error: unknown): HttpError | undefined {
  if (!(error instanceof HTTPException) || error.status >= 500) return undefined;
  return new HttpError(error.status, 'bad_request', error.message || 'The request could not be read.');
}
