import type { Config } from '#runtime/config.ts';
import type { KubeObject } from './kustomize.ts';
import { selects, type Workload } from './pod-shapes.ts';

type Trigger = {
  type: string;
  name?: string;
  metadata: Record<string, string>;
  authenticationRef?: { name: string };
};
type ScaledObjectSpec = {
  scaleTargetRef: { name: string; kind?: string; envSourceContainerName?: string };
  minReplicaCount?: number;
  maxReplicaCount?: number;
  triggers: Trigger[];
};
type ServiceSpec = { selector?: Record<string, string>; ports?: Array<{ targetPort: string | number }> };
type PdbSpec = { selector: { matchLabels?: Record<string, string> } };
type DeploymentSpec = { replicas?: number; strategy?: { rollingUpdate?: { maxSurge?: string | number } } };
type HpaSpec = {
  scaleTargetRef: { kind: string; name: string };
  maxReplicas: number;
  metrics?: Array<{ type: string; resource?: { name: string } }>;
};

const byKind = (objects: KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);
const specOf = <T>(object: KubeObject) => object.spec as T;

/** The Service reaches the http pods on a port their container names; a PDB covers each Deployment's pods. */
export function servicePdbProblems(objects: KubeObject[], workloads: Workload[]): string[] {
  const problems: string[] = [];
  const http = workloads.find((w) => w.role === 'http');
  const service = byKind(objects, 'Service').find(
    (s) => http && selects(specOf<ServiceSpec>(s).selector, http.labels),
  );
  if (!http || !service) problems.push('Service: none selects the http pods');
  for (const { targetPort } of service ? (specOf<ServiceSpec>(service).ports ?? []) : []) {
    if (!http?.container.ports?.some((p) => p.name === targetPort || p.containerPort === targetPort)) {
      problems.push(
        `Service ${service?.metadata.name}: targetPort ${targetPort} is no port of the http container`,
      );
    }
  }
  const budgets = byKind(objects, 'PodDisruptionBudget').map(
    (pdb) => specOf<PdbSpec>(pdb).selector.matchLabels,
  );
  for (const workload of workloads.filter((w) => w.object.kind === 'Deployment')) {
    if (!budgets.some((selector) => selects(selector, workload.labels))) {
      problems.push(`Deployment ${workload.object.metadata.name}: no PodDisruptionBudget selects its pods`);
    }
  }
  return problems;
}

/**
 * The http Deployment scales on CPU through an HPA, the worker through KEDA; neither sets spec.replicas, which an
 * apply would put back over the autoscaler's choice. The worker never scales to zero (see the ScaledObject).
 */
export function autoscalerProblems(objects: KubeObject[], workloads: Workload[]): string[] {
  const problems: string[] = [];
  const named = (role: string) => workloads.find((w) => w.role === role)?.object.metadata.name;
  const hpa = byKind(objects, 'HorizontalPodAutoscaler').find(
    (h) => specOf<HpaSpec>(h).scaleTargetRef.name === named('http'),
  );
  if (!hpa) problems.push(`HorizontalPodAutoscaler: none scales Deployment ${named('http')}`);
  else if (!specOf<HpaSpec>(hpa).metrics?.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu')) {
    problems.push(`HorizontalPodAutoscaler ${hpa.metadata.name}: scale on the cpu Resource metric`);
  }
  const scaled = scaledObjectOf(objects, named('worker'));
  if (!scaled) problems.push(`ScaledObject: none scales Deployment ${named('worker')}`);
  else if ((specOf<ScaledObjectSpec>(scaled).minReplicaCount ?? 0) < 1) {
    problems.push(
      `ScaledObject ${scaled.metadata.name}: minReplicaCount must be 1 or more (schedules and the outbox relay)`,
    );
  }
  for (const workload of workloads.filter((w) => w.object.kind === 'Deployment')) {
    if ((workload.object.spec as { replicas?: number }).replicas !== undefined) {
      problems.push(`Deployment ${workload.object.metadata.name}: leave spec.replicas to its autoscaler`);
    }
  }
  return problems;
}

/**
 * One redis trigger per task queue, on the list its waiting jobs are in, authenticated by a TriggerAuthentication
 * here, reading the worker's own RD_HOST, RD_PORT and RD_DB. A task without its trigger is named, with what to add.
 */
