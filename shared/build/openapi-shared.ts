import type * as v from 'valibot';
import { HttpError, problemBody } from '../runtime/errors.ts';
import type { Route } from '../runtime/http/app.ts';
import { type ResponseSpec, responseSchema } from '../runtime/http/handler.ts';
import type { NamedTask } from '../runtime/jobs/queue.ts';
import type { Json } from './json-schema.ts';
import { schemasIn } from './schema-names.ts';

/** Every schema each operation and task uses, by file, for the check that shared objects have names. */
export function schemaUses(
  routes: Route[],
  tasks: (NamedTask & { file?: string })[],
): { file: string; schemas: Map<v.GenericSchema, string> }[] {
  const uses = routes.map(({ file, definition: d }) => {
    const parts: [string, v.GenericSchema | undefined][] = [
      ['params', d.params],
      ['query', d.query],
      ['headers', d.headers],
      ['body', d.body],
      ...Object.entries<ResponseSpec>(d.responses ?? {}).map(
        ([status, spec]) =>
          [`response ${status}`, responseSchema(spec)] as [string, v.GenericSchema | undefined],
      ),
    ];
    const schemas = new Map<v.GenericSchema, string>();
    for (const [where, schema] of parts) {
      if (!schema) continue;
      for (const [found, at] of schemasIn(schema, where)) if (!schemas.has(found)) schemas.set(found, at);
    }
    return { file, schemas };
  });
  const payloads = tasks.map(({ name, file, definition }) => ({
    file: file ?? `the task ${name}`,
    schemas: schemasIn(definition.payload, 'payload'),
  }));
  return [...uses, ...payloads];
}

/**
 * The document's tags, each with a description: the app's (ApiInfo.tags), or else the paths its operations
 * serve, so that a reader always learns what a tag holds.
 */
export function documentedTags(
  names: string[],
  descriptions: Record<string, string>,
  paths: Record<string, Record<string, Json>>,
): Json[] {
  return names.map((name) => {
    const served = Object.entries(paths)
      .filter(([, item]) =>
        Object.values(item).some((operation) => (operation.tags as string[])?.includes(name)),
      )
      .map(([path]) => path);
    return { name, description: descriptions[name] ?? `Operations on ${served.join(', ')}.` };
  });
}

/**
 * The problem schema with a real example: what the runtime's own problemBody makes of the 404 for a path no route
 * serves, so that the docs page shows an answer as it comes, not placeholders.
 */
export function namedProblemSchemas(schemas: Record<string, Json>): Record<string, Json> {
  const { Problem } = schemas;
  if (!Problem) return schemas;
  const example = problemBody(
    HttpError.notFound('No route matches GET /no-such-path.'),
    '7d0c6a2e-1f4b-4c8a-9e3d-5b2a8f6c1d09',
    '/no-such-path',
  );
  return { ...schemas, Problem: { ...Problem, examples: [example] } };
}
