import { existsSync, readFileSync, watch } from 'node:fs';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import * as esbuild from 'esbuild';
import { common, describeSource, swaggerUiDir } from '../../build.mjs';
import { devLog, startProcess, useColor } from './dev-processes.mjs';
import { describeInWorker, ensureDatabase, printBuildError } from './dev-support.mjs';
import { DiscoveryError, discover } from './discovery.mjs';
import { httpEntry, workerEntry } from './entries.mjs';
import { runtimePlugins, taskReferencePlugin } from './plugins.mjs';

/**
 * `npm run dev`: builds both bundles into <root>/dist with esbuild's incremental rebuilds, runs them, and on a
 * change under handlers/, tasks/, shared/ or sql/ rebuilds and restarts the process whose bundle changed. A
 * failed build is printed and the running processes are left alone. `.env` in the root is read when present;
 * variables already set in the shell win, as with `node --env-file`.
 */

const WATCHED = ['handlers', 'tasks', 'shared', 'sql'];
const taskModule = fileURLToPath(new URL('../runtime/jobs/task.ts', import.meta.url));
const root = path.resolve(process.argv[2] ?? process.cwd());
const outdir = path.join(root, 'dist');
const envFile = path.join(root, '.env');
// The one place the dev loop reads the environment: the children get it, with .env's values under it.
// No load balancer routes to a dev server: a restart on save must not wait out the production drain.
/** @type {Record<string, string | undefined>} */
const env = {
  ...(existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {}),
  ...process.env,
  SHUTDOWN_DRAIN_MS: '0',
};
useColor(!env.NO_COLOR);
// Beside the bundles, so that the packages it leaves external resolve from the app's node_modules.
const describeFile = path.join(outdir, '.describe', 'describe.mjs');

/** The entries' current sources, which the virtual `dev-entry:<name>` modules serve at each rebuild. */
const entries = { describe: '', http: '', worker: '' };
/** Task policies by name, read by the HTTP bundle's task references; refilled by each describe step. */
const policies = new Map();
/** @type {Map<string, string>} what each output file last held, so that an unchanged bundle is neither written nor restarted */
const written = new Map();
/** @type {{ key: string, describe: esbuild.BuildContext, http: esbuild.BuildContext, worker: esbuild.BuildContext } | undefined} */
let contexts;
/** @type {Record<'http' | 'worker', ReturnType<typeof startProcess> | undefined>} */
const processes = { http: undefined, worker: undefined };

/**
 * One build: discovery (new contexts when the set of files changed), the describe step, both bundles.
 * Returns which bundles changed.
 */
async function rebuild() {
  const found = await discover(root);
  const key = JSON.stringify(found);
  if (contexts?.key !== key) {
    await disposeContexts();
    const [describe, http, worker] = await Promise.all([
      context('describe', describeFile, runtimePlugins()),
      context('http', path.join(outdir, 'http.mjs'), [
        taskReferencePlugin(found.tasks, policies, taskModule),
        ...runtimePlugins(),
      ]),
      context('worker', path.join(outdir, 'worker.mjs'), runtimePlugins()),
    ]);
    contexts = { key, describe, http, worker };
  }
  entries.describe = await describeSource(root, found.appModule, found.routes, found.tasks);
  await writeOutputs(await contexts.describe.rebuild());
  /** @type {import('./describe.ts').AppDescription} */
  const description = await describeInWorker(describeFile);
  if (description.problems.length > 0) throw new DiscoveryError(description.problems);
  policies.clear();
  for (const task of description.tasks) policies.set(task.name, task.policy);
  entries.http = httpEntry(found.appModule, found.routes, description.openapi);
  entries.worker = workerEntry(found.appModule, found.tasks);
  const [http, worker] = await Promise.all([contexts.http.rebuild(), contexts.worker.rebuild()]);
  const [httpChanged, workerChanged] = await Promise.all([writeOutputs(http), writeOutputs(worker)]);
  await writeOutputs({
    outputFiles: [
      { path: path.join(outdir, 'openapi.json'), text: `${JSON.stringify(description.openapi, null, 2)}\n` },
    ],
  });
  return { http: httpChanged, worker: workerChanged };
}

