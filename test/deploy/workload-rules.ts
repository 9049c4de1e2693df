import path from 'node:path';
import type { Config } from '#runtime/config.ts';
import type { DeployFacts } from './deploy-facts.ts';
import type { Probe, Workload } from './pod-shapes.ts';

/** The command compose runs the service with, from the image it runs. */
export function commandProblems(workload: Workload, facts: DeployFacts, image: string): string[] {
  const where = `${workload.object.kind} ${workload.object.metadata.name}`;
  const service = facts.compose[workload.role === 'http' ? 'app' : workload.role];
  const problems: string[] = [];
  if (workload.container.image !== image) {
    problems.push(`${where}: runs ${workload.container.image}; every workload runs the one image, ${image}`);
  }
  if (JSON.stringify(workload.container.command) !== JSON.stringify(service.command)) {
    problems.push(
      `${where}: command ${JSON.stringify(workload.container.command)}, compose runs ${JSON.stringify(service.command)}`,
    );
  }
  return problems;
}

/** http: alive on /healthz, ready on /readyz, on the API's port; worker: `worker.mjs health` for both. */
export function probeProblems(workload: Workload, config: Config): string[] {
  const where = `${workload.object.kind} ${workload.object.metadata.name}`;
  const { container } = workload;
  const problems: string[] = [];
  const expectHttp = (name: string, probe: Probe | undefined, route: string) => {
    const port = container.ports?.find(
      (p) => p.name === probe?.httpGet?.port || p.containerPort === probe?.httpGet?.port,
    );
    if (probe?.httpGet?.path !== route || port?.containerPort !== config.http.port) {
      problems.push(`${where}: ${name} must GET ${route} on the API's port ${config.http.port}`);
    }
  };
  if (workload.role === 'http') {
    expectHttp('livenessProbe', container.livenessProbe, '/healthz');
    expectHttp('readinessProbe', container.readinessProbe, '/readyz');
  }
  if (workload.role === 'worker') {
    const health = JSON.stringify(['node', 'dist/worker.mjs', 'health']);
    for (const name of ['livenessProbe', 'readinessProbe'] as const) {
      if (JSON.stringify(container[name]?.exec?.command) !== health) {
        problems.push(`${where}: ${name} must run ${health}`);
      }
    }
  }
  return problems;
}

/** Not root, no privilege to gain, no capability, a read-only root, the runtime's seccomp profile. */
export function securityProblems(workload: Workload, facts: DeployFacts): string[] {
  const where = `${workload.object.kind} ${workload.object.metadata.name}`;
  const pod = workload.pod.securityContext ?? {};
  const own = workload.container.securityContext ?? {};
  const rules: Array<[boolean, string]> = [
    [pod.runAsNonRoot === true, 'pod securityContext.runAsNonRoot: true'],
    [
      pod.runAsUser === facts.image.uid,
      `pod securityContext.runAsUser: ${facts.image.uid} (the image's ${facts.image.user})`,
    ],
    [
      pod.seccompProfile?.type === 'RuntimeDefault',
      'pod securityContext.seccompProfile.type: RuntimeDefault',
    ],
    [own.readOnlyRootFilesystem === true, 'securityContext.readOnlyRootFilesystem: true'],
    [own.allowPrivilegeEscalation === false, 'securityContext.allowPrivilegeEscalation: false'],
    [own.capabilities?.drop?.includes('ALL') === true, 'securityContext.capabilities.drop: [ALL]'],
    [!own.capabilities?.add?.length && own.privileged !== true, 'no added capability and no privileged'],
    [
      workload.pod.automountServiceAccountToken === false,
      'automountServiceAccountToken: false (no API access)',
    ],
    [
      workload.pod.enableServiceLinks === false,
      'enableServiceLinks: false (no PG_PORT=tcp://… from Services)',
    ],
  ];
  return rules.filter(([ok]) => !ok).map(([, rule]) => `${where}: needs ${rule}`);
}

/** Requests (what the scheduler and the HPA count) and limits, for CPU and memory. */
export function resourceProblems(workload: Workload): string[] {
  const where = `${workload.object.kind} ${workload.object.metadata.name}`;
  const { requests = {}, limits = {} } = workload.container.resources ?? {};
  return ['cpu', 'memory'].flatMap((resource) => [
    ...(requests[resource] ? [] : [`${where}: needs resources.requests.${resource}`]),
    ...(limits[resource] ? [] : [`${where}: needs resources.limits.${resource}`]),
  ]);
}

/**
 * Where the process writes, on a read-only root: /tmp and the worker's heartbeat on emptyDirs. The keys folder
 * from a Secret, read-only (http), and no Secret file readable by others.
 */
export function volumeProblems(workload: Workload, config: Config): string[] {
  const { keysDir } = config.settings.auth;
  const where = `${workload.object.kind} ${workload.object.metadata.name}`;
  const volumes = new Map((workload.pod.volumes ?? []).map((volume) => [volume.name, volume]));
  const mounts = workload.container.volumeMounts ?? [];
  const problems: string[] = [];
  const mountAt = (folder: string) =>
    mounts
      .filter((m) => folder === m.mountPath || folder.startsWith(`${m.mountPath}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  const writable = new Set([
    '/tmp',
    ...(workload.role === 'worker' ? [path.dirname(config.worker.heartbeatFile)] : []),
  ]);
  for (const folder of writable) {
    const mount = mountAt(folder);
    if (!mount || !volumes.get(mount.name)?.emptyDir || mount.readOnly) {
      problems.push(`${where}: ${folder} is written to; mount an emptyDir there (the root is read-only)`);
    }
  }
  if (workload.role === 'http') {
    const mount = mountAt(keysDir);
    if (
      mount?.mountPath !== keysDir ||
      !volumes.get(mount.name)?.secret ||
      !mount.readOnly ||
      mount.subPath
    ) {
      problems.push(
        `${where}: mount the keys Secret at ${keysDir}, read-only, whole (no subPath, so that it rotates)`,
      );
    }
  }
  for (const mount of mounts)
    if (!volumes.has(mount.name)) problems.push(`${where}: no volume ${mount.name}`);
  for (const volume of volumes.values()) {
    const mode = volume.secret?.defaultMode ?? volume.projected?.defaultMode;
    const holdsSecret = volume.secret || volume.projected?.sources.some((source) => source.secret);
    if (holdsSecret && (mode === undefined || (mode & 0o007) !== 0)) {
      problems.push(
        `${where}: volume ${volume.name} holds Secrets: give it a defaultMode others cannot read (0440)`,
      );
    }
  }
  return problems;
}

/** SIGKILL comes after the grace period: it must outlast the drain and the wait for work in flight. */
export function graceProblems(workload: Workload, config: Config): string[] {
  if (workload.object.kind !== 'Deployment') return [];
  const graceMs = (workload.pod.terminationGracePeriodSeconds ?? 30) * 1000;
  const neededMs = config.shutdownDrainMs + config.shutdownTimeoutMs;
  if (graceMs > neededMs) return [];
  return [
    `Deployment ${workload.object.metadata.name}: terminationGracePeriodSeconds ${graceMs / 1000} s must be longer ` +
      `than SHUTDOWN_DRAIN_MS + SHUTDOWN_TIMEOUT_MS (${neededMs} ms)`,
  ];
}
