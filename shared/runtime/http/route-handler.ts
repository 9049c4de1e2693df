import type { Context } from 'hono';
import * as v from 'valibot';
import type { Services } from '../app.ts';
import { type FieldError, fieldErrors, HttpError, validationError } from '../errors.ts';
import type { AnyHandler } from './handler.ts';
import { type InputLimits, inputShapeProblems } from './input-shape.ts';

/** The per-request values the app's middleware stores on the Hono context. */
export type RequestVariables = { requestId: string; services: Services };

/**
 * What the route handlers take from the configuration and the route: `catchAll` names the route's `[...x]`
 * parameters.
 */
export type RouteOptions = { trustProxy: number; inputLimits: InputLimits; catchAll?: string[] };

/**
 * Turns one handler definition into a Hono handler: runs the auth check first (a protected route refuses a
 * stranger before it reads the body), then checks the inputs' shape and validates each against its schema
 * (collecting the failures of all of them before answering), calls `handle`, and shapes the answer.
 */
export function routeHandler(definition: AnyHandler, options: RouteOptions) {
  return async (c: Context<{ Variables: RequestVariables }>) => {
    const services = c.get('services');
    const user = definition.auth
      ? await definition.auth.authenticate({ header: (name) => c.req.header(name) }, services)
      : undefined;

    for (const name of options.catchAll ?? []) refuseDotSegments(name, c.req.param(name));

    const errors: FieldError[] = [];
    let failures = 0;
    // Inputs are read only when a schema asks for them: reading headers or the raw request makes the Node
    // adapter build a full Request, which a handler that declares nothing should not pay for.
    const check = (where: string, schema: v.GenericSchema | undefined, read: () => unknown) => {
      if (!schema) return undefined;
      const input = read();
      const shape = inputShapeProblems(where, input, options.inputLimits);
      if (shape.length > 0) {
        errors.push(...shape);
        failures += shape.length;
        return undefined;
      }
      const result = v.safeParse(schema, input);
      if (result.success) return result.output;
      errors.push(...fieldErrors(where, result.issues));
      failures += result.issues.length;
      return undefined;
    };

    const params = check('params', definition.params, () => c.req.param());
    const query = check('query', definition.query, () => queryObject(c.req.queries()));
    const headers = check('headers', definition.headers, () => c.req.header());
    const raw = definition.body ? await jsonBody(c) : undefined;
    const body = check('body', definition.body, () => raw);
    if (errors.length > 0) throw validationError(errors, failures);

    const responseHeaders = new Headers();
    const result = await definition.handle({
      ...services,
      params,
      query,
      body,
      headers,
      user,
      requestId: c.get('requestId'),
      get clientIp() {
        return clientIp(c, options.trustProxy);
      },
      get signal() {
        return c.req.raw.signal;
      },
      setHeader: (name, value) => responseHeaders.set(name, value),
    });

    if (result instanceof Response) {
      // A handler's own Response is not built by the context, so the runtime's headers are added here.
      result.headers.set('x-request-id', c.get('requestId'));
      result.headers.set('x-content-type-options', 'nosniff');
      return result;
    }
    const status = definition.status ?? 200;
    for (const [name, value] of responseHeaders) c.header(name, value);
    if (status === 204) return c.body(null, 204);
    return c.json(result ?? null, status);
  };
}

/** Reads a JSON body, answering 415 for another media type and 400 for JSON that does not parse. */
async function jsonBody(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  const text = await c.req.text();
  if (text.length === 0) {
    throw validationError([{ field: 'body', message: 'A JSON body is required' }]);
  }
  if (!/^application\/([a-z0-9.+-]+\+)?json\b/i.test(type)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      'Send the body as JSON with Content-Type: application/json.',
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'malformed_json', `The body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * The peer of the socket, unless `trustedHops` proxies stand in front: each appends the address it got the
 * request from to X-Forwarded-For, so the client is the entry that many from the right. Entries further left
 * are the client's own words and never trusted.
 */
function clientIp(c: Context, trustedHops: number): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  const peer = incoming?.socket?.remoteAddress || 'unknown';
  if (trustedHops === 0) return peer;
  const hops = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  // Fewer entries than trusted proxies: the request did not come through all of them; the nearest one it names.
  return hops[Math.max(hops.length - trustedHops, 0)] ?? peer;
}

/**
 * A catch-all parameter arrives percent-decoded, so `%2e%2e%2f` is `../`: a handler that joins it to a folder
 * would leave the folder. Dot segments and backslashes are refused outright.
 */
function refuseDotSegments(name: string, value: string | undefined): void {
  if (value === undefined) return;
  if (value.split(/[/\\]/).some((segment) => segment === '.' || segment === '..') || value.includes('\\')) {
    throw validationError([
      { field: `params.${name}`, message: 'must not hold . or .. segments nor backslashes' },
    ]);
  }
}

/** One value stays a string and repeated keys become an array, so `?tag=a&tag=b` reads naturally. */
function queryObject(queries: Record<string, string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, values] of Object.entries(queries)) {
    out[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return out;
}
