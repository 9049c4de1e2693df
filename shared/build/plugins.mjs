import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * bee-queue reads its Lua scripts from its own folder at run time, which a bundle does not have. This swaps its
 * script loader for one with the scripts inlined as strings, keeping the loader's interface.
 * @returns {import('esbuild').Plugin}
 */
export function beeQueueLuaPlugin() {
  return {
    name: 'bee-queue-lua',
    setup(build) {
      build.onLoad({ filter: /bee-queue[\\/]lib[\\/]lua[\\/]index\.js$/ }, async (args) => {
        const dir = path.dirname(args.path);
        /** @type {Record<string, string>} */
        const scripts = {};
        for (const file of (await readdir(dir)).filter((name) => name.endsWith('.lua')).sort()) {
          scripts[file.slice(0, -4)] = await readFile(path.join(dir, file), 'utf8');
        }
        if (Object.keys(scripts).length === 0) throw new Error(`no Lua scripts found beside ${args.path}`);
        return { contents: inlinedLuaLoader(scripts), loader: 'js', resolveDir: dir };
      });
    },
  };
}

/**
 * `import text from './file.sql?raw'` gives the file's text, as vitest does natively: the runtime's migrations
 * are carried inside the bundles this way.
 * @returns {import('esbuild').Plugin}
 */
export function rawTextPlugin() {
  return {
    name: 'raw-text',
    setup(build) {
      build.onResolve({ filter: /\?raw$/ }, (args) => ({
        path: path.resolve(args.resolveDir, args.path.slice(0, -'?raw'.length)),
        namespace: 'raw-text',
      }));
      build.onLoad({ filter: /.*/, namespace: 'raw-text' }, async (args) => ({
        contents: await readFile(args.path, 'utf8'),
        loader: 'text',
      }));
    },
  };
}

/** The plugins every bundle of runtime code needs. */
export function runtimePlugins() {
  return [beeQueueLuaPlugin(), rawTextPlugin()];
}

/**
 * In the HTTP bundle, a task module becomes a light reference (its name and queue policy): a handler can
 * enqueue it, and none of the task's code is carried.
 * @param {{ name: string, absolute: string }[]} tasks
 * @param {Map<string, import('../runtime/jobs/task.ts').JobPolicy>} policies by task name
 * @param {string} taskModule absolute path of shared/runtime/jobs/task.ts
 * @returns {import('esbuild').Plugin}
 */
export function taskReferencePlugin(tasks, policies, taskModule) {
  const byFile = new Map(tasks.map((task) => [path.resolve(task.absolute), task.name]));
  return {
    name: 'task-references',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const name = byFile.get(path.resolve(args.path));
        if (name === undefined) return undefined;
        const policy = JSON.stringify(policies.get(name));
        return {
          contents: `import { taskRef } from ${JSON.stringify(taskModule)};\nexport default taskRef(${JSON.stringify(name)}, ${policy});\n`,
          loader: 'ts',
          resolveDir: path.dirname(args.path),
        };
      });
    },
  };
}

/** @param {Record<string, string>} scripts */
function inlinedLuaLoader(scripts) {
  return `'use strict';
const crypto = require('crypto');
const helpers = require('../helpers');
const scripts = ${JSON.stringify(scripts)};
const shas = {};
for (const name of Object.keys(scripts)) {
  shas[name] = crypto.createHash('sha1').update(scripts[name]).digest('hex');
}
function loadIfMissing(client, name) {
  return helpers
    .callAsync((done) => client.script('exists', shas[name], done))
    .then((exists) => (exists[0] === 0 ? helpers.callAsync((done) => client.script('load', scripts[name], done)) : null));
}
function buildCache(client) {
  return Promise.all(Object.keys(shas).map((name) => loadIfMissing(client, name)));
}
module.exports = { scripts, shas, buildCache };
`;
}
