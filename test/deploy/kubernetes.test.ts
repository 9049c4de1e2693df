import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Config } from '#runtime/config.ts';
import { createQueues } from '#runtime/jobs/queue.ts';
import { loadRoot, projectRoot } from '../support/app.ts';
import { testConfig } from '../support/context.ts';
import { deployFacts } from './deploy-facts.ts';
import { schemaProblems } from './kubernetes-schemas.ts';
import { type KubeObject, manifestFiles, readManifests, renderKustomization } from './kustomize.ts';
import { secretNamesOf, type Workload, workloadsOf } from './pod-shapes.ts';
import {
  autoscalerProblems,
  connectionBudget,
  queueTriggerProblems,
  servicePdbProblems,
} from './scaling-rules.ts';
import { configOf, environmentOf, envNameProblems } from './workload-env.ts';
import {
  commandProblems,
  graceProblems,
  probeProblems,
  resourceProblems,
  securityProblems,
  volumeProblems,
} from './workload-rules.ts';

const root = path.join(projectRoot, 'deploy/kubernetes');
const facts = await deployFacts();
const { app } = await loadRoot(projectRoot);

/** Where bee-queue keeps a queue's waiting jobs: the list KEDA's redis scaler reads (proven against Redis below). */
const waitingList = (prefix: string, task: string) => `${prefix}:q:${task}:waiting`;

/**
 * One rendering (the base, or an overlay) with its workloads, each one's environment and configuration. The base
 * runs compose's image; an overlay names the cluster's, the one image of all its workloads.
 */
async function inspect(dir: string) {
  const objects = await renderKustomization(path.join(root, dir));
  const { workloads, problems } = workloadsOf(objects);
  const image = dir === 'base' ? facts.compose.app.image : String(workloads[0]?.container.image);
  const checked = workloads.map((workload) => {
    const env = environmentOf(workload, objects, facts.image.env);
    const parsed = configOf(workload, env.env, app.settings);
    return { workload, env, config: parsed.config, problems: [...env.problems, ...parsed.problems] };
  });
  /** Each workload's problems under a rule that needs its parsed configuration. */
  const withConfig = (rule: (workload: Workload, config: Config) => string[]) =>
    checked.flatMap(({ workload, config }) => (config ? rule(workload, config) : []));
  return { dir, image, objects, workloads, problems, checked, withConfig };
}

const overlays = (await readdir(`${root}/overlays`)).sort().map((name) => `overlays/${name}`);
const renderings = await Promise.all(['base', ...overlays].map(inspect));

