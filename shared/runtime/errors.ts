import type * as v from 'valibot';

/** One failing input field, as reported to API clients. */
export type FieldError = { field: string; message: string };

/**
 * The one error type handlers throw on purpose. It becomes an RFC 9457 problem+json answer
 * with this status, a stable machine-readable `code`, and a human-readable `detail`.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;

  constructor(
    status: number,
    code: string,
    detail: string,
    options: { headers?: Record<string, string>; extra?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }

  static unauthorized(detail = 'A valid bearer token is required.') {
    return new HttpError(401, 'unauthorized', detail, { headers: { 'www-authenticate': 'Bearer' } });
  }
  static notFound(detail = 'Nothing is here.') {
    return new HttpError(404, 'not_found', detail);
  }
  static conflict(detail: string) {
    return new HttpError(409, 'conflict', detail);
  }
  static unprocessable(detail: string, extra?: Record<string, unknown>) {
    return new HttpError(422, 'unprocessable', detail, { extra });
  }
  static tooManyRequests(retryAfterSeconds: number) {
    return new HttpError(429, 'too_many_requests', `Too many requests. Retry in ${retryAfterSeconds} s.`, {
      headers: { 'retry-after': String(retryAfterSeconds) },
    });
  }
  static unavailable(detail: string, retryAfterSeconds = 1) {
    return new HttpError(503, 'unavailable', detail, {
      headers: { 'retry-after': String(retryAfterSeconds) },
    });
  }
}

/** The most field errors one answer lists; the rest are only counted, so that no 4xx body grows with its input. */
export const MAX_LISTED_ERRORS = 20;
/** Field paths and messages are cut to this many characters in an answer. */
const MAX_TEXT = 200;

/**
 * Turns valibot issues into `{field, message}` pairs, with the field prefixed by where it came from. Only the
 * first `limit` issues are turned (a huge input can carry one per item).
 */
export function fieldErrors(
  where: string,
  issues: readonly v.BaseIssue<unknown>[],
  limit = MAX_LISTED_ERRORS,
): FieldError[] {
  return issues.slice(0, limit).map((issue) => {
    const path = issue.path?.map((item) => String(item.key)) ?? [];
    return { field: [where, ...path].join('.'), message: issue.message };
  });
}

/**
 * Raised for input that fails its schema: a 400 problem listing the failing fields, at most
 * MAX_LISTED_ERRORS of them; `total` (when more failed) goes in `errorCount`.
 */
export function validationError(errors: FieldError[], total = errors.length): HttpError {
  const listed = errors.slice(0, MAX_LISTED_ERRORS).map((error) => ({
    field: cut(error.field),
    message: cut(error.message),
  }));
  const fields = [...new Set(listed.map((e) => e.field))].join(', ');
  const count = Math.max(total, errors.length);
  const more = count > listed.length ? ` (and ${count - listed.length} more)` : '';
  return new HttpError(400, 'validation_failed', `The request is invalid: check ${fields}${more}.`, {
    extra: count > listed.length ? { errors: listed, errorCount: count } : { errors: listed },
  });
}

function cut(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The RFC 9457 body for an error, carrying the request id so that clients can quote it. */
export function problemBody(error: HttpError, requestId: string, instance: string) {
  return {
    type: `about:blank#${error.code}`,
    title: TITLES[error.status] ?? 'Error',
    status: error.status,
    detail: error.message,
    instance,
    code: error.code,
    requestId,
    ...error.extra,
  };
}

/**
 * Errors that mean the database could not be reached or is going away, not that the request was wrong:
 * postgres.js's connection codes, Node's socket codes, and Postgres's shutdown and start-up states.
 */
const UNAVAILABLE_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
]);

/** Maps errors that are not HttpErrors but still mean a client mistake; anything else stays unknown. */
export function classifyError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  const pgCode = (error as { code?: unknown } | null)?.code;
  if (pgCode === '23505') return HttpError.conflict('A record with these values already exists.');
  if (pgCode === '23503') return HttpError.conflict('The record refers to something that does not exist.');
  if (typeof pgCode === 'string' && UNAVAILABLE_CODES.has(pgCode)) {
    return HttpError.unavailable('The database is unavailable. Try again shortly.', 2);
  }
  return undefined;
}
