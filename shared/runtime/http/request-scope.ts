import type { Context } from 'hono';
import type { Logger } from 'pino';
import type { Services } from '../app.ts';

/**
 * What one request's auth check is given: the process's services, with `log` bound to the request id and
 * `enqueue` passing it on to the job. `handlerContext` makes the handler's `ctx` from it.
 */
export type RequestScope = Services & {
  readonly requestId: string;
  readonly clientIp: string;
  readonly signal: AbortSignal;
  readonly setHeader: (name: string, value: string) => void;
  /** What the handler set with `setHeader`, in order; undefined when it set none. */
  readonly responseHeaders: [string, string][] | undefined;
  /** The headers the runtime puts on every answer: the request id, nosniff, and `connection` while draining. */
  runtimeHeaders(): Record<string, string>;
  /**
   * The request's answer, with the runtime's headers and `headers` (by default what the handler set with
   * `setHeader`) in one plain record: the Node adapter writes such a Response as it is, where a Fetch Headers
   * object would be converted back.
   */
  answer(
    status: number,
    body: string | null,
    contentType?: string,
    headers?: Iterable<[string, string]>,
  ): Response;
  /** The last answer `answer` made, and its status. */
  readonly answered: Response | undefined;
  readonly answeredStatus: number | undefined;
  /** The handler's `ctx`: every service and input as an own property, so that a handler may spread it. */
  handlerContext(inputs: HandlerInputs): Record<string, unknown>;
};

/** The validated inputs and the authenticated caller of one request. */
export type HandlerInputs = {
  params: unknown;
  query: unknown;
  body: unknown;
  headers: unknown;
  user: unknown;
};

/**
 * Makes the request scopes of one app. A scope is built for every request, so it is made cheap: the services
 * are reached through its prototype (linked once per app) rather than copied into it, and the child logger
 * is made only when something logs for the request. A class gives every scope one shape, which keeps reads
 * fast. Only a request that reaches a handler pays for a `ctx` of its own (see handlerContext).
 */
export function requestScopes(
  services: Services,
  trustProxy: number,
  isShuttingDown: () => boolean = () => false,
): (requestId: string, c: Context) => RequestScope {
  class Scope {
    readonly requestId: string;
    readonly #c: Context;
    #log: Logger | undefined = undefined;
    responseHeaders: [string, string][] | undefined = undefined;
    answered: Response | undefined = undefined;
    answeredStatus: number | undefined = undefined;

    constructor(requestId: string, c: Context) {
      this.requestId = requestId;
      this.#c = c;
    }

    get log(): Logger {
      this.#log ??= services.log.child({ reqId: this.requestId });
      return this.#log;
    }

    get enqueue(): Services['enqueue'] {
      const { requestId } = this;
      return ((task, payload, options) =>
        services.enqueue(task, payload, { requestId, ...options })) as Services['enqueue'];
    }

    get setHeader(): (name: string, value: string) => void {
      return (name, value) => {
        this.responseHeaders ??= [];
        this.responseHeaders.push([name, value]);
      };
    }

    get clientIp(): string {
      return clientIp(this.#c, trustProxy);
    }

    get signal(): AbortSignal {
      return this.#c.req.raw.signal;
    }

    runtimeHeaders(): Record<string, string> {
      // nosniff: a browser must never read a JSON or problem answer as HTML or script.
      const headers: Record<string, string> = {
        'x-request-id': this.requestId,
        'x-content-type-options': 'nosniff',
      };
      if (isShuttingDown()) headers.connection = 'close';
      return headers;
    }

    answer(
      status: number,
      body: string | null,
      contentType?: string,
      headers: Iterable<[string, string]> = this.responseHeaders ?? [],
    ) {
      const all = this.runtimeHeaders();
      if (contentType) all['content-type'] = contentType;
      for (const [name, value] of headers) all[name] = value;
      const response = new Response(body, { status, headers: all });
      this.answered = response;
      this.answeredStatus = status;
      return response;
    }

    handlerContext(inputs: HandlerInputs): Record<string, unknown> {
      return new HandlerContext(this as unknown as RequestScope, inputs);
    }
  }

  // The handler's ctx, one class for every request of the app, so that every ctx has one shape. Its services are
  // copied in by a loop over the app's own keys: an object spread of them takes V8's slow generic path, several
  // microseconds a request. The request's own values follow; clientIp and signal stay lazy (on the prototype),
  // as reading them builds from the request. `log` is an own, enumerable property, so that a spread of ctx
  // keeps it, but a getter: the request's child logger is made only if the handler logs (or spreads ctx).
  const serviceKeys = (Object.keys(services) as (keyof Services)[]).filter((key) => key !== 'log');
  let lazyLog: PropertyDescriptor | undefined;
  class HandlerContext {
    readonly #scope: RequestScope;
    [key: string]: unknown;

    constructor(scope: RequestScope, inputs: HandlerInputs) {
      for (const key of serviceKeys) this[key] = services[key];
      this.#scope = scope;
      Object.defineProperty(this, 'log', lazyLog as PropertyDescriptor);
      this.enqueue = scope.enqueue;
      this.params = inputs.params;
      this.query = inputs.query;
      this.body = inputs.body;
      this.headers = inputs.headers;
      this.user = inputs.user;
      this.requestId = scope.requestId;
      this.setHeader = scope.setHeader;
    }

    static {
      lazyLog = {
        get(this: HandlerContext) {
          return this.#scope.log;
        },
        enumerable: true,
        configurable: true,
      };
    }

    get clientIp(): string {
      return this.#scope.clientIp;
    }

    get signal(): AbortSignal {
      return this.#scope.signal;
    }
  }
  Object.setPrototypeOf(Scope.prototype, services);
  return (requestId, c) => new Scope(requestId, c) as unknown as RequestScope;
}

/**
 * One request header, read from Node's own request when there is one: asking the Fetch request for a header
 * makes the Node adapter build the whole Request first. `name` is lower case, as Node keys its headers.
 */
export function headerOf(c: Context, name: string): string | undefined {
  const node = (
    c.env as { incoming?: { headers: Record<string, string | string[] | undefined> } } | undefined
  )?.incoming;
  if (!node) return c.req.header(name);
  const value = node.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
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
  const hops = (headerOf(c, 'x-forwarded-for') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  // Fewer entries than trusted proxies: the request did not come through all of them; the nearest one it names.
  return hops[Math.max(hops.length - trustedHops, 0)] ?? peer;
}
