import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './support/app.ts';

const dockerfile = await readFile(`${projectRoot}/Dockerfile`, 'utf8');
const lines = dockerfile.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#'));
const stages = dockerfile.split(/^FROM /m).slice(1);
const runtime = stages.at(-1) ?? '';

describe('Dockerfile', () => {
  it('turns source maps on for both bundles, so stack traces name source files', () => {
    expect(runtime).toMatch(/NODE_OPTIONS=--enable-source-maps/);
  });

  it('takes its base image as a build argument', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-alpine$/m);
    const names = stages.map((stage) => /^\S+ AS (\S+)/.exec(stage)?.[1]);
    const bases = stages.map((stage) => stage.split(/\s/)[0]);
    // Each stage starts from the argument or from an earlier stage, never from a fixed image.
    expect(bases.every((base, i) => base === '$' + '{NODE_IMAGE}' || names.slice(0, i).includes(base))).toBe(
      true,
    );
  });

  it('builds in stages: dependencies with npm ci, the build, then the runtime', () => {
    expect(stages).toHaveLength(3);
    expect(stages[0]).toContain('npm ci');
    expect(stages[1]).toContain('node build.mjs');
  });

  it('copies only dist/ and sql/ into the runtime, and never a key', () => {
    const copies = runtime.split('\n').filter((line) => line.startsWith('COPY'));
    expect(copies.map((line) => line.split(/\s+/).at(-1))).toEqual(['./dist', './sql']);
    expect(runtime).not.toMatch(/keys\/|node_modules|\.pem/);
  });

  it('runs as the node user with NODE_ENV=production and an exec-form CMD', () => {
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/NODE_ENV=production/);
    expect(runtime).toMatch(/^CMD \["node", "dist\/http\.mjs"\]$/m);
  });

  it('uses nothing the registry-less lab cannot build: no syntax line, heredoc or COPY --link', () => {
    expect(dockerfile).not.toMatch(/^# syntax=/m);
    expect(lines.some((line) => /<<\s*['"]?EOF|COPY --link|apk |addgroup|adduser/.test(line))).toBe(false);
  });

  it('has a .dockerignore that keeps secrets, keys, dependencies and tests out of the context', async () => {
    const ignore = await readFile(`${projectRoot}/.dockerignore`, 'utf8');
    for (const entry of ['**/node_modules', '.env', 'keys/*', 'dist', 'test']) {
      expect(ignore.split('\n')).toContain(entry);
    }
  });
});