describe('deploy/kubernetes', () => {
  it('lists every manifest of the base in its kustomization.yaml, so that none is left out of the apply', async () => {
    const listed = (await readManifests(`${root}/base/kustomization.yaml`))[0]?.resources as string[];
    expect(await manifestFiles(`${root}/base`)).toEqual([...listed].sort());
  });

  describe.each(renderings)('$dir', (rendering) => {
    const { objects, workloads } = rendering;

    it('passes the Kubernetes and KEDA schemas, object by object', () => {
      expect(objects.length).toBeGreaterThanOrEqual(10);
      expect(schemaProblems(objects)).toEqual([]);
    });

    it("has compose's three services as workloads, on one image, with compose's commands", () => {
      expect(rendering.problems).toEqual([]);
      expect(workloads.map((w) => w.role)).toEqual(['http', 'worker', 'migrate']);
      expect(workloads.flatMap((w) => commandProblems(w, facts, rendering.image))).toEqual([]);
      // A cluster pulls a release by its tag: compose's local build tag, or latest, would be whatever was last pushed.
      if (rendering.dir !== 'base') expect(rendering.image).not.toMatch(/:(local|latest)$|^[^:]+$/);
    });

    it("sets compose's variables by compose's names, and none the configuration does not read", () => {
      expect(
        rendering.checked.flatMap(({ workload, env }) => envNameProblems(workload, env.names, facts)),
      ).toEqual([]);
    });

    it('gives each workload an environment the configuration accepts: production, no migration on start', () => {
      expect(rendering.checked.flatMap((c) => c.problems)).toEqual([]);
      const configs = rendering.checked.map(({ workload, config }) => [
        workload.role,
        config?.env,
        config?.migrateOnStart,
      ]);
      expect(configs).toEqual([
        ['http', 'production', false],
        ['worker', 'production', false],
        ['migrate', 'production', false],
      ]);
    });

    it('probes http on /healthz and /readyz, and the worker with worker.mjs health', () => {
      expect(rendering.withConfig(probeProblems)).toEqual([]);
    });

    it("runs as the image's user, not root, read-only, with no capability and the runtime's seccomp profile", () => {
      expect(workloads.flatMap((w) => securityProblems(w, facts))).toEqual([]);
    });

    it('requests and limits CPU and memory for every workload', () => {
      expect(workloads.flatMap(resourceProblems)).toEqual([]);
    });

    it('writes only to emptyDirs, and mounts the keys from a Secret, read-only and whole', () => {
      expect(rendering.withConfig(volumeProblems)).toEqual([]);
    });

    it('gives each Deployment more grace than the drain and the shutdown timeout together', () => {
      expect(rendering.withConfig(graceProblems)).toEqual([]);
    });

    it('serves http through a Service, and covers each Deployment with a PodDisruptionBudget', () => {
      expect(servicePdbProblems(objects, workloads)).toEqual([]);
    });

    it('scales http on CPU and the worker with KEDA, never to zero, leaving replicas to them', () => {
      expect(autoscalerProblems(objects, workloads)).toEqual([]);
    });

    it("has a queue trigger for every task of the build's task list, and none for another", () => {
      const worker = rendering.checked.find((c) => c.workload.role === 'worker');
      expect(facts.tasks).toContain('runtime/purge');
      expect(
        queueTriggerProblems(objects, worker?.workload, worker?.config, facts.tasks, waitingList),
      ).toEqual([]);
    });

    it("keeps PostgreSQL's connections within the budget at the autoscalers' largest counts", () => {
      const config = rendering.checked.find((c) => c.workload.role === 'http')?.config as Config;
      const budget = connectionBudget(objects, workloads, config);
      expect(budget.budget).toBeGreaterThan(0);
      expect(budget.postgres, JSON.stringify(budget)).toBeLessThanOrEqual(budget.budget);
    });

    it("reads only Secrets that the README's Run on Kubernetes section tells operators to create", async () => {
      const readme = await readFile(path.join(projectRoot, 'README.md'), 'utf8');
      const secrets = secretNamesOf(objects);
      expect(secrets.length).toBeGreaterThanOrEqual(4);
      expect(secrets.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
    });
  });

  it('names a task that has no trigger, and the trigger to add', () => {
    const [base] = renderings;
    const objects = structuredClone(base?.objects ?? []) as KubeObject[];
    const scaled = objects.find((o) => o.kind === 'ScaledObject') as KubeObject;
    const spec = scaled.spec as { triggers: Array<{ metadata: { listName: string } }> };
    spec.triggers = spec.triggers.filter(
      (trigger) => !trigger.metadata.listName.includes(':send-welcome-email:'),
    );
    const worker = base?.checked.find((c) => c.workload.role === 'worker');
    expect(queueTriggerProblems(objects, worker?.workload, worker?.config, facts.tasks, waitingList)).toEqual(
      [
        'ScaledObject handler-kit-worker: task send-welcome-email has no trigger; add one to ' +
          'deploy/kubernetes/base/worker-scaledobject.yaml with type: redis and metadata.listName: ' +
          "app:q:send-welcome-email:waiting (copy another task's trigger)",
      ],
    );
  });

  it('refuses a kustomization field the suite does not render, rather than check without it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kustomize-'));
    try {
      await writeFile(`${dir}/kustomization.yaml`, 'resources: []\ncommonLabels: { team: a }\n');
      await expect(renderKustomization(dir)).rejects.toThrow(
        /commonLabels is not rendered by test\/deploy\/kustomize.ts/,
      );
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it("puts a task's waiting jobs in the Redis list its trigger reads", async () => {
    const config = testConfig({ RD_PREFIX: `k8s-test-${randomBytes(4).toString('hex')}` });
    const queues = createQueues(config, pino({ level: 'silent' }));
    const redis = new Redis({ ...config.redis, keyPrefix: undefined, lazyConnect: true });
    try {
      for (const task of facts.tasks) await queues.producer(task).createJob({ payload: {} }).save();
      const lengths = await Promise.all(
        facts.tasks.map((task) => redis.llen(waitingList(config.redis.prefix, task))),
      );
      expect(lengths).toEqual(facts.tasks.map(() => 1));
    } finally {
      await Promise.all(facts.tasks.map((task) => queues.producer(task).destroy()));
      await queues.close(1_000);
      redis.disconnect();
    }
  });
});
