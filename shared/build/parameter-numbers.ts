import * as v from 'valibot';

type Item = { kind: string; type: string; examples?: unknown[] } & Record<string, unknown>;
type Node = v.GenericSchema & {
  pipe?: Item[];
  entries?: Record<string, Node>;
  wrapped?: Node;
  default?: unknown;
};

const WRAPPERS = ['optional', 'exact_optional', 'nullish', 'undefinedable'];
const METADATA = ['description', 'title', 'metadata'];

/**
 * The schema of a parameters object (params, query or headers) as the document describes it. A parameter is
 * text on the wire, but one whose pipe turns that text into a number (`v.toNumber()`, or a transform followed by
 * `v.number()`) is described by the number the handler gets: what follows the conversion (`v.number()`,
 * `v.integer()`, `v.minValue()`, ...), with its description, and its default and examples run through the
 * parameter's own schema (`'20'` is documented as `20`). The result is only converted, never used to validate.
 */
export function documentedParameters(schema: v.GenericSchema, file: string, where: string): v.GenericSchema {
  const node = schema as Node;
  const entries = node.entries ?? (node.pipe?.[0] as Node | undefined)?.entries;
  if (!entries) return schema;
  let changed = false;
  const documented = Object.fromEntries(
    Object.entries(entries).map(([name, entry]) => {
      const number = numberSide(entry, `${file}: ${where} ${name}`);
      changed ||= number !== entry;
      return [name, number];
    }),
  );
  if (!changed) return schema;
  if (!node.pipe) return { ...node, entries: documented } as v.GenericSchema;
  const [root, ...rest] = node.pipe;
  return {
    ...node,
    entries: documented,
    pipe: [{ ...root, entries: documented }, ...rest],
  } as v.GenericSchema;
}

function numberSide(entry: Node, where: string): Node {
  const wrapped = WRAPPERS.includes(entry.type) && entry.wrapped;
  if (wrapped) {
    const inner = numberSide(wrapped, where);
    if (inner === wrapped) return entry;
    const { default: fallback } = entry;
    // A computed default stays a function (the converter leaves those out); a fixed one is parsed like a value.
    const value =
      typeof fallback === 'function' || fallback === undefined ? fallback : parsed(entry, fallback, where);
    return { ...entry, wrapped: inner, default: value } as Node;
  }
  const pipe = entry.pipe;
  if (pipe?.[0]?.type !== 'string') return entry;
  const at = pipe.findIndex(
    (item, index) =>
      item.type === 'to_number' || (index > 0 && item.kind === 'schema' && item.type === 'number'),
  );
  if (at === -1) return entry;
  let after = pipe.slice(at + 1);
  // A v.number() right after v.toNumber() is the number schema this side starts with anyway.
  if (pipe[at]?.type === 'to_number' && after[0]?.kind === 'schema' && after[0].type === 'number') {
    after = after.slice(1);
  }
  // Another conversion after the number: the document keeps to the text clients send.
  if (after.some((item) => item.kind === 'schema' || item.kind === 'transformation')) return entry;
  const before = pipe.slice(1, at).flatMap((item): Item[] => {
    if (METADATA.includes(item.type)) return [item];
    if (item.type !== 'examples') return [];
    return [
      v.examples((item.examples ?? []).map((example) => parsed(entry, example, where))) as unknown as Item,
    ];
  });
  return v.pipe(v.number(), ...(before as []), ...(after as [])) as unknown as Node;
}

function parsed(schema: v.GenericSchema, value: unknown, where: string): unknown {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  throw new Error(`${where}: its default or example ${JSON.stringify(value)} does not pass its own schema`);
}
