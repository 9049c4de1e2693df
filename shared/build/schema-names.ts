import type * as v from 'valibot';

/** A valibot schema seen as data: its kind, type, pipe and children. */
type Node = v.GenericSchema & {
  pipe?: readonly { kind: string; type: string; title?: string }[];
  entries?: Record<string, Node>;
  rest?: Node;
  item?: Node;
  items?: Node[];
  options?: Node[];
  wrapped?: Node;
  key?: Node;
  value?: Node;
  getter?: (input: unknown) => Node;
};

/** What component names may hold, in the document and in the identifiers a client generator makes of them. */
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const OBJECTS = ['object', 'loose_object', 'strict_object', 'object_with_rest'];

/**
 * The name a developer gives a schema with `v.pipe(schema, v.title('Name'))`: it becomes
 * `#/components/schemas/Name`. Only the schema's own pipe counts, not a pipe it wraps.
 */
export function titleOf(schema: v.GenericSchema): string | undefined {
  const pipe = (schema as Node).pipe ?? [];
  return pipe.find((item) => item.kind === 'metadata' && item.type === 'title')?.title;
}

/** Refuses a title that cannot be a component name, saying what would do. */
export function checkName(name: string, file: string): void {
  if (!NAME.test(name)) {
    throw new Error(
      `${file}: v.title('${name}') names a schema component, so it must be an identifier such as NotePage ` +
        '(a letter, then letters, digits or _); put words for readers in v.description(...)',
    );
  }
}

/**
 * Every schema inside `root` (itself included) with the place it is first met, e.g. `body.items[]`. The root of a
 * pipe is the pipe itself (it spreads its root's fields), so an unnamed pipe root is not met twice.
 */
export function schemasIn(root: v.GenericSchema, where: string): Map<v.GenericSchema, string> {
  const seen = new Map<v.GenericSchema, string>();
  const walk = (node: Node, at: string) => {
    if (seen.has(node)) return;
    seen.set(node, at);
    for (const [index, item] of (node.pipe ?? []).entries()) {
      const schema = item as unknown as Node;
      if (schema.kind === 'schema' && (index > 0 || titleOf(schema))) walk(schema, at);
    }
    for (const [key, child] of Object.entries(node.entries ?? {})) walk(child, `${at}.${key}`);
    for (const child of [node.item, node.rest, node.value].filter(isNode)) walk(child, `${at}[]`);
    for (const child of [...(node.items ?? []), ...(node.options ?? [])]) walk(child, at);
    if (node.wrapped) walk(node.wrapped, at);
    if (node.key) walk(node.key, `${at}{}`);
    if (node.type === 'lazy' && node.getter) walk(node.getter(undefined), at);
  };
  walk(root as Node, where);
  return seen;
}

/**
 * Object schemas that several operations share must have a name, or a generated client would have one
 * anonymous type per operation for one shape. Returns a problem for each unnamed one, naming its users.
 * Shared strings and numbers stay inline: their constraints read best where they are used.
 */
export function unnamedSharedObjects(
  uses: { file: string; schemas: Map<v.GenericSchema, string> }[],
): string[] {
  const users = new Map<v.GenericSchema, { files: Set<string>; at: string }>();
  for (const { file, schemas } of uses) {
    for (const [schema, at] of schemas) {
      if (!OBJECTS.includes(schema.type) || titleOf(schema)) continue;
      const fields = Object.keys((schema as Node).entries ?? {}).join(', ');
      const entry = users.get(schema) ?? { files: new Set(), at: `{ ${fields} }, in ${file} at ${at}` };
      entry.files.add(file);
      users.set(schema, entry);
    }
  }
  return [...users.values()]
    .filter(({ files }) => files.size > 1)
    .map(
      ({ files, at }) =>
        `${[...files].sort().join(' and ')} share an object schema with no name (${at}): name it where it is ` +
        "defined, v.pipe(v.object({ ... }), v.title('Name')), and it becomes #/components/schemas/Name",
    );
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && (value as Node).kind === 'schema';
}
