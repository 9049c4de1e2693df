import type { Context } from 'hono';
import * as v from 'valibot';
import { type FieldError, fieldErrors, validationError } from '../errors.ts';
import { type AnyHandler, successStatus } from './handler.ts';
import { type InputLimits, inputShapeProblems } from './input-shape.ts';
import { queryObject } from './query-object.ts';
import { formBody, jsonBody } from './request-body.ts';
import type { ScopedHandler } from './request-envelope.ts';
import { type HandlerInputs, headerOf, type RequestScope } from './request-scope.ts';
import { responseChecker } from './response-check.ts';

/** What the request envelope stores on the Hono context: the request's scope. */
export type RequestVariables = { services: RequestScope };

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
 * Turns one handler definition into the work of its route (see request-envelope.ts): runs the auth check first
 * (a protected route refuses a stranger before it reads the body), then checks the inputs' shape and validates
 * each against its schema (collecting the failures of all of them before answering), calls `handle`, and
 * shapes the answer. Nothing waits that need not: a route with no auth and no body whose `handle` returns a
 * value answers synchronously.
 */
export function routeHandler(definition: AnyHandler, options: RouteOptions): ScopedHandler {
  const status = successStatus(definition);
  const checkResponse = options.checkResponses ? responseChecker(definition, status) : undefined;
  const readBody = definition.bodyEncoding === 'form' ? formBody : jsonBody;
  const catchAll = options.catchAll ?? [];
  const limits = options.inputLimits;

  const shape = (scope: RequestScope, result: unknown): Response => {
    if (result instanceof Response) return result;
    if (status === 204) return scope.answer(204, null);
    checkResponse?.(result);
    return scope.answer(status, JSON.stringify(result ?? null), 'application/json');
  };
  const handle = (scope: RequestScope, inputs: HandlerInputs, problems: Problems) => {
    if (problems.errors.length > 0) throw validationError(problems.errors, problems.count);
    const ctx = scope.handlerContext(inputs) as unknown as Parameters<AnyHandler['handle']>[0];
    const result = definition.handle(ctx) as unknown;
    return isThenable(result) ? Promise.resolve(result).then((r) => shape(scope, r)) : shape(scope, result);
  };
  // Inputs are read only when a schema asks for them: reading headers or the raw request makes the Node
  // adapter build a full Request, which a handler that declares nothing should not pay for.
  const withUser = (c: Context, scope: RequestScope, user: unknown) => {
    for (const name of catchAll) refuseDotSegments(name, c.req.param(name));
    const problems: Problems = { errors: [], count: 0 };
    const inputs: HandlerInputs = {
      params: undefined,
      query: undefined,
      body: undefined,
      headers: undefined,
      user,
    };
    if (definition.params) {
      inputs.params = check(problems, limits, 'params', definition.params, c.req.param());
    }
    if (definition.query) {
      inputs.query = check(problems, limits, 'query', definition.query, queryObject(c.req.queries()));
    }
    if (definition.headers) {
      inputs.headers = check(problems, limits, 'headers', definition.headers, c.req.header());
    }
    const bodySchema = definition.body;
    if (!bodySchema) return handle(scope, inputs, problems);
    return readBody(c).then((body) => {
      inputs.body = check(problems, limits, 'body', bodySchema, body);
      return handle(scope, inputs, problems);
    });
  };
  const auth = definition.auth;
  return (c, scope) => {
    if (!auth) return withUser(c, scope, undefined);
    // The header is read from Node's own request: through the Fetch API it would build the whole Request.
    return auth
      .authenticate({ header: (name) => headerOf(c, name.toLowerCase()) }, scope)
      .then((user) => withUser(c, scope, user));
  };
}

/** The failures of a request's inputs, gathered so that one answer names every one. */
type Problems = { errors: FieldError[]; count: number };

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Checks one input's shape, then validates it against its schema: the output, or undefined with the failures
 * added to `problems` (all the inputs are checked before answering, so that one answer names every failure).
 */
function check(
  problems: Problems,
  limits: InputLimits,
  where: string,
  schema: v.GenericSchema,
  input: unknown,
): unknown {
  const shape = inputShapeProblems(where, input, limits);
  if (shape.length > 0) {
    problems.errors.push(...shape);
    problems.count += shape.length;
    return undefined;
  }
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  problems.errors.push(...fieldErrors(where, result.issues));
  problems.count += result.issues.length;
  return undefined;
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
