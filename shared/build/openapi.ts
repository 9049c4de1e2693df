import type * as v from 'valibot';
import type { ApiInfo } from '../runtime/app.ts';
import type { Route } from '../runtime/http/app.ts';
import { HTTP_METHODS } from '../runtime/http/methods.mjs';
import type { NamedTask } from '../runtime/jobs/queue.ts';
import { compare } from './discovery.mjs';
import { type Convert, type Json, jsonSchemaConverter, sameJson } from './json-schema.ts';
import { describeParameters } from './openapi-parameters.ts';
import { describeResponses, mediaTypeOf, problemSchemas, runtimeHeaders } from './openapi-responses.ts';
import { documentedTags, namedProblemSchemas, schemaUses } from './openapi-shared.ts';
import { unnamedSharedObjects } from './schema-names.ts';

type TemplatedRoute = Route & { template: string; pathNames: string[] };

/** What the build knows about the app: its API's info, every route with its file, and every task. */
export type OpenApiInput = Required<Pick<ApiInfo, 'title' | 'version'>> &
  Pick<ApiInfo, 'description' | 'servers' | 'tags' | 'contact' | 'license'> & {
    routes: Route[];
    /** `file` names the task's file in errors. */
    tasks: (NamedTask & { file?: string })[];
  };

/**
 * What every operation of this runtime shares, said once for the reader of the document: the answers that belong
 * to no operation (405, OPTIONS) cannot be listed under one.
 */
const RUNTIME_CONVENTIONS =
  'Every error is `application/problem+json` (RFC 9457) with a `code` and the `requestId`; every answer carries ' +
  "`X-Request-Id` (the caller's own, when well formed). A known path asked with a method it does not serve " +
  'answers 405 with `Allow`; `OPTIONS` answers 204 with `Allow`. 429 and 503 carry `Retry-After`.';

// The order of a path item's operations in the output.
const METHODS: readonly string[] = HTTP_METHODS;

/**
 * Builds the OpenAPI 3.1 document of the app, with the task contract under `x-tasks`. The output depends
 * on the input's content only, not its order. Throws, naming the file, for a route OpenAPI cannot describe
 * and for an object schema several operations share without a name (see schema-names.ts).
 */
export function openApiDocument(input: OpenApiInput): Json {
  const { components, at } = jsonSchemaConverter(namedProblemSchemas(problemSchemas()));
  const securitySchemes: Record<string, Json> = {};
  const paths: Record<string, Record<string, Json>> = {};
  const owners = new Map<string, string>();
  const shapes = new Map<string, { template: string; file: string }>();
  const operationIds = new Set<string>();
  const tags = new Set<string>();

  const routes: TemplatedRoute[] = input.routes
    .map((route) => ({
      ...route,
      method: route.method.toLowerCase(),
      ...openApiPath(route.path, route.file),
    }))
    .sort((a, b) => compare(a.template, b.template) || METHODS.indexOf(a.method) - METHODS.indexOf(b.method));
  for (const route of routes) {
    const { method, template, file, definition } = route;
    if (!METHODS.includes(method))
      throw new Error(`${file}: OpenAPI has no ${method.toUpperCase()} operation`);
    const owner = owners.get(`${method} ${template}`);
    if (owner) throw new Error(`${owner} and ${file} both serve ${method.toUpperCase()} ${template}`);
    owners.set(`${method} ${template}`, file);
    // OpenAPI takes /notes/{id} and /notes/{noteId} for one path, so their routes must name the parameter alike.
    const shape = template.replace(/\{[^}]*\}/g, '{}');
    const twin = shapes.get(shape) ?? { template, file };
    if (twin.template !== template) {
      throw new Error(
        `${twin.file} and ${file}: name the parameters of ${twin.template} and ${template} alike`,
      );
    }
    shapes.set(shape, twin);

    const operation = describeOperation(
      route,
      uniqueId(operationId(method, template), operationIds),
      at(file),
    );
    for (const tag of (operation.tags as string[] | undefined) ?? []) tags.add(tag);
    if (definition.auth) {
      const { name, openapi } = definition.auth;
      if (securitySchemes[name] && !sameJson(securitySchemes[name], openapi)) {
        throw new Error(`${file}: another auth scheme is also named ${name}`);
      }
      securitySchemes[name] = { ...openapi };
    }
    paths[template] = { ...paths[template], [method]: operation };
  }

  const tasks = [...input.tasks].sort((a, b) => compare(a.name, b.name));
  const xTasks = tasks.map(({ name, file, definition: task }, index) => {
    if (tasks[index + 1]?.name === name) throw new Error(`Two tasks are named ${name}`);
    return withoutUndefined({
      name,
      description: task.description,
      payload: at(file ?? `the task ${name}`)(task.payload, 'input', `Task${pascal(name)}Payload`),
      retries: task.retries,
      backoff: { strategy: task.backoff.strategy, delayMs: task.backoff.delayMs },
      timeoutMs: task.timeoutMs,
      concurrency: task.concurrency,
      schedule: task.schedule,
    });
  });

  const unnamed = unnamedSharedObjects(schemaUses(input.routes, input.tasks));
  if (unnamed.length > 0) throw new Error(unnamed.join('\n'));

  return withoutUndefined({
    openapi: '3.1.0',
    info: withoutUndefined({
      title: input.title,
      version: input.version,
      description: [input.description, RUNTIME_CONVENTIONS].filter(Boolean).join('\n\n'),
      contact: input.contact,
      license: input.license,
    }),
    // Relative to where the document is served, unless the app names its servers.
    servers: input.servers ?? [{ url: '/' }],
    tags: tags.size > 0 ? documentedTags([...tags].sort(compare), input.tags ?? {}, paths) : undefined,
    paths,
    components: withoutUndefined({
      schemas: sortKeys(components),
      headers: runtimeHeaders(),
      securitySchemes: Object.keys(securitySchemes).length > 0 ? sortKeys(securitySchemes) : undefined,
    }),
    'x-tasks': xTasks,
  });
}

