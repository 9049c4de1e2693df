// biome-ignore lint/suspicious/noExplicitAny: the checks walk a JSON document of known shape
type Json = Record<string, any>;

/** Cheap OpenAPI 3.1 checks: refs resolve, path templates match path parameters, ids are unique. */
export function structuralProblems(document: Json): string[] {
  const problems: string[] = [];
  const walk = (node: unknown, where: string) => {
    if (node === null || typeof node !== 'object') return;
    for (const [key, child] of Object.entries(node)) {
      if (key === '$ref' && resolve(document, child) === undefined)
        problems.push(`${where}: ${child} does not resolve`);
      walk(child, `${where}/${key}`);
    }
  };
  walk(document, '#');

  const ids = new Set<string>();
  for (const [path, item] of Object.entries<Json>(document.paths)) {
    if (!path.startsWith('/')) problems.push(`${path}: does not start with /`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, operation] of Object.entries<Json>(item)) {
      const params: Json[] = operation.parameters ?? [];
      const inPath = params.filter((p) => p.in === 'path');
      if (JSON.stringify(inPath.map((p) => p.name).sort()) !== JSON.stringify([...templated].sort())) {
        problems.push(`${method} ${path}: path parameters do not match the template`);
      }
      if (inPath.some((p) => p.required !== true))
        problems.push(`${method} ${path}: a path parameter is optional`);
      const keys = params.map((p) => `${p.in}:${p.name}`);
      if (new Set(keys).size !== keys.length)
        problems.push(`${method} ${path}: a parameter is declared twice`);
      if (ids.has(operation.operationId))
        problems.push(`${method} ${path}: operationId ${operation.operationId} repeats`);
      ids.add(operation.operationId);
      const statuses = Object.keys(operation.responses ?? {});
      if (statuses.length === 0) problems.push(`${method} ${path}: no responses`);
      for (const status of statuses) {
        if (!/^[1-5](\d\d|XX)$|^default$/.test(status))
          problems.push(`${method} ${path}: bad status ${status}`);
        if (typeof operation.responses[status].description !== 'string')
          problems.push(`${status}: no description`);
      }
      for (const requirement of operation.security ?? []) {
        for (const name of Object.keys(requirement)) {
          if (!document.components.securitySchemes?.[name])
            problems.push(`${method} ${path}: no scheme ${name}`);
        }
      }
    }
  }
  for (const name of Object.keys(document.components.schemas)) {
    if (!/^[a-zA-Z0-9._-]+$/.test(name)) problems.push(`components.schemas.${name}: bad name`);
  }
  return problems;
}

function resolve(document: Json, ref: unknown): unknown {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return undefined;
  let node: unknown = document;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    node = node !== null && typeof node === 'object' ? (node as Json)[key] : undefined;
  }
  return node;
}
