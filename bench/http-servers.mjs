import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { build } from '../build.mjs';
import { SERVER_CPU } from './settings.mjs';
import { freePort, HOST, projectRoot, startNode, tail, waitUntilServing } from './support.mjs';

// The servers the bench measures, built and started the way they run in production: ours as `node
// dist/http.mjs` (the bench fixture's for hello and POST, the reference app's for the DB read), and the
// baselines bundled with esbuild and minified as ours are, except Fastify, which runs from node_modules.

/**
 * @typedef {import('./support.mjs').Started} Started
 * @typedef {import('./support.mjs').StoreEnv} StoreEnv
 * @typedef {{ id: string, label: string, base: string, started: Started }} Server
 */

/**
 * Builds the bench fixture and the reference app into `tmp` (or takes another checkout's, BENCH_OURS) and
 * returns the two HTTP bundles.
 * @param {string} tmp
 * @param {string | undefined} oursDir
 */
export async function buildOurs(tmp, oursDir) {
  const fixture = path.join(tmp, 'fixture-dist');
  if (!oursDir) {
    const app = path.join(tmp, 'app-dist');
    await build({ root: path.join(projectRoot, 'bench/fixture'), outdir: fixture, quiet: true });
    await build({ root: projectRoot, outdir: app, quiet: true });
    return { fixture, app, root: projectRoot };
  }
  // The other checkout's own build, so that its runtime and its esbuild settings are what is measured.
  const script =
    'const { build } = await import(process.argv[1]); await build({ root: process.argv[2], outdir: process.argv[3], quiet: true });';
  const built = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      script,
      path.join(oursDir, 'build.mjs'),
      path.join(oursDir, 'bench/fixture'),
      fixture,
    ],
    { cwd: oursDir, encoding: 'utf8' },
  );
  if (built.status !== 0 || !existsSync(path.join(fixture, 'http.mjs'))) {
    throw new Error(
      `BENCH_OURS: building ${oursDir}/bench/fixture with its build.mjs failed:\n${built.stderr}`,
    );
  }
  return { fixture, app: path.join(oursDir, 'dist'), root: oursDir };
}

/** A baseline bundled like ours (one minified ESM file). @param {string} entry @param {string} outfile */
export async function bundleBaseline(entry, outfile) {
  await esbuild.build({
    entryPoints: [path.join(projectRoot, entry)],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    logLevel: 'silent',
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  });
  return outfile;
}

/**
 * The environment of one of our HTTP processes as production runs it: its own ports, the run's stores, no
 * migrations unless asked.
 * @param {string} tmp @param {StoreEnv} stores @param {Record<string, string>} extra
 */
export async function oursEnv(tmp, stores, extra) {
  return {
    ...stores,
    AP_HOST: HOST,
    AP_PORT: String(await freePort(tmp)),
    HTTP_METRICS_PORT: String(await freePort(tmp)),
    MIGRATE_ON_START: 'false',
    KEYS_DIR: path.join(tmp, 'keys'),
    // Outside production every answer is checked against its schema; production (what is measured) does not.
    CHECK_RESPONSES: 'false',
    ...extra,
  };
}

/**
 * Starts a server pinned to the server core and waits until `ready` answers 200.
 * @param {string} tmp
 * @param {{ id: string, label: string, script: string, env?: Record<string, string>, port?: string, ready: string }} spec
 * @returns {Promise<Server>}
 */
export async function startServer(tmp, spec) {
  const port = spec.env?.AP_PORT ?? spec.port ?? String(await freePort(tmp));
  const started = startNode(tmp, spec.id, spec.script, {
    args: spec.env?.AP_PORT ? [] : [port],
    env: spec.env ?? {},
    cpu: SERVER_CPU,
  });
  const base = `http://${HOST}:${port}`;
  await waitUntilServing(started, `${base}${spec.ready}`, 60_000);
  return { id: spec.id, label: spec.label, base, started };
}

/**
 * A user with a live session, one note and its access token, made through the reference app's own API, and
 * the public keys it publishes (for the baseline's verification).
 * @param {Server} server
 */
export async function seedNote({ base, started }) {
  const json = { 'content-type': 'application/json' };
  const account = { email: `bench-${Date.now()}@example.test`, password: 'a long enough password' };
  /** @type {(route: string, body: object, headers?: Record<string, string>) => Promise<any>} */
  const post = async (route, body, headers = json) => {
    const answer = await fetch(`${base}${route}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!answer.ok) {
      const text = await answer.text();
      throw new Error(
        `seeding: POST ${route} answered ${answer.status}: ${text}\nServer output:\n${tail(started.logFile)}`,
      );
    }
    return answer.json();
  };
  await post('/auth/register', account);
  const { accessToken } = await post('/auth/login', account);
  const note = await post(
    '/notes',
    { title: 'Groceries', body: 'Milk, eggs, and the good bread.', tags: ['home', 'errands'] },
    { ...json, authorization: `Bearer ${accessToken}` },
  );
  const jwks = await (await fetch(`${base}/.well-known/jwks.json`)).json();
  return { authorization: `Bearer ${accessToken}`, noteId: String(note.id), jwks: JSON.stringify(jwks) };
}
