import { readFileSync } from 'node:fs';

/** Variables whose value may come from a file instead, as `NAME_FILE` (Docker and Kubernetes secrets). */
const FROM_FILE = ['POSTGRES_PASSWORD', 'RD_PASSWORD'];

/**
 * The environment with each `NAME_FILE` read into `NAME`, so that a secret need not sit in the process's
 * environment (where `docker inspect` shows it). The file's content is the value, without its final newline.
 * Returns the problems too: a file that cannot be read, or both forms set at once.
 */
export function withSecretFiles(env: Record<string, string>): {
  env: Record<string, string>;
  problems: string[];
} {
  const out = { ...env };
  const problems: string[] = [];
  for (const name of FROM_FILE) {
    const file = env[`${name}_FILE`];
    if (file === undefined) continue;
    if (env[name] !== undefined) {
      problems.push(`${name}_FILE: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    try {
      out[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error})`);
    }
  }
  return { env: out, problems };
}
