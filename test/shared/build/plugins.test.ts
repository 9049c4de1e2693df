import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonTextPlugin, standInsPlugin } from '#shared/build/plugins.mjs';
import { common } from '../../../build.mjs';

const repo = path.resolve(import.meta.dirname, '../../..');
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** Bundles `contents` (resolved from the repo) with the bundles' options and `plugins`, and imports it. */
async function bundled(contents: string, plugins: esbuild.Plugin[]) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugins-test-'));
  dirs.push(dir);
  const outfile = path.join(dir, 'out.mjs');
  await esbuild.build({
    ...common,
    stdin: { contents, resolveDir: repo, loader: 'js' },
    outfile,
    plugins,
  });
  return { text: await readFile(outfile, 'utf8'), module: await import(pathToFileURL(outfile).href) };
}

describe('standInsPlugin', () => {
  it('carries a stand-in for each module the bundles need not carry, which names itself when called', async () => {
    const { module } = await bundled(
      [
        "import ThreadStream from 'thread-stream';",
        "import otel from '@opentelemetry/api';",
        "import descriptors from 'object.getownpropertydescriptors';",
        'export const threadStream = () => new ThreadStream({});',
        'export const trace = () => otel.trace;',
        'export { descriptors };',
      ].join('\n'),
      [standInsPlugin()],
    );
    expect(module.threadStream).toThrow(/^thread-stream is left out of this bundle \(pino transports/);
    expect(module.trace).toThrow(
      /^@opentelemetry\/api is left out of this bundle \(metric exemplars are off\)/,
    );
    expect(module.descriptors).toBe(Object.getOwnPropertyDescriptors);
  });

  it('leaves every other module as it is', async () => {
    const { text } = await bundled("export { default } from 'ms';", [standInsPlugin()]);
    expect(text).not.toContain('left out of this bundle');
  });
});

describe('jsonTextPlugin', () => {
  it("gives a dependency's JSON file as JSON.parse of its text, equal to the file", async () => {
    const file = createRequire(path.join(repo, 'package.json')).resolve('redis-commands/commands.json');
    const { text, module } = await bundled("export { default } from 'redis-commands/commands.json';", [
      jsonTextPlugin(),
    ]);
    expect(module.default).toEqual(JSON.parse(await readFile(file, 'utf8')));
    expect(text).toContain('JSON.parse(');
  });

  it("leaves the app's own JSON files to esbuild", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'plugins-test-app-'));
    dirs.push(dir);
    await writeFile(path.join(dir, 'data.json'), '{"answer": 42}');
    const { text, module } = await bundled(
      `export { answer } from ${JSON.stringify(path.join(dir, 'data.json'))};`,
      [jsonTextPlugin()],
    );
    expect(module.answer).toBe(42);
    expect(text).not.toContain('JSON.parse(');
  });
});
