import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './support/app.ts';

const read = (file: string) => readFile(`${projectRoot}/${file}`, 'utf8');

describe('README', () => {
  it('documents every environment variable the configuration reads', async () => {
    const [config, readme] = await Promise.all([read('shared/runtime/config.ts'), read('README.md')]);
    const names = [...config.matchAll(/^ {2}([A-Z][A-Z0-9_]+): /gm)].map((match) => match[1]);
    expect(names.length).toBeGreaterThan(15);
    const undocumented = names.filter((name) => !readme.includes(`| \`${name}\` |`));
    expect(undocumented).toEqual([]);
  });

  it('.env.example lists every environment variable the configuration reads', async () => {
    const [config, example] = await Promise.all([read('shared/runtime/config.ts'), read('.env.example')]);
    const names = [...config.matchAll(/^ {2}([A-Z][A-Z0-9_]+): /gm)].map((match) => match[1]);
    const missing = names.filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(example));
    expect(missing).toEqual([]);
  });

  it('shows the two set-up commands', async () => {
    const readme = await read('README.md');
    expect(readme).toContain('docker compose up --build');
    expect(readme).toContain('npm ci && npm test');
  });
});
