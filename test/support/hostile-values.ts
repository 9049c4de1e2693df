import fc from 'fast-check';

/** Values that only exist once the test has signed in, resolved when a request is built. */
export type Known = { password: string; refreshToken: string; noteId: string };

/**
 * A JSON value to send, in a form that can hold what JSON.stringify cannot write: raw number text (`-0`,
 * `1e400`, 30-digit integers), megabyte-sized arrays and 100,000-deep nesting as ready text, `__proto__` as
 * a plain key, and a reference to a value of the signed-in account.
 */
export type JsonNode =
  | string
  | number
  | boolean
  | null
  | { raw: string }
  | { known: keyof Known }
  | JsonNode[]
  | { entries: [string, JsonNode][] };

/** The text of a node as a request body carries it. Lone surrogates come out as `\ud800` escapes. */
export function jsonText(node: JsonNode, known: Known): string {
  if (Array.isArray(node)) return `[${node.map((item) => jsonText(item, known)).join(',')}]`;
  if (node === null || typeof node !== 'object') return JSON.stringify(node) ?? 'null';
  if ('raw' in node) return node.raw;
  if ('known' in node) return JSON.stringify(known[node.known]);
  return `{${node.entries.map(([key, value]) => `${JSON.stringify(key)}:${jsonText(value, known)}`).join(',')}}`;
}

/** Characters that have broken servers: NUL, lone and reversed surrogates, BOM, bidi overrides, escapes. */
const nastyUnit = fc.oneof(
  fc.constantFrom('\u0000', '\ud800', '\udfff', '\udc00\ud800', '\uffff', '\ufeff', '\u202e', '\u0001', '😀'),
  fc.constantFrom(
    '%00',
    '%',
    '..',
    '/',
    '\\',
    "'",
    '"',
    '`',
    '$' + '{x}',
    '<script>',
    '\r\n',
    ' ',
    'é',
    'Ａ',
  ),
  fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
);

/** Strings that read as something else: numbers out of range, literals, padded digits. */
export const numericText = fc.constantFrom(
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  '1e400',
  '9007199254740993',
  '123456789012345678901234567890',
  '-1',
  '0x10',
  ' 5',
  '5 ',
  '1_000',
  '',
  'null',
  'true',
  '[]',
  '{}',
);

/** Times that parse in one place and not another: out of range, impossible days, Postgres's special words. */
export const dateText = fc
  .tuple(
    fc.constantFrom(
      '9999-12-31T23:59:59',
      '10000-01-01T00:00:00',
      '2026-02-30T00:00:00',
      '0000-01-01T00:00:00',
      '2026-03-14T24:00:00',
      'infinity',
      '-infinity',
      'epoch',
      'now',
      '2026-03-14 09:26:53+99',
    ),
    fc.constantFrom('', '.589123Z', 'Z', '.000000Z,0f8e4b1e-4a3c-4d2b-9f61-2c7d5e8a9b10'),
  )
  .map(([time, rest]) => `${time}${rest}`);

/** A string of hostile characters, of any length up to `maxLength`. */
export const nastyString = (minLength = 0, maxLength = 40) =>
  fc.string({ unit: nastyUnit, minLength, maxLength });

/** A string far past any field's limit (up to 300,000 characters, 600 KB as UTF-8), still under the body limit. */
export const overlongString = fc
  .tuple(fc.integer({ min: 201, max: 300_000 }), fc.constantFrom('x', 'é', '\u0000'))
  .map(([length, char]) => char.repeat(length));

/** Any hostile string, a UUID-shaped one included so that id checks are passed now and then. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: nastyString() },
  { weight: 2, arbitrary: numericText },
  { weight: 1, arbitrary: dateText },
  { weight: 1, arbitrary: overlongString },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.uuid().map((id) => `${id}\u0000`) },
);

/** Numbers at and past the edges, some only expressible as raw JSON text. */
const hostileNumber: fc.Arbitrary<JsonNode> = fc.oneof(
  fc.constantFrom(1e308, -1e308, 0, -1, 1.5, 2 ** 53 + 2, Number.MIN_VALUE, 2 ** 31),
  fc
    .constantFrom('-0', '1e400', '-1e400', '1e-400', '123456789012345678901234567890', '1E+2', '-0.0')
    .map((raw) => ({ raw })),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Keys that poison prototypes, collide with real fields, or hold NUL. */
export const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '', '\u0000', 'a.b', '$where', 'id'),
  nastyString(1, 20),
  // Control characters and lone surrogates take 6 bytes each in JSON: a named field costs more than it reads.
  fc.integer({ min: 200, max: 2_000 }).map((n) => '\u0001\ud800'.repeat(n / 2)),
);

/** Arrays tens of thousands long, nesting thousands deep, objects of thousands of keys: as ready text. */
export const hugeValue: fc.Arbitrary<JsonNode> = fc.oneof(
  fc
    .tuple(fc.integer({ min: 21, max: 60_000 }), fc.constantFrom('0', '"a"', 'null', '{}', '[]', '"\\u0000"'))
    .map(([length, item]) => ({ raw: `[${Array(length).fill(item).join(',')}]` })),
  fc
    .tuple(fc.integer({ min: 20, max: 100_000 }), fc.constantFrom(['[', ']'], ['{"a":', '}']))
    .map(([depth, [open, close]]) => ({ raw: `${open.repeat(depth)}1${close.repeat(depth)}` })),
  fc
    .integer({ min: 100, max: 30_000 })
    .map((count) => ({ raw: `{${Array.from({ length: count }, (_, i) => `"k${i}":${i}`).join(',')}}` })),
);

/** Any JSON value of a wrong or surprising type, nested a few levels. */
export const hostileValue: fc.Arbitrary<JsonNode> = fc.letrec<{ value: JsonNode }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 }).map((entries) => ({ entries })),
  ),
})).value;

/** `arbitrary` one time in five, `otherwise` the rest: for what would hide every other mistake if always sent. */
export function rarely<T>(arbitrary: fc.Arbitrary<T>, otherwise: T): fc.Arbitrary<T> {
  return fc.oneof({ weight: 4, arbitrary: fc.constant(otherwise) }, { weight: 1, arbitrary });
}
