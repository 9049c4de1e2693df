import { fork, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { runtimePlugins } from '#shared/build/plugins.mjs';

export const projectRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const HOST = '127.0.0.1';

/**
 * @typedef {{ PG_HOST: string, PG_PORT: string, POSTGRES_USER: string, POSTGRES_PASSWORD: string,
 *   POSTGRES_DB: string, RD_HOST: string, RD_PORT: string, RD_PASSWORD: string, RD_PREFIX: string,
 *   SHUTDOWN_DRAIN_MS: string }} StoreEnv
 * @typedef {{ child: import('node:child_process').ChildProcess, logFile: string,
 *   exited: Promise<unknown>, stop(): Promise<void> }} Started
 */

/** @type {(() => Promise<unknown>)[]} */
const cleanups = [];
/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();

// Whatever happens to the bench, the processes it started do not outlive it.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * A whole number from a BENCH_* variable, or the fallback.
 * @param {string} name
 * @param {number} fallback
 */
export function setting(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number above 0 (got ${raw})`);
  return value;
}

/** The machine the numbers come from, printed above them. */
export function machine() {
  const cpus = os.cpus();
  const memory = `${Math.round(os.totalmem() / 2 ** 30)} GiB`;
  const load = os.loadavg()[0]?.toFixed(2);
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${memory}, Node ${process.version}, ${os.type()} ${os.release()}, load average ${load} at start`;
}

/**
 * Runs `main` with every resource it registers released at the end, on failure, on Ctrl-C and at `limitMs`,
 * after which the bench gives up: it stops by itself even if something hangs.
 * @param {number} limitMs
 * @param {(tmp: string) => Promise<void>} main
 */
export async function runBench(limitMs, main) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-'));
  cleanups.push(() => rm(tmp, { recursive: true, force: true }));
  const stopAll = async () => {
    while (cleanups.length > 0)
      await cleanups
        .pop()?.()
        .catch((error) => console.error(error));
  };
  const timer = setTimeout(() => {
    console.error(`The bench ran past its limit of ${Math.round(limitMs / 1000)} s; stopping.`);
    stopAll().finally(() => process.exit(1));
  }, limitMs);
  process.once('SIGINT', () => stopAll().finally(() => process.exit(130)));
  try {
    await main(tmp);
  } catch (error) {
    process.exitCode = 1;
    console.error(error instanceof Error ? error.stack : error);
  } finally {
    clearTimeout(timer);
    await stopAll();
  }
}

/**
 * PostgreSQL and Redis for one run. The servers named by PG_HOST / RD_HOST (with PG_PORT, POSTGRES_USER,
 * POSTGRES_PASSWORD, RD_PORT, RD_PASSWORD) when set, otherwise throwaway ones, chosen by the code the tests
 * use (test/support/stores.ts). A `scratch` database is
 * created and dropped; the run's Redis keys share RD_PREFIX and are deleted at the end.
 * @param {string} tmp
 * @param {{ scratch?: boolean }} [options]
 * @returns {Promise<{ env: StoreEnv, where: string }>}
 */
export async function startStores(tmp, { scratch = false } = {}) {
  /** @type {typeof import('../test/support/stores.ts')} */
  const { openStores } = await loadBundled(tmp, 'test/support/stores.ts');
  const { pg, redis } = await openStores(process.env, (/** @type {() => Promise<unknown>} */ step) =>
    cleanups.push(step),
  );
  const env = process.env;
  const password = pg.password;
  const redisPassword = redis.password;
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  let database = (pg.given && env.POSTGRES_DB) || 'postgres';
  if (scratch) {
    const { host, port, user } = pg;
    const admin = postgres({
      host,
      port,
      user,
      password: password || undefined,
      database,
      max: 1,
      onnotice: () => {},
    });
    const name = prefix.replace('-', '_');
    await admin`create database ${admin(name)}`;
    cleanups.push(async () => {
      await admin`drop database if exists ${admin(name)} with (force)`;
      await admin.end({ timeout: 5 });
    });
    database = name;
  }
  if (redis.given) cleanups.push(() => deleteKeys(redis, redisPassword, prefix));
  /** @type {(name: string, server: { host: string, port: number, given: boolean }) => string} */
  const where = (name, server) =>
    `${name} ${server.given ? 'given' : 'throwaway'} at ${server.host}:${server.port}`;
  return {
    env: {
      PG_HOST: pg.host,
      PG_PORT: String(pg.port),
      POSTGRES_USER: pg.user,
      POSTGRES_PASSWORD: password,
      POSTGRES_DB: database,
      RD_HOST: redis.host,
      RD_PORT: String(redis.port),
      RD_PASSWORD: redisPassword,
      RD_PREFIX: prefix,
      // Stopped with SIGTERM between rounds, with nothing in front of them to drain from.
      SHUTDOWN_DRAIN_MS: '0',
    },
    where: `${where('PostgreSQL', pg)}, ${where('Redis', redis)}`,
  };
}

