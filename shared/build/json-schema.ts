import { type ConversionConfig, toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';

/** A JSON object: a JSON Schema, or a part of the document that holds one. */
export type Json = Record<string, unknown>;

/**
 * Converts one valibot schema to JSON Schema, as a client sends it (`input`) or receives it (`output`).
 * `context` names the definitions it hoists, such as `PostNotesBody0`.
 */
export type Convert = (schema: v.GenericSchema, mode: 'input' | 'output', context: string) => Json;

/**
 * Converts valibot schemas to JSON Schema 2020-12. The definitions recursive schemas need move to
 * components.schemas, because a `#/$defs/..` reference inside the document would resolve against its root.
 * `reserved` starts components.schemas, so that no hoisted definition takes one of its names.
 */
export function jsonSchemaConverter(reserved: Record<string, Json> = {}): {
  components: Record<string, Json>;
  convert: Convert;
} {
  const components: Record<string, Json> = { ...reserved };
  const convert: Convert = (schema, typeMode, context) => {
    const config: ConversionConfig = {
      target: 'draft-2020-12',
      errorMode: 'ignore',
      typeMode,
      overrideSchema,
    };
    const { $schema: _, $defs, ...json } = toJsonSchema(schema, config) as Json;
    const defs = Object.entries(($defs ?? {}) as Record<string, Json>);
    const names = new Map(defs.map(([key]) => [key, componentName(key, context)]));
    // A name that already holds a different schema gets a numbered twin, so no definition overwrites another.
    for (const [key, def] of defs) {
      const base = names.get(key) as string;
      for (let n = 2; components[names.get(key) as string]; n++) {
        if (sameJson(components[names.get(key) as string], rewriteRefs(def, names))) break;
        names.set(key, `${base}_${n}`);
      }
    }
    for (const [key, def] of defs) components[names.get(key) as string] ??= rewriteRefs(def, names);
    return rewriteRefs(json, names);
  };
  return { components, convert };
}

// A default computed by a function (a time, an id) is no fixed contract, and would make builds differ.
const overrideSchema: ConversionConfig['overrideSchema'] = ({ valibotSchema, jsonSchema }) => {
  if (typeof (valibotSchema as { default?: unknown }).default !== 'function') return undefined;
  const { default: _, ...rest } = jsonSchema;
  return rest;
};

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
