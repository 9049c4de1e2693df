import fc from 'fast-check';
import { hostileKey, hostileValue, hugeValue, type JsonNode, nastyString, rarely } from './hostile-values.ts';

// biome-ignore lint/suspicious/noExplicitAny: the generators walk JSON Schemas of known shape
type Json = Record<string, any>;

/** A request body: its Content-Type (none when undefined) and what it holds. */
export type Body = {
  contentType?: string;
  content: { json: JsonNode } | { text: string } | { bytes: readonly number[] };
};

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/jsonx',
  'application/vnd.api+json',
  '',
  '*/*',
];
const notJson = fc.oneof(
  fc.constantFrom(
    '{',
    '{"title":',
    'undefined',
    'NaN',
    "{'a':1}",
    '<a/>',
    'a=b&c=d',
    '\ufeff{}',
    '[1,]',
    '{}{}',
  ),
  fc.string({ unit: 'binary' }),
);
const badBytes = fc.oneof(
  fc.constantFrom(
    [0xff, 0xfe, 0xfd],
    [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d],
    [0xed, 0xa0, 0x80],
  ),
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }),
);

/** A body: mostly JSON as JSON, sometimes JSON under another type, text that is not JSON, bad UTF-8, nothing. */
export function bodyOf(payload: fc.Arbitrary<JsonNode>, optional: boolean): fc.Arbitrary<Body | undefined> {
  const contentType = fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined });
  return fc.oneof(
    {
      weight: optional ? 1 : 8,
      arbitrary: payload.map((json) => ({ contentType: 'application/json', content: { json } })),
    },
    { weight: 1, arbitrary: fc.record({ contentType, content: payload.map((json) => ({ json })) }) },
    { weight: 1, arbitrary: fc.record({ contentType, content: notJson.map((text) => ({ text })) }) },
    {
      weight: 1,
      arbitrary: badBytes.map((bytes) => ({ contentType: 'application/json', content: { bytes } })),
    },
    { weight: optional ? 8 : 1, arbitrary: fc.constant(undefined) },
  );
}

/**
 * A value for a JSON Schema: sometimes one it allows (its examples, its enum, strings of nasty characters
 * within its lengths, the account's own values), so that requests get past validation into the handler;
 * otherwise a hostile one, of a wrong type or a huge size.
 */
export function plausible(schema: Json): fc.Arbitrary<JsonNode> {
  const allowed: fc.Arbitrary<JsonNode>[] = [];
  if (schema.examples?.length) allowed.push(fc.constantFrom(...schema.examples.map(fromJson)));
  if (schema.enum?.length) allowed.push(fc.constantFrom(...schema.enum.map(fromJson)));
  if (schema.anyOf?.length) allowed.push(...schema.anyOf.map(plausible));
  if (schema.type === 'string') {
    const min = schema.minLength ?? 0;
    const max = schema.maxLength ?? 1_000;
    allowed.push(
      nastyString(min, Math.max(min, Math.min(max, 64))),
      fc.constantFrom('x'.repeat(max), 'x'.repeat(max + 1)),
    );
    allowed.push(
      fc.constantFrom<JsonNode>({ known: 'password' }, { known: 'refreshToken' }, { known: 'noteId' }),
    );
    if (schema.format === 'email')
      allowed.push(
        fc.emailAddress(),
        nastyString(1, 20).map((local) => `${local}@example.test`),
      );
  }
  if (schema.type === 'array') {
    allowed.push(fc.array(plausible(schema.items ?? {}), { maxLength: Math.min(schema.maxItems ?? 5, 25) }));
  }
  if (schema.type === 'integer' || schema.type === 'number') {
    allowed.push(fc.integer({ min: schema.minimum ?? -10, max: schema.maximum ?? 1_000 }));
  }
  if (schema.type === 'object') allowed.push(shapedObject(schema));
  const hostile = fc.oneof(hostileValue, hugeValue);
  if (allowed.length === 0) return hostile;
  return fc.oneof({ weight: 3, arbitrary: fc.oneof(...allowed) }, { weight: 1, arbitrary: hostile });
}

/** An object with the schema's fields, each plausible, hostile or left out, and now and then fields it lacks. */
function shapedObject(schema: Json): fc.Arbitrary<JsonNode> {
  const fields = Object.entries<Json>(schema.properties ?? {}).map(([name, property]) =>
    fc.option(
      plausible(property).map((value): [string, JsonNode] => [name, value]),
      { nil: undefined, freq: 6 },
    ),
  );
  const extra = rarely(fc.array(fc.tuple(hostileKey, hostileValue), { minLength: 1, maxLength: 40 }), []);
  return fc
    .tuple(fc.tuple(...fields), extra)
    .map(([chosen, more]) => ({ entries: [...chosen.filter((field) => field !== undefined), ...more] }));
}

function fromJson(value: unknown): JsonNode {
  if (Array.isArray(value)) return value.map(fromJson);
  if (value !== null && typeof value === 'object') {
    return { entries: Object.entries(value).map(([key, item]) => [key, fromJson(item)]) };
  }
  return value as JsonNode;
}
