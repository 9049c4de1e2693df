import type { Context } from 'hono';
import * as v from 'valibot';
import { type FieldError, fieldErrors, HttpError, validationError } from '../errors.ts';
import { type AnyHandler, successStatus } from './handler.ts';
import { type InputLimits, inputShapeProblems } from './input-shape.ts';
import { type HandlerInputs, headerOf, type RequestScope } from './request-scope.ts';
import { responseChecker } from './response-check.ts';

/** The per-request values the app's middleware stores on the Hono context. */
export type RequestVariables = { requestId: string; services: RequestScope };

/**
 * What the route handlers take from the configuration and the route: `catchAll` names the route's `[...x]`
 * parameters; `checkResponses` checks every JSON answer against its documented schema (outside production).
 */
export type RouteOptions = {
  trustProxy: number;
  inputLimits: InputLimits;
  catchAll?: string[];
  checkResponses?: boolean;
};

/**
 * Turns one handler definition into a Hono handler: runs the auth check first (a protected route refuses a
 * stranger before it reads the body), then checks the inputs' shape and validates each against its schema
 * (collecting the failures of all of them before answering), calls `handle`, and shapes the answer.
 */
export function routeHandler(definition: AnyHandler, options: RouteOptions) {
  const status = successStatus(definition);
  const checkResponse = options.checkResponses ? responseChecker(definition, status) : undefined;
  const readBody = definition.bodyEncoding === 'form' ? formBody : jsonBody;
  const catchAll = options.catchAll ?? [];
  return async (c: Context<{ Variables: RequestVariables }>) => {
    const scope = c.get('services');
    // The header is read from Node's own request: through the Fetch API it would build the whole Request.
    const user = definition.auth
      ? await definition.auth.authenticate({ header: (name) => headerOf(c, name.toLowerCase()) }, scope)
      : undefined;

    for (const name of catchAll) refuseDotSegments(name, c.req.param(name));

    // Inputs are read only when a schema asks for them: reading headers or the raw request makes the Node
    // adapter build a full Request, which a handler that declares nothing should not pay for.
    const errors: FieldError[] = [];
    const failures = { count: 0 };
    const limits = options.inputLimits;
    const inputs: HandlerInputs = {
      params: undefined,
      query: undefined,
      body: undefined,
      headers: undefined,
      user,
    };
    if (definition.params) {
      inputs.params = check(errors, failures, limits, 'params', definition.params, c.req.param());
    }
    if (definition.query) {
      inputs.query = check(errors, failures, limits, 'query', definition.query, queryObject(c.req.queries()));
    }
    if (definition.headers) {
      inputs.headers = check(errors, failures, limits, 'headers', definition.headers, c.req.header());
    }
    if (definition.body) {
      inputs.body = check(errors, failures, limits, 'body', definition.body, await readBody(c));
    }
    if (errors.length > 0) throw validationError(errors, failures.count);

    const ctx = scope.handlerContext(inputs) as unknown as Parameters<AnyHandler['handle']>[0];
    const result = await definition.handle(ctx);

    if (result instanceof Response) {
      // A handler's own Response is not built by the context, so the runtime's headers are added here.
      result.headers.set('x-request-id', c.get('requestId'));
      result.headers.set('x-content-type-options', 'nosniff');
      return result;
    }
    for (const [name, value] of scope.responseHeaders ?? []) c.header(name, value);
    if (status === 204) return c.body(null, 204);
    checkResponse?.(result);
    return c.json(result ?? null, status as 200);
  };
}

/**
 * Checks one input's shape, then validates it against its schema: the output, or undefined with the failures
 * added to `errors` (all the inputs are checked before answering, so that one answer names every failure).
 */
function check(
  errors: FieldError[],
  failures: { count: number },
  limits: InputLimits,
  where: string,
  schema: v.GenericSchema,
  input: unknown,
): unknown {
  const shape = inputShapeProblems(where, input, limits);
  if (shape.length > 0) {
    errors.push(...shape);
    failures.count += shape.length;
    return undefined;
  }
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  errors.push(...fieldErrors(where, result.issues));
  failures.count += result.issues.length;
  return undefined;
}

/** Reads a JSON body, answering 415 for another media type and 400 for JSON that does not parse. */
async function jsonBody(c: Context): Promise<unknown> {
  const text = await bodyText(c, /^application\/([a-z0-9.+-]+\+)?json\b/i, 'JSON', 'application/json');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'malformed_json', `The body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Reads a form body (`a=1&b=2`): each field a string, a repeated field an array, as the query is read. */
async function formBody(c: Context): Promise<unknown> {
  const text = await bodyText(
    c,
    /^application\/x-www-form-urlencoded\b/i,
    'form-encoded',
    'application/x-www-form-urlencoded',
  );
  const fields: Record<string, string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const values = fields[key] ?? [];
    values.push(value);
    fields[key] = values;
  }
  return queryObject(fields);
}

/** The body's text, after checking there is one and its media type is `accepted`. */
async function bodyText(c: Context, accepted: RegExp, what: string, mediaType: string): Promise<string> {
  const type = headerOf(c, 'content-type') ?? '';
  const text = await c.req.text();
  if (text.length === 0) {
    throw validationError([{ field: 'body', message: `A ${what} body is required` }]);
  }
  if (!accepted.test(type)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `Send the body ${what === 'JSON' ? 'as JSON' : what} with Content-Type: ${mediaType}.`,
    );
  }
  return text;
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
