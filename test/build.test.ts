import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscoveryError } from '#shared/build/discovery.mjs';
import { build } from '../build.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const fixture = path.join(repo, 'test/fixtures/app');
const MAX_BUNDLE_BYTES = 1.5 * 1024 * 1024;

let outdir: string;
let result: Awaited<ReturnType<typeof build>>;
const cleanup: string[] = [];

beforeAll(async () => {
  outdir = await mkdtemp(path.join(os.tmpdir(), 'build-test-'));
  cleanup.push(outdir);
  result = await build({ root: fixture, outdir, quiet: true });
});

afterAll(async () => {
  await Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true })));
});

// esbuild names metafile paths relative to the working directory the build ran in.
const inputs = (meta: Metafile) => Object.keys(meta.inputs).map((file) => path.resolve(file));
const input = (meta: Metafile, file: string) =>
  Object.entries(meta.inputs).find(([name]) => path.resolve(name) === file)?.[1];
const under = (folder: string) => (file: string) => file.startsWith(path.join(fixture, folder) + path.sep);
const bundleText = (name: string) => readFile(path.join(outdir, name), 'utf8');
const outputBytes = (meta: Metafile, name: string) =>
  Object.entries(meta.outputs).find(([file]) => path.resolve(file) === path.join(outdir, name))?.[1].bytes;

describe('build (the fixture app)', () => {
  it('writes the metafiles it returns', async () => {
    for (const name of ['http', 'worker'] as const) {
      const written = JSON.parse(await readFile(path.join(outdir, `${name}.meta.json`), 'utf8'));
      expect(written).toEqual(result.metafiles[name]);
    }
  });

  it('carries only a reference to each task into the HTTP bundle, and its run code into the worker', async () => {
    const http = result.metafiles.http;
    const taskFiles = inputs(http).filter(under('tasks'));
    expect(taskFiles.map((file) => path.relative(fixture, file))).toContain('tasks/record-item.ts');
    for (const file of taskFiles) {
      // The replaced module survives under its own path, as a stub that imports shared/runtime/jobs/task.ts and nothing else.
      const imports = input(http, file)?.imports ?? [];
      expect(imports.map((entry) => path.resolve(entry.path))).toEqual([
        path.join(repo, 'shared/runtime/jobs/task.ts'),
      ]);
    }
    // The marker also sits in the task's description, which the OpenAPI document carries; the run code does not.
    const [httpText, workerText] = await Promise.all([bundleText('http.mjs'), bundleText('worker.mjs')]);
    expect(httpText).not.toContain('insert into fixture_item_events');
    expect(httpText).not.toContain('marker:"FIXTURE-TASK-BODY"');
    expect(workerText).toContain('insert into fixture_item_events');
    expect(workerText).toContain('marker:"FIXTURE-TASK-BODY"');
  });

  it('keeps every handler out of the worker bundle', () => {
    expect(inputs(result.metafiles.worker).filter(under('handlers'))).toEqual([]);
    expect(inputs(result.metafiles.http).filter(under('handlers')).length).toBeGreaterThanOrEqual(6);
  });

  it('carries no build-time code (discovery, plugins, OpenAPI generation) into either bundle', () => {
    const buildCode = (file: string) => file.startsWith(path.join(repo, 'shared/build') + path.sep);
    for (const name of ['http', 'worker'] as const) {
      expect(inputs(result.metafiles[name]).filter(buildCode), name).toEqual([]);
    }
  });

  it('keeps Hono out of the worker bundle, and carries the runtime’s migrations in the HTTP one', async () => {
    const hono = (file: string) => /node_modules[\\/](hono|@hono)[\\/]/.test(file);
    expect(inputs(result.metafiles.worker).filter(hono)).toEqual([]);
    expect(inputs(result.metafiles.http).filter(hono).length).toBeGreaterThan(0);
    expect(await bundleText('http.mjs')).toContain('create table if not exists outbox');
  });

  it('writes source maps that map to the sources without carrying them', async () => {
    for (const name of ['http', 'worker']) {
      const map = JSON.parse(await readFile(path.join(outdir, `${name}.mjs.map`), 'utf8'));
      expect(map.sources.length).toBeGreaterThan(10);
      expect(map.sourcesContent ?? []).toEqual([]);
    }
  });

  it("inlines bee-queue's Lua scripts, so nothing reads lib/lua at run time", async () => {
    const lua = path.join(repo, 'node_modules/bee-queue/lib/lua');
    const workerText = await bundleText('worker.mjs');
    for (const file of (await readdir(lua)).filter((name) => name.endsWith('.lua'))) {
      const script = await readFile(path.join(lua, file), 'utf8');
      const line = script
        .split('\n')
        .filter((text) => /^[\w ,.()=:[\]-]+$/.test(text.trim()))
        .sort((a, b) => b.length - a.length)[0];
      expect(workerText, file).toContain(line?.trim());
    }
    const loader = input(result.metafiles.worker, path.join(lua, 'index.js'));
    expect(loader?.imports.map((entry) => entry.path)).not.toContain('fs');
    // The original loader filters a readdir for ".lua" files.
    expect(workerText).not.toContain('".lua"');
  });

  it('writes the OpenAPI document and the docs page assets', async () => {
    const openapi = JSON.parse(await readFile(path.join(outdir, 'openapi.json'), 'utf8'));
    const operations = Object.entries(openapi.paths).flatMap(([route, item]) =>
      Object.keys(item as object).map((method) => `${method.toUpperCase()} ${route}`),
    );
    expect(operations.sort()).toEqual(
      result.routes
        .map((route) => `${route.method} ${route.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}')}`)
        .sort(),
    );
    expect(operations).toEqual(
      expect.arrayContaining(['GET /', 'POST /items', 'GET /items/{id}', 'GET /whoami']),
    );
    expect(openapi['x-tasks'].map((task: { name: string }) => task.name)).toEqual(
      result.tasks.map((task) => task.name),
    );
    expect(result.tasks.map((task) => task.name)).toEqual(
      expect.arrayContaining(['flaky', 'record-item', 'tick']),
    );
    // The types clients are typed by (openapi-typescript), written from the same document.
    const types = await readFile(path.join(outdir, 'openapi.d.ts'), 'utf8');
    expect(types).toMatch(/^export interface paths \{$/m);
    for (const operation of ['"/items/{id}": {', '"/whoami": {', 'export interface components {']) {
      expect(types).toContain(operation);
    }
    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
      expect((await stat(path.join(outdir, 'docs', asset))).size).toBeGreaterThan(1000);
    }
  });

  it('keeps each bundle under its size budget', () => {
    const sizes = {
      http: outputBytes(result.metafiles.http, 'http.mjs'),
      worker: outputBytes(result.metafiles.worker, 'worker.mjs'),
    };
    expect(sizes.http).toBeLessThan(MAX_BUNDLE_BYTES);
    expect(sizes.worker).toBeLessThan(MAX_BUNDLE_BYTES);
  });

  it('carries stand-ins for the modules that need not be carried (see standInsPlugin)', () => {
    for (const meta of [result.metafiles.http, result.metafiles.worker]) {
      const packages = inputs(meta).filter((file) => file.includes(`${path.sep}node_modules${path.sep}`));
      for (const left of ['thread-stream', '@opentelemetry/api', 'es-abstract']) {
        expect(packages.filter((file) => file.includes(`node_modules/${left}/`))).toEqual([]);
      }
    }
  });

  describe('run from a folder holding dist/ alone', () => {
    let alone: string;
    beforeAll(async () => {
      const parent = await mkdtemp(path.join(os.tmpdir(), 'dist-alone-'));
      cleanup.push(parent);
      alone = path.join(parent, 'dist');
      await cp(outdir, alone, { recursive: true });
      for (let dir = alone; dir !== path.dirname(dir); dir = path.dirname(dir)) {
        await expect(stat(path.join(dir, 'node_modules')), `node_modules above ${alone}`).rejects.toThrow();
      }
    });

    it('prints the OpenAPI document', async () => {
      const { code, stdout } = await run(alone, ['http.mjs', 'openapi']);
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual(
        JSON.parse(await readFile(path.join(outdir, 'openapi.json'), 'utf8')),
      );
    });

    it('refuses to start the worker with one message listing every missing variable', async () => {
      const { code, stderr } = await run(alone, ['worker.mjs']);
      expect(code).not.toBe(0);
      expect(stderr.match(/Invalid configuration/g)).toHaveLength(1);
      for (const name of ['PG_HOST', 'POSTGRES_USER', 'POSTGRES_DB', 'RD_HOST']) {
        expect(stderr).toMatch(new RegExp(`^ {2}- ${name}: `, 'm'));
      }
      expect(stderr).not.toMatch(/^\s+at /m);
    });
  });
});