function describeOperation(route: TemplatedRoute, id: string, convert: Convert): Json {
  const { definition: d, file } = route;
  const context = pascal(id);
  const input = (schema: v.GenericSchema | undefined, part: string) =>
    schema && convert(schema, 'input', `${context}${part}`);
  const firstStatic = route.template.split('/').find((segment) => segment !== '' && !segment.startsWith('{'));
  const tags = d.tags ?? (firstStatic ? [firstStatic] : []);
  const parameters = describeParameters(route, convert, context);
  const body = input(d.body, 'Body');
  return withoutUndefined({
    operationId: id,
    summary: d.summary,
    description: d.description,
    tags: tags.length > 0 ? [...tags] : undefined,
    parameters: parameters.length > 0 ? parameters : undefined,
    requestBody: body && { required: true, content: { [mediaTypeOf(d)]: { schema: body } } },
    responses: describeResponses(
      d,
      { file, context, hasPathParameters: route.pathNames.length > 0 },
      convert,
    ),
    // A public operation says so: with no `security` at all, a reader cannot tell it from an omission.
    security: d.auth ? [{ [d.auth.name]: [] }] : [],
  });
}

function openApiPath(path: string, file: string): { template: string; pathNames: string[] } {
  const pathNames: string[] = [];
  // Hono's `:name`, `:name{regex}` (allowing one level of braces inside) and `:name?`.
  const template = path.replace(
    /:([^/{}?]+)(\{(?:[^{}]|\{[^{}]*\})*\})?(\?)?/g,
    (_, name: string, _re, optional) => {
      if (optional) throw new Error(`${file}: OpenAPI cannot describe the optional parameter :${name}?`);
      pathNames.push(name);
      return `{${name}}`;
    },
  );
  if (template.includes('*')) throw new Error(`${file}: OpenAPI cannot describe the wildcard in ${path}`);
  return { template, pathNames };
}

function operationId(method: string, template: string): string {
  const words = template.split('/').map((part) => (part.startsWith('{') ? `by-${part.slice(1, -1)}` : part));
  const name = pascal(words.join('-'));
  return method + (name || 'Root');
}

function uniqueId(id: string, taken: Set<string>): string {
  let unique = id;
  for (let n = 2; taken.has(unique); n++) unique = `${id}${n}`;
  taken.add(unique);
  return unique;
}

function pascal(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

function withoutUndefined(object: Json): Json {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

function sortKeys<T>(object: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => compare(a, b)));
}
