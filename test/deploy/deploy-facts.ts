import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { RUNTIME_TASKS } from '#runtime/jobs/purge.ts';
import { discover } from '../../shared/build/discovery.mjs';
import { projectRoot } from '../support/app.ts';

/** One compose service as the manifests must repeat it: its image, its command, its environment's names. */
export type ComposeService = { image: string; command: string[]; envNames: string[] };

/**
 * What the Kubernetes manifests must agree with, read from the project's own files: compose's services, the
 * variables the configuration declares, the image's user and folders, and the task list.
 */
export type DeployFacts = {
  compose: Record<'app' | 'worker' | 'migrate', ComposeService>;
  /** Every variable shared/runtime/env-schema.ts and shared/app.ts name. */
  declaredEnv: Set<string>;
  /** Variables that may come from a file instead, as NAME_FILE. */
  fileEnv: Set<string>;
  /** The runtime image's user (name and uid) and the environment its ENV lines set. */
  image: { uid: number; user: string; env: Record<string, string> };
  /** Every task a worker runs: the build's discovery of tasks/, then the runtime's own. */
  tasks: string[];
};

/**
 * The uid of the `node` user in the official node images the Dockerfile builds on. The kubelet cannot check a
 * user name against runAsNonRoot, so the manifests give this number.
 */
const NODE_UID = 1000;

export async function deployFacts(): Promise<DeployFacts> {
  const read = (file: string) => readFile(`${projectRoot}/${file}`, 'utf8');
  const [compose, config, settings, secretFiles, dockerfile, discovered] = await Promise.all([
    read('docker-compose.yml'),
    read('shared/runtime/env-schema.ts'),
    read('shared/app.ts'),
    read('shared/runtime/secret-files.ts'),
    read('Dockerfile'),
    discover(projectRoot),
  ]);
  const services = parse(compose, { merge: true }).services as Record<string, Record<string, unknown>>;
  const service = (name: string): ComposeService => {
    const entry = services[name] ?? {};
    return {
      image: withDefaults(String(entry.image)),
      command: entry.command as string[],
      envNames: Object.keys((entry.environment ?? {}) as object),
    };
  };
  const runtimeStage = dockerfile.split(/^FROM /m).at(-1) ?? '';
  return {
    compose: { app: service('app'), worker: service('worker'), migrate: service('migrate') },
    // The same reading as the README's test: each schema entry is a line `  NAME: ...`.
    declaredEnv: new Set(
      [config, settings].flatMap((source) =>
        [...source.matchAll(/^ {2,4}([A-Z][A-Z0-9_]+): /gm)].map((match) => match[1] as string),
      ),
    ),
    fileEnv: new Set(
      [...(/const FROM_FILE = \[([^\]]*)\]/.exec(secretFiles)?.[1] ?? '').matchAll(/'([A-Z_]+)'/g)].map(
        (match) => match[1] as string,
      ),
    ),
    image: {
      uid: NODE_UID,
      user: /^USER (\S+)$/m.exec(runtimeStage)?.[1] ?? '',
      env: Object.fromEntries(
        [...runtimeStage.replace(/\\\n/g, ' ').matchAll(/^ENV (.+)$/gm)].flatMap((line) =>
          [...(line[1] ?? '').matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)].map((match) => [match[1], match[2]]),
        ),
      ),
    },
    tasks: [...discovered.tasks.map((task) => task.name), ...RUNTIME_TASKS.map((task) => task.name)],
  };
}

/** `handler-kit:${IMAGE_TAG:-local}` → `handler-kit:local`: what compose runs with nothing set. */
function withDefaults(text: string): string {
  return text.replace(
    /\$\{[A-Z0-9_]+(?::?-([^}]*))?\}/g,
    (_, fallback: string | undefined) => fallback ?? '',
  );
}