/**
 * @param {keyof typeof entries} name
 * @param {string} outfile
 * @param {esbuild.Plugin[]} plugins
 */
function context(name, outfile, plugins) {
  return esbuild.context({
    ...common,
    entryPoints: [`dev-entry:${name}`],
    outfile,
    write: false,
    // Packages load from node_modules at run time: a rebuild then re-links the app's code alone, about a tenth
    // of a production bundle. `npm run build` still bundles them.
    packages: 'external',
    sourcemap: true,
    sourcesContent: false,
    plugins: [
      {
        name: 'dev-entry',
        setup(build) {
          build.onResolve({ filter: /^dev-entry:/ }, (args) => ({ path: args.path, namespace: 'dev-entry' }));
          build.onLoad({ filter: /.*/, namespace: 'dev-entry' }, () => ({
            contents: entries[name],
            resolveDir: root,
            loader: 'ts',
          }));
        },
      },
      ...plugins,
    ],
  });
}

/**
 * Writes the files whose text changed; true when a .mjs did.
 * @param {{ outputFiles?: { path: string, text: string }[] }} result
 */
async function writeOutputs({ outputFiles = [] }) {
  const changed = outputFiles.filter((file) => written.get(file.path) !== file.text);
  await Promise.all(changed.map((file) => writeFile(file.path, file.text)));
  for (const file of changed) written.set(file.path, file.text);
  return changed.some((file) => file.path.endsWith('.mjs'));
}

async function disposeContexts() {
  const old = contexts;
  contexts = undefined;
  if (old) await Promise.all([old.describe.dispose(), old.http.dispose(), old.worker.dispose()]);
}

/** @type {Set<string>} */
const changedFiles = new Set();
let building = false;
/** @type {NodeJS.Timeout | undefined} */
let debounce;

/** Rebuilds, then restarts what changed (the HTTP process also for a migration); runs one build at a time. */
async function cycle() {
  if (building) return;
  building = true;
  const files = [...changedFiles];
  changedFiles.clear();
  const started = performance.now();
  try {
    const changed = await rebuild();
    const built = performance.now();
    const sqlChanged = files.some((file) => file.startsWith(`sql${path.sep}`));
    /** @type {('http' | 'worker')[]} */
    const restart = [];
    if (changed.http || sqlChanged || !processes.http?.running) restart.push('http');
    if (changed.worker || !processes.worker?.running) restart.push('worker');
    await Promise.all(restart.map(restartProcess));
    const what = files.length > 0 ? files.join(', ') : 'first build';
    devLog(
      `built in ${Math.round(built - started)} ms (${what}); ${restart.length > 0 ? `restarted ${restart.join(' and ')}` : 'no bundle changed'}`,
    );
  } catch (error) {
    printBuildError(error, files);
  } finally {
    building = false;
  }
  if (changedFiles.size > 0) schedule();
}

/** @param {'http' | 'worker'} name */
async function restartProcess(name) {
  await processes[name]?.stop(5_000);
  processes[name] = startProcess(name, { root, outdir, env });
}

function schedule() {
  clearTimeout(debounce);
  // Editors write a file in several steps; one build follows them all.
  debounce = setTimeout(() => void cycle(), 20);
}

const watchers = WATCHED.filter((dir) => existsSync(path.join(root, dir))).map((dir) =>
  watch(path.join(root, dir), { recursive: true }, (_event, file) => {
    changedFiles.add(path.join(dir, file ?? ''));
    schedule();
  }),
);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  clearTimeout(debounce);
  for (const watcher of watchers) watcher.close();
  await Promise.all(Object.values(processes).map((child) => child?.stop(20_000)));
  await disposeContexts();
  process.exit(0);
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

await ensureDatabase(env);
await rm(outdir, { recursive: true, force: true });
await mkdir(path.join(outdir, 'docs'), { recursive: true });
await mkdir(path.dirname(describeFile), { recursive: true });
await Promise.all(
  ['swagger-ui-bundle.js', 'swagger-ui.css'].map((file) =>
    cp(path.join(swaggerUiDir(), file), path.join(outdir, 'docs', file)),
  ),
);
await cycle();