export function queueTriggerProblems(
  objects: KubeObject[],
  worker: Workload | undefined,
  config: Config | undefined,
  tasks: string[],
  waitingList: (prefix: string, task: string) => string,
): string[] {
  const scaled = scaledObjectOf(objects, worker?.object.metadata.name);
  if (!worker || !config)
    return ['worker: no workload, or an environment the configuration refuses (see above)'];
  if (!scaled) return [];
  const where = `ScaledObject ${scaled.metadata.name}`;
  const spec = specOf<ScaledObjectSpec>(scaled);
  const problems: string[] = [];
  const wanted = new Map(tasks.map((task) => [waitingList(config.redis.prefix, task), task]));
  const seen = new Set<string>();
  for (const trigger of spec.triggers) {
    const list = trigger.metadata.listName ?? '';
    const label = `${where}: trigger ${trigger.name ?? list}`;
    if (trigger.type !== 'redis') problems.push(`${label}: expected type redis (a list's length)`);
    if (!wanted.has(list))
      problems.push(`${label}: ${list} is the waiting list of no task; remove the trigger`);
    if (seen.has(list)) problems.push(`${label}: a second trigger on ${list}`);
    seen.add(list);
    const auth = trigger.authenticationRef?.name;
    if (!byKind(objects, 'TriggerAuthentication').some((a) => a.metadata.name === auth)) {
      problems.push(
        `${label}: authenticationRef ${auth} is no TriggerAuthentication here (Redis has a password)`,
      );
    }
    if (trigger.metadata.hostFromEnv !== 'RD_HOST' || trigger.metadata.portFromEnv !== 'RD_PORT') {
      problems.push(
        `${label}: read the worker's own Redis address: hostFromEnv: RD_HOST, portFromEnv: RD_PORT`,
      );
    }
    if (Number(trigger.metadata.databaseIndex ?? 0) !== config.redis.db) {
      problems.push(`${label}: databaseIndex must be RD_DB, ${config.redis.db}`);
    }
  }
  if (spec.scaleTargetRef.envSourceContainerName !== worker.container.name) {
    problems.push(`${where}: scaleTargetRef.envSourceContainerName must be ${worker.container.name}`);
  }
  for (const [list, task] of wanted) {
    if (seen.has(list)) continue;
    problems.push(
      `${where}: task ${task} has no trigger; add one to deploy/kubernetes/base/worker-scaledobject.yaml ` +
        `with type: redis and metadata.listName: ${list} (copy another task's trigger)`,
    );
  }
  return problems;
}

/**
 * PostgreSQL connections at the autoscalers' largest counts, during a rollout's surge: each http pod's pool,
 * each worker's pool plus its LISTEN connection, and the migrate Job's one. Behind a transaction pooler
 * (PG_POOLER=transaction) the pools are the pooler's clients, and only LISTEN and the migrations reach PostgreSQL.
 */
export function connectionBudget(objects: KubeObject[], workloads: Workload[], config: Config) {
  const largestCount = (role: string) => {
    const workload = workloads.find((w) => w.role === role);
    const spec = workload?.object.spec as DeploymentSpec | undefined;
    const name = workload?.object.metadata.name;
    const hpa = byKind(objects, 'HorizontalPodAutoscaler').find(
      (h) => specOf<HpaSpec>(h).scaleTargetRef.name === name,
    );
    const scaled = scaledObjectOf(objects, name);
    const max = hpa
      ? specOf<HpaSpec>(hpa).maxReplicas
      : scaled
        ? (specOf<ScaledObjectSpec>(scaled).maxReplicaCount ?? 100)
        : (spec?.replicas ?? 1);
    const surge = spec?.strategy?.rollingUpdate?.maxSurge ?? '25%';
    return max + (typeof surge === 'number' ? surge : Math.ceil((max * Number.parseInt(surge, 10)) / 100));
  };
  const [http, workers] = [largestCount('http'), largestCount('worker')];
  const pooled = (http + workers) * config.postgres.poolMax;
  const direct = workers + 1;
  const annotated = byKind(objects, 'ConfigMap')
    .map((c) => c.metadata.annotations?.[BUDGET_ANNOTATION])
    .find(Boolean);
  const postgres = config.postgres.pooler === 'transaction' ? direct : pooled + direct;
  return { http, workers, pooled, direct, postgres, budget: Number(annotated) };
}

/** Where the ConfigMap states the PostgreSQL connections the manifests are sized for. */
const BUDGET_ANNOTATION = 'handler-kit/postgres-connection-budget';

function scaledObjectOf(objects: KubeObject[], deployment: string | undefined) {
  return byKind(objects, 'ScaledObject').find(
    (s) => specOf<ScaledObjectSpec>(s).scaleTargetRef.name === deployment,
  );
}
