import { STATUS_CODES } from 'node:http';
import type * as v from 'valibot';
import { type AnyHandler, isSchema, type ResponseSpec, successStatus } from '../runtime/http/handler.ts';
import type { Convert, Json } from './json-schema.ts';

/** What the build knows of an operation beyond its definition. */
export type OperationFacts = { file: string; context: string; hasPathParameters: boolean };

/**
 * The responses of one operation: its success status, the ones its handler declares, and the problem answers
 * the runtime can send for it: 400 for invalid input, 401 for auth, 404 for a path naming something, 413 and 415
 * for a body, 500 and 503 always. Every answer carries X-Request-Id; 429 and 503 carry Retry-After.
 */
export function describeResponses(d: AnyHandler, facts: OperationFacts, convert: Convert): Json {
  const { file, context } = facts;
  const success = statusOf(d, file);
  const declared: Record<string, ResponseSpec> = d.responses ?? {};
  const spec = declared[success] ?? { description: reason(success), contentType: 'application/json' };
  const responses: Record<string, Json> = {
    [success]:
      success === 204
        ? withHeaders(204, { description: isSchema(spec) ? reason(204) : spec.description }, spec, convert)
        : describeResponse(success, spec, context, convert),
  };
  for (const [status, other] of Object.entries(declared)) {
    if (Number(status) !== success)
      responses[status] = describeResponse(Number(status), other, context, convert);
  }
  if (d.params || d.query || d.body || d.headers) responses[400] ??= problem(400);
  if (d.auth) responses[401] ??= problem(401);
  if (facts.hasPathParameters) responses[404] ??= problem(404);
  if (d.body) {
    responses[413] ??= problem(413, 'The body is larger than BODY_LIMIT_BYTES');
    responses[415] ??= problem(415, `The body is not sent as ${mediaTypeOf(d)}`);
  }
  responses[500] ??= problem(500);
  responses[503] ??= problem(503, 'A store the API needs is unavailable, or the server is shutting down');
  return sortStatuses(responses);
}

/** The media type an operation's body is read as. */
export function mediaTypeOf(d: AnyHandler): string {
  return d.bodyEncoding === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
}

/** The components.headers entries every operation's answers refer to. */
export function runtimeHeaders(): Record<string, Json> {
  return {
    RequestId: {
      description: "The request's id: the caller's X-Request-Id when it is well formed, else a new UUID.",
      required: true,
      schema: { type: 'string', maxLength: 128 },
    },
    RetryAfter: {
      description: 'Seconds to wait before trying again.',
      required: true,
      schema: { type: 'integer', minimum: 1 },
    },
  };
}

/** The components.schemas entries the problem answers refer to: the RFC 9457 body of every error. */
export function problemSchemas(): Record<string, Json> {
  const text = { type: 'string' };
  return {
    Problem: {
      type: 'object',
      description: 'An RFC 9457 problem: the body of every error answer.',
      required: ['type', 'title', 'status', 'code', 'requestId'],
      properties: {
        type: { type: 'string', format: 'uri-reference' },
        title: text,
        status: { type: 'integer' },
        detail: text,
        instance: text,
        code: { type: 'string', description: 'A stable, machine-readable error code.' },
        requestId: { type: 'string', description: 'Quote it when reporting the problem.' },
        errors: {
          type: 'array',
          description: 'The input fields that failed validation.',
          items: {
            type: 'object',
            required: ['field', 'message'],
            properties: { field: text, message: text },
          },
        },
      },
    },
  };
}

function describeResponse(status: number, spec: ResponseSpec, context: string, convert: Convert): Json {
  const json = (schema: v.GenericSchema) => convert(schema, 'output', `${context}Response${status}`);
  if (isSchema(spec)) {
    return withHeaders(
      status,
      { description: reason(status), content: { 'application/json': { schema: json(spec) } } },
      spec,
      convert,
    );
  }
  // Every error this runtime sends is problem+json, so a described error needs no more than its description.
  if (!spec.schema && !spec.contentType && status >= 400) return problem(status, spec.description, spec);
  const media = spec.schema ? { schema: json(spec.schema) } : {};
  const types = [spec.contentType ?? 'application/json'].flat();
  const content =
    spec.schema || spec.contentType ? Object.fromEntries(types.map((type) => [type, media])) : undefined;
  return withHeaders(
    status,
    content ? { description: spec.description, content } : { description: spec.description },
    spec,
    convert,
  );
}

function problem(status: number, description = reason(status), spec?: ResponseSpec): Json {
  return withHeaders(
    status,
    {
      description,
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    },
    spec ?? { description },
  );
}

/** The response with its headers: X-Request-Id always, Retry-After on 429 and 503, then the declared ones. */
function withHeaders(status: number, response: Json, spec: ResponseSpec, convert?: Convert): Json {
  const headers: Record<string, Json> = { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } };
  if (status === 429 || status === 503) headers['Retry-After'] = { $ref: '#/components/headers/RetryAfter' };
  if (!isSchema(spec)) {
    for (const [name, header] of Object.entries(spec.headers ?? {})) {
      const schema =
        header.schema && convert ? convert(header.schema, 'output', `${name}Header`) : { type: 'string' };
      headers[name] = { description: header.description, required: header.required ?? false, schema };
    }
  }
  return { ...response, headers };
}

function statusOf(d: AnyHandler, file: string): number {
  try {
    return successStatus(d);
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

function sortStatuses(responses: Record<string, Json>): Record<string, Json> {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
}

function reason(status: number): string {
  return STATUS_CODES[status] ?? `HTTP ${status}`;
}