/** A port nobody listens on, from the tests' helper. */
export async function freePort(/** @type {string} */ tmp) {
  /** @type {typeof import('../test/support/throwaway-servers.ts')} */
  const servers = await loadBundled(tmp, 'test/support/throwaway-servers.ts');
  return servers.freePort();
}

/**
 * Bundles a TypeScript entry the way build.mjs bundles the app (Node ESM, bee-queue's scripts inlined), so
 * that plain .mjs can run code from shared/ and test/support/.
 * @param {string} entry path from the project root
 * @param {string} outfile
 */
export async function bundle(entry, outfile) {
  await esbuild.build({
    entryPoints: [path.join(projectRoot, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    logLevel: 'silent',
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    plugins: runtimePlugins(),
  });
  return outfile;
}

/**
 * Starts a Node process with its output going to a log file (shown if it fails). `ipc` forks it with a
 * message channel. It is stopped at the end of the run in any case.
 * @param {string} tmp
 * @param {string} name
 * @param {string} script
 * @param {{ args?: string[], env?: Record<string, string>, cwd?: string, ipc?: boolean, cpu?: number }} [options]
 * @returns {Started}
 */
export function startNode(tmp, name, script, { args = [], env = {}, cwd = tmp, ipc = false, cpu } = {}) {
  const logFile = path.join(tmp, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const childEnv = { PATH: process.env.PATH ?? '', ...env };
  // Pinned to one core where taskset exists, so that what is measured and what loads it do not share one.
  const pinned = cpu !== undefined && hasTaskset();
  const child = ipc
    ? fork(script, args, { cwd, env: childEnv, stdio: ['ignore', fd, fd, 'ipc'] })
    : pinned
      ? spawn('taskset', ['-c', String(cpu), process.execPath, script, ...args], {
          cwd,
          env: childEnv,
          stdio: ['ignore', fd, fd],
        })
      : spawn(process.execPath, [script, ...args], { cwd, env: childEnv, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  children.add(child);
  const exited = once(child, 'exit').finally(() => children.delete(child));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  cleanups.push(stop);
  return { child, logFile, exited, stop };
}

/** The last lines a process wrote, for an error message. */
export function tail(/** @type {string} */ logFile, lines = 20) {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/**
 * Waits until `url` answers 200, or fails naming the process and showing its last output.
 * @param {Started} started
 * @param {string} url
 */
export async function waitUntilServing(started, url, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && started.child.exitCode === null) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms. Output:\n${tail(started.logFile)}`);
}

/** Right-aligned columns under a header; the first column left-aligned. */
export function table(/** @type {string[][]} */ rows) {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
        )
        .join('  '),
    )
    .join('\n');
}

/** `ours / theirs` to two decimals. */
export function ratio(/** @type {number} */ ours, /** @type {number} */ theirs) {
  return theirs > 0 ? `${(ours / theirs).toFixed(2)}x` : 'n/a';
}

/** A whole number with thousands separators. */
export function count(/** @type {number} */ value) {
  return Math.round(value).toLocaleString('en-US');
}

/** @type {Map<string, Promise<any>>} */
const bundled = new Map();

/**
 * A module of the test harness, bundled once a run (it is TypeScript; the bench is not).
 * @template T
 * @param {string} tmp
 * @param {string} entry path from the project root
 * @returns {Promise<T>}
 */
function loadBundled(tmp, entry) {
  let loaded = bundled.get(entry);
  if (!loaded) {
    const outfile = path.join(tmp, `${path.basename(entry, '.ts')}.mjs`);
    loaded = bundle(entry, outfile).then((file) => import(pathToFileURL(file).href));
    bundled.set(entry, loaded);
  }
  return loaded;
}

/**
 * @param {{ host: string, port: number }} server
 * @param {string} password
 * @param {string} prefix
 */
async function deleteKeys(server, password, prefix) {
  const redis = new Redis({ ...server, password: password || undefined, lazyConnect: true });
  try {
    await redis.connect();
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

/** Whether `taskset` can pin a process here (util-linux; absent on some machines). */
export function hasTaskset() {
  return spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}
