import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as a manifest holds it. */
export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
};

/** What this renderer knows of a kustomization.yaml; anything else in one is refused, never skipped. */
const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);
/** Kinds without a namespace, which the namespace field leaves alone. */
const CLUSTER_SCOPED = new Set(['Namespace']);

type Image = { name: string; newName?: string; newTag?: string };
type Patch = { target: { kind: string; name: string }; patch: string };
type Operation = { op: 'add' | 'replace' | 'remove'; path: string; value?: unknown };

/**
 * The objects `kubectl apply -k <dir>` would send, for the subset of kustomize the manifests use: resources
 * (files and folders with their own kustomization.yaml), namespace, images, and JSON 6902 patches. There is no
 * kustomize binary on the test machines; a field outside the subset fails here, naming it, rather than being
 * left out of what the suite checks.
 */
export async function renderKustomization(dir: string): Promise<KubeObject[]> {
  const file = path.join(dir, 'kustomization.yaml');
  const kustomization = (await readManifests(file))[0] as unknown as Record<string, unknown>;
  const unknown = Object.keys(kustomization).filter((field) => !KNOWN_FIELDS.has(field));
  if (unknown.length > 0) {
    throw new Error(
      `${file}: ${unknown.join(', ')} is not rendered by test/deploy/kustomize.ts; render it there or do without`,
    );
  }
  const objects: KubeObject[] = [];
  for (const resource of (kustomization.resources ?? []) as string[]) {
    const target = path.join(dir, resource);
    const isFolder = (await stat(target)).isDirectory();
    objects.push(...(isFolder ? await renderKustomization(target) : await readManifests(target)));
  }
  const namespace = kustomization.namespace as string | undefined;
  if (namespace) {
    for (const object of objects) if (!CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = namespace;
  }
  for (const image of (kustomization.images ?? []) as Image[]) retag(objects, image);
  for (const patch of (kustomization.patches ?? []) as Patch[]) applyPatch(objects, patch, file);
  return objects;
}

/**
 * Every object in a manifest file, read as kubectl reads it: YAML 1.1, so that `0440` is an octal mode.
 * The file's own comments go; anchors are resolved.
 */
export async function readManifests(file: string): Promise<KubeObject[]> {
  const documents = parseAllDocuments(await readFile(file, 'utf8'), { version: '1.1' });
  const objects: KubeObject[] = [];
  for (const document of Array.isArray(documents) ? documents : [documents]) {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]?.message}`);
    const object = document.toJS() as KubeObject | null;
    if (object !== null) objects.push(object);
  }
  return objects;
}

/** The YAML files directly in `dir`, but its kustomization.yaml. */
export async function manifestFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names.filter((name) => /\.ya?ml$/.test(name) && name !== 'kustomization.yaml').sort();
}

/** The pod template's containers (init ones too) of a workload, or none for other kinds. */
export function containersOf(object: KubeObject): Array<Record<string, unknown>> {
  const spec = (object.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template?.spec;
  return [
    ...((spec?.initContainers ?? []) as Array<Record<string, unknown>>),
    ...((spec?.containers ?? []) as Array<Record<string, unknown>>),
  ];
}

function retag(objects: KubeObject[], image: Image) {
  for (const container of objects.flatMap(containersOf)) {
    const [name, tag] = splitImage(String(container.image));
    if (name !== image.name) continue;
    container.image = `${image.newName ?? name}${image.newTag ? `:${image.newTag}` : tag ? `:${tag}` : ''}`;
  }
}

function splitImage(image: string): [string, string | undefined] {
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/')
    ? [image.slice(0, colon), image.slice(colon + 1)]
    : [image, undefined];
}

function applyPatch(objects: KubeObject[], { target, patch }: Patch, file: string) {
  const operations = parseAllDocuments(patch, { version: '1.1' });
  const ops = (Array.isArray(operations) ? operations[0] : operations)?.toJS() as Operation[] | undefined;
  if (!Array.isArray(ops)) {
    throw new Error(`${file}: only JSON 6902 patches (a list of operations) are rendered by the suite`);
  }
  const matching = objects.filter((o) => o.kind === target.kind && o.metadata.name === target.name);
  if (matching.length === 0) throw new Error(`${file}: no ${target.kind} named ${target.name} to patch`);
  for (const object of matching) for (const op of ops) applyOperation(object, op, file);
}

function applyOperation(object: KubeObject, { op, path: pointer, value }: Operation, file: string) {
  const keys = pointer
    .split('/')
    .slice(1)
    .map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
  const last = keys.pop();
  let parent: unknown = object;
  for (const key of keys) parent = (parent as Record<string, unknown> | undefined)?.[key];
  const where = `${file}: ${op} ${pointer} on ${object.kind} ${object.metadata.name}`;
  if (!['add', 'replace', 'remove'].includes(op))
    throw new Error(`${where}: the suite renders add, replace, remove`);
  if (typeof parent !== 'object' || parent === null || last === undefined)
    throw new Error(`${where}: no such path`);
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (op !== 'add' && !(index in parent)) throw new Error(`${where}: no such item`);
    parent.splice(index, op === 'add' ? 0 : 1, ...(op === 'remove' ? [] : [value]));
    return;
  }
  const record = parent as Record<string, unknown>;
  if (op === 'add') record[last] = value;
  else if (!(last in record)) throw new Error(`${where}: no such field`);
  else if (op === 'replace') record[last] = value;
  else delete record[last];
}
