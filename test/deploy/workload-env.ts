import { type Config, loadConfig, type SettingsSchema } from '#runtime/config.ts';
import type { DeployFacts } from './deploy-facts.ts';
import type { KubeObject } from './kustomize.ts';
import type { Workload } from './pod-shapes.ts';

/** What a Secret-held value stands in as when a workload's environment is checked: not a placeholder. */
const SECRET_STAND_IN = 'stand-in-for-a-secret-value';

/**
 * A container's environment as the process sees it: the image's ENV, the ConfigMaps it takes whole, then its own
 * entries; `names` are the ones the manifests set. A value from a Secret (a key, or a file named by NAME_FILE) is
 * a stand-in, with NAME_FILE read as NAME as the configuration reads it; an optional Secret key is left unset.
 * Also what is wrong with the references.
 */
export function environmentOf(
  workload: Workload,
  objects: KubeObject[],
  imageEnv: Record<string, string>,
): { env: Record<string, string>; names: string[]; problems: string[] } {
  const env: Record<string, string> = {};
  const names = new Set<string>();
  const problems: string[] = [];
  const where = `${workload.object.kind} ${workload.object.metadata.name}`;
  for (const source of workload.container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    if (!map) problems.push(`${where}: envFrom names ${name ?? 'a Secret'}, which is not a ConfigMap here`);
    const data = (map?.data ?? {}) as Record<string, string>;
    Object.assign(env, data);
    for (const name of Object.keys(data)) names.add(name);
  }
  for (const entry of workload.container.env ?? []) {
    const fromMap = entry.valueFrom?.configMapKeyRef;
    if (fromMap) problems.push(`${where}: ${entry.name} comes from one ConfigMap key; use envFrom`);
    names.add(entry.name);
    // An optional key's Secret may be missing: the process must start without it.
    if (entry.valueFrom?.secretKeyRef?.optional) continue;
    env[entry.name] = entry.valueFrom?.secretKeyRef ? SECRET_STAND_IN : (entry.value ?? '');
  }
  for (const name of [...names].filter((n) => n.endsWith('_FILE'))) {
    env[name.slice(0, -'_FILE'.length)] = SECRET_STAND_IN;
    delete env[name];
  }
  return { env: { ...imageEnv, ...env }, names: [...names], problems };
}

/** Names compose gives a service that its workload leaves out on purpose, each with why. */
const LEFT_OUT: Record<string, string[]> = {
  // The migrations send no mail: the owner's Job is not given the SMTP credentials.
  migrate: ['SMTP_URL'],
};

/**
 * The names compose gives this workload's service that it lacks (as NAME, or NAME_FILE where that form exists),
 * and the names it sets that the configuration does not read (a typo, or a variable gone).
 */
export function envNameProblems(workload: Workload, names: string[], facts: DeployFacts): string[] {
  const where = `${workload.object.kind} ${workload.object.metadata.name}`;
  const service = workload.role === 'http' ? 'app' : workload.role;
  const has = new Set(names);
  const missing = facts.compose[service].envNames.filter(
    (name) =>
      !LEFT_OUT[workload.role]?.includes(name) &&
      !has.has(name) &&
      !(facts.fileEnv.has(name) && has.has(`${name}_FILE`)),
  );
  const unknown = names.filter(
    (name) =>
      !facts.declaredEnv.has(name) && !(name.endsWith('_FILE') && facts.fileEnv.has(name.slice(0, -5))),
  );
  const both = [...facts.fileEnv].filter((name) => has.has(name) && has.has(`${name}_FILE`));
  return [
    ...missing.map((name) => `${where}: compose's ${service} sets ${name}; set it too (ConfigMap or env)`),
    ...unknown.map(
      (name) => `${where}: ${name} is read by no configuration (shared/runtime/env-schema.ts, shared/app.ts)`,
    ),
    ...both.map((name) => `${where}: sets both ${name} and ${name}_FILE; keep the file`),
  ];
}

/**
 * The workload's environment parsed by the configuration the process runs, with the app's settings: the
 * configuration, or the ConfigError's problems.
 */
export function configOf(
  workload: Workload,
  env: Record<string, string>,
  settings: SettingsSchema | undefined,
): { config?: Config; problems: string[] } {
  try {
    return { config: loadConfig(env, settings), problems: [] };
  } catch (error) {
    const where = `${workload.object.kind} ${workload.object.metadata.name}`;
    return { problems: [`${where}: its environment is refused: ${(error as Error).message}`] };
  }
}
