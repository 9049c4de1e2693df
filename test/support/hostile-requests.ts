import fc from 'fast-check';
import { type Body, bodyOf, plausible } from './hostile-bodies.ts';
import {
  dateText,
  hostileString,
  hostileValue,
  jsonText,
  type Known,
  nastyString,
  numericText,
  rarely,
} from './hostile-values.ts';

// biome-ignore lint/suspicious/noExplicitAny: the generators walk an OpenAPI document of known shape
type Json = Record<string, any>;

/** One operation of an OpenAPI document: its method, its path template and its object. */
export type Operation = { method: string; path: string; spec: Json };

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** Every operation the document publishes, so that a new handler is attacked without editing the test. */
export function operationsOf(document: Json): Operation[] {
  return Object.entries<Json>(document.paths).flatMap(([path, item]) =>
    Object.entries<Json>(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, spec]) => ({ method: method.toUpperCase(), path, spec })),
  );
}

/** Text for a URL: percent-encoded as UTF-8, or `raw` to send broken escapes (`%zz`, an encoded surrogate). */
type UrlPiece = string | { raw: string } | { known: 'noteId' };
type Auth = 'none' | 'valid' | 'lowercase' | 'tampered' | { header: string };
export type HostileInput = {
  auth: Auth;
  path: Record<string, UrlPiece>;
  query: [string, UrlPiece][];
  headers: Record<string, string>;
  body?: Body;
};

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
});
const headerText = fc.oneof(
  { weight: 4, arbitrary: printable },
  { weight: 1, arbitrary: fc.integer({ min: 256, max: 8_000 }).map((n) => 'k'.repeat(n)) },
);
const urlPiece: fc.Arbitrary<UrlPiece> = fc.oneof(
  { weight: 4, arbitrary: fc.oneof(nastyString(), numericText, fc.uuid()) },
  // Node reads at most 16 KiB of request line and headers, so a longer URL never reaches the app.
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 15_000 }).map((n) => 'a'.repeat(n)) },
  // Unencoded slashes make a path no route matches, and a long one is echoed by the 404.
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 7_500 }).map((n) => ({ raw: 'a/'.repeat(n) })) },
  // Opaque values (cursors, tokens) are often base64url: hostile text inside one reaches the decoder.
  {
    weight: 1,
    arbitrary: fc.oneof(nastyString(), dateText).map((text) => Buffer.from(text).toString('base64url')),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '%',
        '%zz',
        '%ED%A0%80',
        '%C0%AF',
        '%2e%2e',
        '%2F',
        '%00',
        '%FF',
        '.',
        '..',
        '',
        'a%2Fb',
        '%u0000',
      )
      .map((raw) => ({ raw })),
  },
  { weight: 1, arbitrary: fc.constant({ known: 'noteId' as const }) },
);
const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 3, arbitrary: fc.constant('valid' as const) },
  { weight: 3, arbitrary: fc.constantFrom('none' as const, 'lowercase' as const, 'tampered' as const) },
  { weight: 1, arbitrary: headerText.map((header) => ({ header })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer a.b.c')
      .map((header) => ({ header })),
  },
);

/** What one request to `operation` may carry: every parameter and the body hostile or plausible, by turns. */
export function hostileInput(operation: Operation): fc.Arbitrary<HostileInput> {
  const params: Json[] = operation.spec.parameters ?? [];
  const named = (where: string) => params.filter((p) => p.in === where).map((p) => p.name as string);
  const path = fc.record(Object.fromEntries(named('path').map((name) => [name, urlPiece])));
  const queryValues = fc.oneof(
    { weight: 4, arbitrary: urlPiece.map((value) => [value]) },
    { weight: 1, arbitrary: fc.array(urlPiece, { minLength: 2, maxLength: 5 }) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 2_000 }).map((n) => Array<UrlPiece>(n).fill('a')) },
  );
  const declared = named('query').map((name) =>
    fc.option(
      queryValues.map((values) => values.map((value): [string, UrlPiece] => [name, value])),
      { nil: [], freq: 3 },
    ),
  );
  const extra = rarely(fc.array(fc.tuple(hostileString, urlPiece), { minLength: 1, maxLength: 3 }), []);
  const query = fc.tuple(fc.tuple(...declared), extra).map(([lists, more]) => [...lists.flat(), ...more]);
  // The declared headers, and those the runtime reads for every route.
  const headerNames = [...named('header'), 'x-request-id', 'x-forwarded-for', 'accept'];
  const headers = fc.record(Object.fromEntries(headerNames.map((name) => [name, headerText])), {
    requiredKeys: [],
  }) as fc.Arbitrary<Record<string, string>>;
  const schema = operation.spec.requestBody?.content?.['application/json']?.schema;
  const bodyless = operation.method === 'GET' || operation.method === 'HEAD';
  const body = bodyless ? fc.constant(undefined) : bodyOf(schema ? plausible(schema) : hostileValue, !schema);
  return fc.record({ auth, path, query, headers, body });
}

/** The URL and init of a request, with the account's values filled in where the input names them. */
export function requestOf(operation: Operation, input: HostileInput, known: Known, token: string) {
  const piece = (value: UrlPiece) =>
    typeof value === 'string' ? encode(value) : 'raw' in value ? value.raw : encode(known.noteId);
  const path = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => piece(input.path[name] ?? ''));
  const query = input.query.map(([name, value]) => `${encode(name)}=${piece(value)}`).join('&');
  const headers: Record<string, string> = { ...input.headers };
  if (input.auth === 'valid') headers.authorization = `Bearer ${token}`;
  if (input.auth === 'lowercase') headers.authorization = `bearer ${token}`;
  if (input.auth === 'tampered') headers.authorization = `Bearer ${tampered(token)}`;
  if (typeof input.auth === 'object') headers.authorization = input.auth.header;
  let body: string | Uint8Array | undefined;
  if (input.body) {
    if (input.body.contentType !== undefined) headers['content-type'] = input.body.contentType;
    const { content } = input.body;
    body =
      'json' in content
        ? jsonText(content.json, known)
        : 'text' in content
          ? content.text
          : Uint8Array.from(content.bytes);
  }
  return { url: query ? `${path}?${query}` : path, init: { method: operation.method, headers, body } };
}

/** The token with one signature character changed: a character well inside, so every one of its bits is signed. */
function tampered(token: string): string {
  const at = token.length - 10;
  return `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
}

/** Percent-encodes UTF-8 (a lone surrogate becomes U+FFFD, as any client sends it). */
function encode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}
