import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './support/app.ts';

const read = (file: string) => readFile(`${projectRoot}/${file}`, 'utf8');
/** Every variable the runtime's configuration and the reference app's settings declare. */
const variables = async () => {
  const sources = await Promise.all([read('shared/runtime/env-schema.ts'), read('shared/app.ts')]);
  return sources.flatMap((source) =>
    [...source.matchAll(/^ {2,4}([A-Z][A-Z0-9_]+): /gm)].map((match) => match[1]),
  );
};

describe('README', () => {
  it('documents every environment variable the configuration reads', async () => {
    const [names, readme] = await Promise.all([variables(), read('README.md')]);
    expect(names.length).toBeGreaterThan(25);
    const undocumented = names.filter((name) => !readme.includes(`| \`${name}\` |`));
    expect(undocumented).toEqual([]);
  });

  it('.env.example lists every environment variable the configuration reads', async () => {
    const [names, example] = await Promise.all([variables(), read('.env.example')]);
    const missing = names.filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(example));
    expect(missing).toEqual([]);
  });

  it('shows the two set-up commands', async () => {
    const readme = await read('README.md');
    expect(readme).toContain('docker compose up --build');
    expect(readme).toContain('npm ci && npm test');
  });
});
