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

/**
 * A documented response: a schema for JSON, or a description and content type (or types, e.g. a file sent in
 * one of several formats) for anything else.
 */
export type ResponseSpec = Schema | { description: string; contentType?: string | string[]; schema?: Schema };

export type HandlerContext<P, Q, B, H, User> = Services & {
  params: Output<P>;
  query: Output<Q>;
  body: Output<B>;
  headers: Output<H>;
  user: User;
  requestId: string;
  /** The caller's address: the socket's peer, or the first X-Forwarded-For hop when TRUST_PROXY is on. */
  clientIp: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Sets a header on the answer, e.g. Location for a 201 or 202. */
  setHeader(name: string, value: string): void;
};

export type HandlerDefinition<
  P = undefined,
  Q = undefined,
  B = undefined,
  H = undefined,
  User = undefined,
> = {
  readonly kind: 'handler';
  summary: string;
  description?: string;
  tags?: string[];
  auth?: AuthScheme<User>;
  params?: P;
  query?: Q;
  body?: B;
  headers?: H;
  /** The status a returned value is sent with: 200 unless said otherwise; 204 sends no body. */
  status?: 200 | 201 | 202 | 204;
  responses?: Record<number, ResponseSpec>;
  /** Return a value to send it as JSON, or a Response for full control; throw HttpError for an error. */
  handle(ctx: HandlerContext<P, Q, B, H, User>): unknown;
};

/** A handler of any shape, as the runtime sees it. */
// biome-ignore lint/suspicious/noExplicitAny: the runtime treats every handler's schemas alike
export type AnyHandler = HandlerDefinition<any, any, any, any, any>;

/** Declares an HTTP handler; the file's path under handlers/ is its method and route. */
export function defineHandler<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
  H extends Schema | undefined = undefined,
  User = undefined,
>(definition: Omit<HandlerDefinition<P, Q, B, H, User>, 'kind'>): HandlerDefinition<P, Q, B, H, User> {
  return { ...definition, kind: 'handler' };
}
