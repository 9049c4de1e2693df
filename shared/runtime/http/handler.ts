import type * as v from 'valibot';
import type { Services } from '../app.ts';

type Schema = v.GenericSchema;
type Output<S> = S extends Schema ? v.InferOutput<S> : undefined;

/**
 * An authentication requirement. A handler names one in `auth`; the runtime calls `authenticate`
 * before `handle`, and whatever it returns becomes `ctx.user`. Throw HttpError.unauthorized() to refuse.
 */
export type AuthScheme<User> = {
  /** The key under components.securitySchemes in the OpenAPI document. */
  name: string;
  /** The OpenAPI security scheme object, e.g. `{ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }`. */
  openapi: Record<string, unknown>;
  authenticate(request: { header(name: string): string | undefined }, services: Services): Promise<User>;
};

/** Declares an authentication requirement that handlers can share. */
export function defineAuth<User>(scheme: AuthScheme<User>): AuthScheme<User> {
  return scheme;
}

/** A header an answer carries: documented in the OpenAPI document, set with `ctx.setHeader`. */
export type HeaderSpec = { description: string; schema?: Schema; required?: boolean };

/**
 * A documented response: a schema for JSON, or a description with a content type (or types, e.g. a file sent in
 * one of several formats), a schema and the headers it carries.
 */
export type ResponseSpec =
  | Schema
  | {
      description: string;
      contentType?: string | string[];
      schema?: Schema;
      headers?: Record<string, HeaderSpec>;
    };

/** A handler's documented answers by status. Its one 2xx status is the status a returned value is sent with. */
export type Responses = { [status: number]: ResponseSpec };

/** The success statuses a handler may declare; a returned value is sent with the one it declares. */
export const SUCCESS_STATUSES = [200, 201, 202, 204] as const;
type SuccessStatus<R> = Extract<keyof R, (typeof SUCCESS_STATUSES)[number]>;
type BodyOf<S> = S extends Schema
  ? v.InferInput<S>
  : S extends { schema: infer Body }
    ? Body extends Schema
      ? v.InferInput<Body>
      : unknown
    : unknown;

/**
 * What `handle` may return: a Response for full control, or the body of the declared success status (nothing for
 * 204). With no success status declared, 200 with any JSON.
 */
export type HandlerResult<R> =
  | Response
  | ([SuccessStatus<R>] extends [never]
      ? unknown
      : SuccessStatus<R> extends 204
        ? // biome-ignore lint/suspicious/noConfusingVoidType: an async handle that returns nothing returns Promise<void>
          undefined | void
        : BodyOf<R[SuccessStatus<R>]>);

/** The names of the headers the handler's responses declare: the only ones `ctx.setHeader` takes. */
export type DeclaredHeader<R> = {
  [Status in keyof R]: R[Status] extends { headers: infer H } ? keyof H & string : never;
}[keyof R];

export type HandlerContext<P, Q, B, H, User, R = Responses> = Services & {
  params: Output<P>;
  query: Output<Q>;
  body: Output<B>;
  headers: Output<H>;
  user: User;
  requestId: string;
  /** The caller's address: the socket's peer, or the entry TRUST_PROXY hops from the right of X-Forwarded-For. */
  clientIp: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Sets a header the responses declare, e.g. Location for a 201 or 202. */
  setHeader(name: DeclaredHeader<R>, value: string): void;
};

/** How a request body is read: JSON (the default), or a form as HTML forms and OAuth2 token requests send it. */
export type BodyEncoding = 'json' | 'form';

export type HandlerDefinition<
  P = undefined,
  Q = undefined,
  B = undefined,
  H = undefined,
  User = undefined,
  R = Responses,
> = {
  readonly kind: 'handler';
  summary: string;
  description?: string;
  tags?: string[];
  auth?: AuthScheme<User>;
  params?: P;
  query?: Q;
  body?: B;
  /** `form` reads `application/x-www-form-urlencoded`; every field is a string, repeated keys an array. */
  bodyEncoding?: BodyEncoding;
  headers?: H;
  /** The answers by status. The one 2xx among them is the status a returned value is sent with (200 if none). */
  responses?: R;
  /** Return a value to send it as JSON, or a Response for full control; throw HttpError for an error. */
  handle(ctx: HandlerContext<P, Q, B, H, User, R>): HandlerResult<R> | Promise<HandlerResult<R>>;
};

/** A handler of any shape, as the runtime sees it. */
// biome-ignore lint/suspicious/noExplicitAny: the runtime treats every handler's schemas alike
export type AnyHandler = HandlerDefinition<any, any, any, any, any, any>;

/** Declares an HTTP handler; the file's path under handlers/ is its method and route. */
export function defineHandler<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
  H extends Schema | undefined = undefined,
  User = undefined,
  const R extends Responses = Responses,
>(definition: Omit<HandlerDefinition<P, Q, B, H, User, R>, 'kind'>): HandlerDefinition<P, Q, B, H, User, R> {
  return { ...definition, kind: 'handler' };
}

/**
 * The status a returned value is sent with: the one 2xx status the responses declare, or 200. Throws, for the
 * build to report, when they declare more than one.
 */
export function successStatus(definition: Pick<AnyHandler, 'responses'>): number {
  const declared = Object.keys(definition.responses ?? {})
    .map(Number)
    .filter((status) => status >= 200 && status < 300);
  if (declared.length > 1) {
    throw new Error(
      `responses declare ${declared.join(' and ')}: declare one success status, and send any other with a Response`,
    );
  }
  const [status = 200] = declared;
  if (!(SUCCESS_STATUSES as readonly number[]).includes(status)) {
    throw new Error(
      `responses declare ${status}: a returned value is sent with one of ${SUCCESS_STATUSES.join(', ')}`,
    );
  }
  return status;
}

/** The JSON schema a response spec declares, if any. */
export function responseSchema(spec: ResponseSpec | undefined): Schema | undefined {
  if (!spec) return undefined;
  return isSchema(spec) ? spec : spec.schema;
}

/** True for a bare valibot schema, as opposed to a described response. */
export function isSchema(spec: ResponseSpec): spec is Schema {
  return (spec as { kind?: unknown }).kind === 'schema';
}
