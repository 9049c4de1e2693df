import { STATUS_CODES } from 'node:http';
import type * as v from 'valibot';
import type { AnyHandler, ResponseSpec } from '../runtime/http/handler.ts';
import type { Convert, Json } from './json-schema.ts';

/**
 * The responses of one operation: its success status, the ones its handler declares, and the problem
 * answers the runtime can send for it (400 for invalid input, 401 for auth, 500 always).
 */
export function describeResponses(d: AnyHandler, context: string, convert: Convert): Json {
  const success = d.status ?? 200;
  const declared: Record<string, ResponseSpec> = d.responses ?? {};
  const spec = declared[success] ?? { description: reason(success), contentType: 'application/json' };
  const responses: Record<string, Json> = {
    [success]:
      success === 204
        ? { description: isSchema(spec) ? reason(204) : spec.description }
        : describeResponse(success, spec, context, convert),
  };
  for (const [status, other] of Object.entries(declared)) {
    if (Number(status) !== success)
      responses[status] = describeResponse(Number(status), other, context, convert);
  }
  if (d.params || d.query || d.body || d.headers) responses[400] ??= problem(400);
  if (d.auth) responses[401] ??= problem(401);
  responses[500] ??= problem(500);
  return responses;
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
  if (isSchema(spec))
    return { description: reason(status), content: { 'application/json': { schema: json(spec) } } };
  // Every error this runtime sends is problem+json, so a described error needs no more than its description.
  if (!spec.schema && !spec.contentType) {
    return status >= 400 ? problem(status, spec.description) : { description: spec.description };
  }
  const media = spec.schema ? { schema: json(spec.schema) } : {};
  const types = [spec.contentType ?? 'application/json'].flat();
  return { description: spec.description, content: Object.fromEntries(types.map((type) => [type, media])) };
}

function problem(status: number, description = reason(status)): Json {
  return {
    description,
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

function reason(status: number): string {
  return STATUS_CODES[status] ?? `HTTP ${status}`;
}

function isSchema(spec: ResponseSpec): spec is v.GenericSchema {
  return (spec as { kind?: unknown }).kind === 'schema';
}