describe('build (a broken app)', () => {
  const handler = (body: string) => `import { defineHandler } from '#runtime/http/handler.ts';\n${body}\n`;
  const taskModule = (extra: string) =>
    `import * as v from 'valibot';\nimport { defineTask } from '#runtime/jobs/task.ts';\n` +
    `export default defineTask({ payload: v.object({}), run: () => undefined${extra} });\n`;
  const good = {
    'handlers/index.get.ts': handler("export default defineHandler({ summary: 'Up', handle: () => 'up' });"),
  };

  it.each([
    [
      'handlers/plain.get.ts',
      "export default { summary: 'Plain', handle: () => 1 };",
      /must be defineHandler/,
    ],
    ['tasks/extra.ts', `${taskModule('')}export const helper = 1;\n`, /exports helper besides its default/],
    ['tasks/bad-cron.ts', taskModule(", schedule: 'every minute'"), /schedule "every minute" is not a cron/],
  ])('refuses %s with a DiscoveryError naming it, writing nothing', async (file, source, problem) => {
    // Inside the repo, so that the app's imports of valibot resolve through its node_modules.
    const root = path.join(repo, `test/fixtures/.tmp-${randomBytes(4).toString('hex')}`);
    cleanup.push(root);
    for (const [name, text] of Object.entries({ ...good, [file]: source })) {
      await mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await writeFile(path.join(root, name), text);
    }
    const error = await build({ root, quiet: true }).catch((error: unknown) => error);
    expect(error).toBeInstanceOf(DiscoveryError);
    expect((error as DiscoveryError).problems).toEqual([expect.stringMatching(new RegExp(`^${file}: `))]);
    expect((error as DiscoveryError).message).toMatch(problem);
    await expect(stat(path.join(root, 'dist'))).rejects.toThrow();
  });
});

/** Runs node in `cwd` with nothing in its environment but PATH, as a bare container would. */
function run(cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
