import { cors } from 'hono/cors';
import { HTTP_METHODS } from './methods.mjs';

/**
 * CORS for the origins CORS_ORIGINS names (`*` for any): the methods handlers can serve, the request headers the
 * runtime and its auth read, and the response headers a page needs to read (the request id to quote, Location,
 * Retry-After). No credentials: the API authenticates with bearer tokens, never cookies.
 */
export function corsFor(origins: string[]) {
  return cors({
    origin: origins.includes('*') ? '*' : origins,
    allowMethods: HTTP_METHODS.map((method) => method.toUpperCase()),
    allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
    exposeHeaders: ['x-request-id', 'location', 'retry-after', 'idempotent-replayed', 'content-disposition'],
    maxAge: 600,
  });
}
