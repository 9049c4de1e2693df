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

/**
 * Modules a dependency requires at load that the bundles need not carry, and what stands in for each: every one
 * carried costs each start its parsing, and some their module bodies. A stand-in for code the runtime never
 * calls throws, naming itself, if it ever is called.
 * @type {Record<string, { why: string, stub: string }>}
 */
const STAND_INS = {
  // pino's transports run in worker threads, which a bundle cannot start: the runtime logs to stdout.
  'thread-stream': {
    why: 'pino transports are not used: the runtime logs JSON to stdout',
    stub: 'module.exports = class ThreadStream { constructor() { refuse(); } };',
  },
  // prom-client reads the active trace only for exemplars, which no metric of the runtime enables.
  '@opentelemetry/api': {
    why: 'metric exemplars are off',
    stub: 'module.exports = { get trace() { return refuse(); }, get context() { return refuse(); } };',
  },
  // bee-queue's promise-callbacks polyfills it with es-abstract and a dozen more packages; Node has it.
  'object.getownpropertydescriptors': {
    why: 'Node has Object.getOwnPropertyDescriptors',
    stub: 'module.exports = Object.getOwnPropertyDescriptors;',
  },
};

/**
 * Swaps each module of STAND_INS for its stand-in.
 * @returns {import('esbuild').Plugin}
 */
export function standInsPlugin() {
  const names = Object.keys(STAND_INS).map((name) => name.replace(/[/.]/g, '\\$&'));
  return {
    name: 'stand-ins',
    setup(build) {
      build.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => ({
        path: args.path,
        namespace: 'stand-in',
      }));
      build.onLoad({ filter: /.*/, namespace: 'stand-in' }, (args) => {
        const { why, stub } = STAND_INS[args.path] ?? {};
        const message = `${args.path} is left out of this bundle (${why})`;
        return {
          contents: `const refuse = () => { throw new Error(${JSON.stringify(message)}); };\n${stub}\n`,
          loader: 'js',
        };
      });
    },
  };
}

/**
 * A dependency's JSON file (ioredis's and node_redis's command tables, about 100 KB) as `JSON.parse` of its text
 * rather than esbuild's object literal: the process scans one string instead of compiling and running a literal
 * of thousands of objects, which is several times slower.
 * @returns {import('esbuild').Plugin}
 */
export function jsonTextPlugin() {
  return {
    name: 'json-text',
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/].*\.json$/ }, async (args) => {
        const text = JSON.stringify(JSON.parse(await readFile(args.path, 'utf8')));
        return { contents: `module.exports = JSON.parse(${JSON.stringify(text)});\n`, loader: 'js' };
      });
    },
  };
}

/** The plugins every bundle of runtime code needs. */
export function runtimePlugins() {
  return [beeQueueLuaPlugin(), rawTextPlugin(), standInsPlugin(), jsonTextPlugin()];
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
