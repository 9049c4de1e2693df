import type * as v from 'valibot';
import type { AnyHandler } from '../runtime/http/handler.ts';
import type { Convert, Json } from './json-schema.ts';
import { documentedParameters } from './parameter-numbers.ts';

type ParameterRoute = { file: string; path: string; pathNames: string[]; definition: AnyHandler };

// OpenAPI ignores header parameters of these names: content types and security describe them.
const IGNORED_HEADERS = ['accept', 'content-type', 'authorization'];

/** An operation's path, query and header parameters, from its params, query and headers schemas. */
export function describeParameters(route: ParameterRoute, convert: Convert, context: string): Json[] {
  const { definition: d, file } = route;
  const input = (schema: v.GenericSchema | undefined, part: string, where: string) =>
    schema && convert(documentedParameters(schema, file, where), 'input', `${context}${part}`);
  return [
    ...pathParameters(route, input(d.params, 'Params', 'param')),
    ...objectParameters('query', input(d.query, 'Query', 'query'), file),
    ...objectParameters('header', input(d.headers, 'Headers', 'header'), file).filter(
      (p) => !IGNORED_HEADERS.includes(String(p.name).toLowerCase()),
    ),
  ];
}

function pathParameters(route: ParameterRoute, json: Json | undefined): Json[] {
  const properties = (json?.properties ?? {}) as Record<string, Json>;
  const extra = Object.keys(properties).filter((name) => !route.pathNames.includes(name));
  if (extra.length > 0) throw new Error(`${route.file}: params ${extra.join(', ')} are not in ${route.path}`);
  // OpenAPI requires every path parameter; one the schema leaves out is still a string.
  return route.pathNames.map((name) => parameter(name, 'path', true, properties[name] ?? { type: 'string' }));
}

function objectParameters(where: 'query' | 'header', json: Json | undefined, file: string): Json[] {
  if (!json) return [];
  const properties = json.properties as Record<string, Json> | undefined;
  if (!properties) throw new Error(`${file}: the ${where} schema must be a valibot object`);
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, schema]) =>
    parameter(name, where, required.has(name), schema),
  );
}

function parameter(name: string, where: string, required: boolean, schema: Json): Json {
  const description = typeof schema.description === 'string' ? schema.description : undefined;
  const parameter: Json = { name, in: where, description, required, schema };
  if (description === undefined) delete parameter.description;
  return parameter;
}
