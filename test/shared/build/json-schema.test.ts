import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { jsonSchemaConverter } from '#shared/build/json-schema.ts';
import { structuralProblems } from '../../support/openapi-checks.ts';

// biome-ignore lint/suspicious/noExplicitAny: the tests walk JSON Schema of known shape
type Json = Record<string, any>;

type Tree = { name: string; children: Tree[] };
const TreeSchema: v.GenericSchema<Tree> = v.object({
  name: v.string(),
  children: v.array(v.lazy(() => TreeSchema)),
});
type Chain = { next?: Chain };
const ChainSchema: v.GenericSchema<Chain> = v.object({ next: v.optional(v.lazy(() => ChainSchema)) });

/** A document holding only converted schemas and their components, for the structural checks. */
const documentOf = (components: Json, schemas: Json[]) => ({
  paths: {},
  components: { schemas: components },
  'x-schemas': schemas,
});

describe('jsonSchemaConverter', () => {
  it('converts the side asked for: what a client sends, or what it receives', () => {
    const { convert } = jsonSchemaConverter();
    const limit = v.pipe(v.string(), v.transform(Number), v.number(), v.minValue(1));
    expect(convert(limit, 'input', 'Limit')).toEqual({ type: 'string' });
    expect(convert(limit, 'output', 'Limit')).toEqual({ type: 'number', minimum: 1 });
  });

  it('leaves out $schema, which has no place inside a document', () => {
    const { convert } = jsonSchemaConverter();
    const json = convert(v.object({ title: v.pipe(v.string(), v.minLength(1)) }), 'input', 'Body');
    expect(json.$schema).toBeUndefined();
    expect(json).toEqual({
      type: 'object',
      properties: { title: { type: 'string', minLength: 1 } },
      required: ['title'],
    });
  });

  it('drops defaults computed by a function, which would differ from build to build', () => {
    const { convert } = jsonSchemaConverter();
    const query = v.object({
      limit: v.optional(v.string(), '20'),
      since: v.optional(v.string(), () => new Date().toISOString()),
    });
    const json = convert(query, 'input', 'Query') as Json;
    expect(json.properties.since).toEqual({ type: 'string' });
    expect(json.properties.limit).toEqual({ type: 'string', default: '20' });
  });

  it('moves recursive definitions to components.schemas, named after the context', () => {
    const { components, convert } = jsonSchemaConverter();
    const schema = convert(TreeSchema, 'input', 'PostTreesBody') as Json;
    expect(schema.$defs).toBeUndefined();
    expect(schema.properties.children.items.$ref).toMatch(/^#\/components\/schemas\//);
    expect(schema.properties.children.items.$ref).toBe('#/components/schemas/PostTreesBody0');
    expect((components as Json).PostTreesBody0.properties.children.items.$ref).toBe(
      '#/components/schemas/PostTreesBody0',
    );
    expect(structuralProblems(documentOf(components, [schema]))).toEqual([]);
  });

  it('makes a context with other characters into a valid component name', () => {
    const { components, convert } = jsonSchemaConverter();
    convert(TreeSchema, 'input', 'Task a/b:');
    expect(Object.keys(components)).toEqual(['Task_a_b_0']);
  });

  it('keeps the reserved components, and gives a different definition under a taken name a numbered twin', () => {
    const reserved = { Problem: { type: 'object' } };
    const { components, convert } = jsonSchemaConverter(reserved);
    const trees = [convert(TreeSchema, 'input', 'Body'), convert(TreeSchema, 'input', 'Body')] as Json[];
    const chain = convert(ChainSchema, 'input', 'Body') as Json;
    expect(Object.keys(components)).toEqual(['Problem', 'Body0', 'Body0_2']);
    expect(components.Problem).toEqual({ type: 'object' });
    expect(Object.keys(reserved)).toEqual(['Problem']);
    expect(trees[1]).toEqual(trees[0]);
    expect(chain.properties.next.$ref).toBe('#/components/schemas/Body0_2');
    expect(structuralProblems(documentOf(components, [...trees, chain]))).toEqual([]);
  });
});
