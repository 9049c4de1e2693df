import { type ConversionConfig, toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { checkName, schemasIn, titleOf } from './schema-names.ts';

/** A JSON object: a JSON Schema, or a part of the document that holds one. */
export type Json = Record<string, unknown>;

/**
 * Converts one valibot schema to JSON Schema, as a client sends it (`input`) or receives it (`output`).
 * `context` names the definitions it hoists, such as `PostNotesBody0`.
 */
export type Convert = (schema: v.GenericSchema, mode: 'input' | 'output', context: string) => Json;

/** What a `v.unknown()` or `v.any()` is in a JSON document: any JSON value, said so once. */
export const JSON_VALUE: Json = {
  title: 'JsonValue',
  description: 'Any JSON value: null, a boolean, a number, a string, an array or an object of JSON values.',
  type: ['null', 'boolean', 'number', 'string', 'array', 'object'],
  items: { $ref: '#/components/schemas/JsonValue' },
  additionalProperties: { $ref: '#/components/schemas/JsonValue' },
};

/**
 * Converts valibot schemas to JSON Schema 2020-12, gathering components.schemas as it goes:
 * - a schema named with `v.title('Name')` becomes `#/components/schemas/Name`, referenced wherever it is used (its
 *   input side, where a transform makes it differ from what clients receive, is `NameInput`); two different
 *   schemas under one name are an error naming both files;
 * - the definitions recursive schemas need move there too, named after the context, because a `#/$defs/..`
 *   reference inside the document would resolve against its root;
 * - `v.unknown()` refers to `JsonValue`.
 * `reserved` starts components.schemas, so that nothing else takes one of its names. `at(file)` is `convert` for
 * the schemas of one file, which errors then name.
 */
export function jsonSchemaConverter(reserved: Record<string, Json> = {}): {
  components: Record<string, Json>;
  convert: Convert;
  at(file: string): Convert;
} {
  const components: Record<string, Json> = { ...reserved };
  const owners = new Map<string, string>(Object.keys(reserved).map((name) => [name, 'the runtime']));
  const toJson = (
    schema: v.GenericSchema,
    typeMode: 'input' | 'output',
    definitions?: Record<string, v.GenericSchema>,
  ) => toJsonSchema(schema, { ...config, typeMode, definitions }) as Json;

  const at =
    (file: string): Convert =>
    (schema, typeMode, context) => {
      const definitions: Record<string, v.GenericSchema> = {};
      for (const named of schemasIn(schema, '').keys()) {
        const name = titleOf(named);
        if (!name) continue;
        checkName(name, file);
        // The input side gets a name of its own only where it differs from the output side.
        const differs =
          typeMode === 'input' && !sameJson(toJson(named, 'input', {}), toJson(named, 'output', {}));
        definitions[differs ? `${name}Input` : name] = named;
      }
      const { $schema: _, $defs, ...json } = toJson(schema, typeMode, definitions);
      const defs = Object.entries(($defs ?? {}) as Record<string, Json>);
      const names = new Map(
        defs.map(([key]) => [key, key in definitions ? key : componentName(key, context)]),
      );
      for (const [key, def] of defs) {
        if (key in definitions) continue;
        // A hoisted name that already holds a different schema gets a numbered twin, so none overwrites another.
        const base = names.get(key) as string;
        for (let n = 2; components[names.get(key) as string]; n++) {
          if (sameJson(components[names.get(key) as string], rewriteRefs(def, names))) break;
          names.set(key, `${base}_${n}`);
        }
      }
      for (const [key, def] of defs) {
        const name = names.get(key) as string;
        const component = rewriteRefs(def, names);
        const owner = owners.get(name);
        if (key in definitions && owner !== undefined && !sameJson(components[name], component)) {
          throw new Error(
            `${owner} and ${file} both name a schema ${name}, and the two differ: rename one (v.title), or ` +
              'define it once in shared/ and import it in both',
          );
        }
        components[name] ??= component;
        owners.set(name, owners.get(name) ?? file);
      }
      const converted = rewriteRefs(json, names);
      const written = JSON.stringify([
        converted,
        ...defs.map(([key]) => components[names.get(key) as string]),
      ]);
      if (written.includes('"#/components/schemas/JsonValue"') && !owners.has('JsonValue')) {
        components.JsonValue = JSON_VALUE;
        owners.set('JsonValue', 'the converter (v.unknown())');
      }
      return converted;
    };
  return { components, convert: at('a schema'), at };
}

/** `v.unknown()` and `v.any()` hold any JSON value here; a default computed by a function is no fixed contract. */
const overrideSchema: ConversionConfig['overrideSchema'] = ({ valibotSchema, jsonSchema }) => {
  if (valibotSchema.type === 'unknown' || valibotSchema.type === 'any') {
    return { ...jsonSchema, $ref: '#/components/schemas/JsonValue' };
  }
  // A computed default (a time, an id) would make builds differ.
  if (typeof (valibotSchema as { default?: unknown }).default !== 'function') return undefined;
  const { default: _, ...rest } = jsonSchema;
  return rest;
};

const config: ConversionConfig = { target: 'draft-2020-12', errorMode: 'ignore', overrideSchema };

function rewriteRefs(value: Json, names: Map<string, string>): Json {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, child]) => {
        const local = key === '$ref' && typeof child === 'string' && child.startsWith('#/$defs/');
        const name = local ? names.get(child.slice('#/$defs/'.length)) : undefined;
        return [key, name ? `#/components/schemas/${name}` : walk(child)];
      }),
    );
  };
  return walk(value) as Json;
}

function componentName(key: string, context: string): string {
  return (/^\d+$/.test(key) ? `${context}${key}` : key).replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Whether two JSON values are the same, key order included (both sides come from one converter). */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
