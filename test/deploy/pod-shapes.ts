import type { KubeObject } from './kustomize.ts';

/** The parts of a pod spec the suite's rules read (the schemas check the rest). */
export type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: SecretKeyRef; configMapKeyRef?: { name: string; key: string } };
};
export type SecretKeyRef = { name: string; key: string; optional?: boolean };
export type Probe = {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
};
export type Container = {
  name: string;
  image?: string;
  command?: string[];
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>;
};
export type Volume = {
  name: string;
  emptyDir?: object;
  secret?: { secretName: string; defaultMode?: number };
  projected?: { defaultMode?: number; sources: Array<{ secret?: { name: string } }> };
};
export type PodSpec = {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    fsGroup?: number;
    seccompProfile?: { type: string };
  };
};

/** A workload of the app: which compose service it stands for, its object, its pod and its one container. */
export type Workload = {
  role: 'http' | 'worker' | 'migrate';
  object: KubeObject;
  labels: Record<string, string>;
  pod: PodSpec;
  container: Container;
};

const ROLES = { http: 'Deployment', worker: 'Deployment', migrate: 'Job' } as const;

/**
 * The app's three workloads, found by their component label (http and worker Deployments, the migrate Job),
 * and what is wrong with the set: a missing one, or one with more than its one container.
 */
export function workloadsOf(objects: KubeObject[]): { workloads: Workload[]; problems: string[] } {
  const workloads: Workload[] = [];
  const problems: string[] = [];
  for (const [role, kind] of Object.entries(ROLES) as Array<[Workload['role'], string]>) {
    const found = objects.filter(
      (o) => o.kind === kind && o.metadata.labels?.['app.kubernetes.io/component'] === role,
    );
    const object = found[0];
    if (found.length !== 1 || !object) {
      problems.push(
        `${role}: expected one ${kind} labelled app.kubernetes.io/component=${role}, found ${found.length}`,
      );
      continue;
    }
    const template = (
      object.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } }
    ).template;
    const [container, ...others] = template.spec.containers;
    if (!container || others.length > 0 || template.spec.initContainers?.length) {
      problems.push(`${kind} ${object.metadata.name}: expected one container, the ${role} process`);
      continue;
    }
    workloads.push({ role, object, labels: template.metadata?.labels ?? {}, pod: template.spec, container });
  }
  return { workloads, problems };
}

/** `{ a: 'x' }` selects `{ a: 'x', b: 'y' }`. */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string>,
): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

/** The names of every Secret the objects read: env keys, volumes, projected sources, KEDA's authentication. */
export function secretNamesOf(objects: KubeObject[]): string[] {
  const names = new Set<string>();
  const visit = (value: unknown, parent: string | undefined) => {
    if (Array.isArray(value)) for (const item of value) visit(item, parent);
    if (typeof value !== 'object' || value === null) return;
    const record = value as Record<string, unknown>;
    if (typeof record.secretName === 'string') names.add(record.secretName);
    if (parent && SECRET_HOLDERS.has(parent) && typeof record.name === 'string') names.add(record.name);
    for (const [key, child] of Object.entries(record)) visit(child, key);
  };
  for (const object of objects) visit(object, undefined);
  return [...names].sort();
}

/** Fields whose `name` is a Secret's: secretKeyRef, secretRef, a projected `secret`, KEDA's secretTargetRef. */
const SECRET_HOLDERS = new Set(['secretKeyRef', 'secretRef', 'secret', 'secretTargetRef']);
