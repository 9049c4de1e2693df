import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Operation } from './hostile-requests.ts';

// biome-ignore lint/suspicious/noExplicitAny: the checks walk an OpenAPI document of known shape
type Json = Record<string, any>;

/** The most a 4xx body may weigh, whatever the request held (issue 9's abuse budget). */
export const MAX_PROBLEM_BYTES = 16 * 1024;

/** An answer as read once: its status, its headers and its whole body. */
export type Answer = { status: number; headers: Headers; bytes: Uint8Array };

/**
 * Checks answers against the document that promises them. Each 2xx JSON body is validated with the
 * document's own response schema (its `$ref`s resolved in place), compiled once per operation and status.
 */
/** The description of the 503 the build adds to every operation (shared/build/openapi-responses.ts). */
const RUNTIME_503 = 'A store the API needs is unavailable, or the server is shutting down';

export function answerChecker(document: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  ajv.addFormat(
    'date-time',
    (text: string) => /^\d{4}-\d\d-\d\dT/.test(text) && !Number.isNaN(Date.parse(text)),
  );
  ajv.addFormat('email', /@/);
  ajv.addFormat('uri', (text: string) => URL.canParse(text));
  ajv.addSchema(document, 'openapi');
  const compiled = new Map<string, ValidateFunction>();
  const validator = (pointer: string) => {
    let validate = compiled.get(pointer);
    if (!validate) {
      validate = ajv.compile({ $ref: `openapi#${pointer}` });
      compiled.set(pointer, validate);
    }
    return validate;
  };

  /**
   * What is wrong with one answer: a 5xx (but a 503 the operation documents, sent with Retry-After: the cap
   * on concurrent password hashes answers so when it is full, and that is the designed answer to load), a
   * 4xx that is not a small problem+json with status, code and requestId, or a 2xx the document does not
   * describe.
   */
  return function answerProblems(operation: Operation, answer: Answer): string[] {
    const { status, headers, bytes } = answer;
    const type = mediaType(headers.get('content-type'));
    const documented: Json | undefined = operation.spec.responses?.[String(status)];
    if (status >= 500) {
      // Every operation documents the runtime's own 503 (a store down, shutting down), which cannot happen here;
      // only a 503 the handler declares itself is the designed answer to load.
      const declared = documented !== undefined && documented.description !== RUNTIME_503;
      const overload = status === 503 && declared && headers.has('retry-after');
      if (!overload) return [`answered ${status}`];
    }
    if (status >= 400) return problemProblems(status, type, headers, bytes);
    if (status < 200 || status >= 300) return [`answered ${status}, neither an error nor a success`];
    if (!documented) return [`answered ${status}, which the document does not list`];
    const content: Json = documented.content ?? {};
    const key = Object.keys(content).find((candidate) => mediaType(candidate) === type);
    if (Object.keys(content).length === 0) {
      return bytes.length === 0 ? [] : [`answered ${status} with a body the document says it has not`];
    }
    if (key === undefined)
      return [`answered ${status} as ${type}, not as ${Object.keys(content).join(' or ')}`];
    if (!type.endsWith('json')) return [];
    const pointer = `/paths/${pointerSegment(operation.path)}/${operation.method.toLowerCase()}/responses/${status}/content/${pointerSegment(key)}/schema`;
    const validate = validator(pointer);
    const body = parse(bytes);
    if (body === undefined) return [`answered ${status} with a body that is not JSON`];
    if (validate(body.value)) return [];
    return (validate.errors ?? []).map((error) => `body${error.instancePath} ${error.message}`);
  };
}

function problemProblems(status: number, type: string, headers: Headers, bytes: Uint8Array): string[] {
  const problems: string[] = [];
  if (type !== 'application/problem+json') problems.push(`a ${status} as ${type || 'no type'}`);
  if (bytes.length > MAX_PROBLEM_BYTES) problems.push(`a ${status} of ${bytes.length} bytes`);
  const body = parse(bytes);
  const problem = body?.value as Json | undefined;
  if (problem === null || typeof problem !== 'object')
    return [...problems, `a ${status} whose body is not a JSON object`];
  if (problem.status !== status) problems.push(`a ${status} whose problem says status ${problem.status}`);
  if (typeof problem.code !== 'string' || problem.code === '') problems.push(`a ${status} without a code`);
  if (typeof problem.requestId !== 'string' || problem.requestId !== headers.get('x-request-id')) {
    problems.push(`a ${status} whose requestId is not its X-Request-Id`);
  }
  return problems;
}

function mediaType(header: string | null | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function parse(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(new TextDecoder().decode(bytes)) };
  } catch {
    return undefined;
  }
}

/** A JSON Pointer segment, URI-encoded too since it goes into a `$ref`. */
function pointerSegment(segment: string): string {
  return encodeURIComponent(segment.replaceAll('~', '~0').replaceAll('/', '~1'));
}
