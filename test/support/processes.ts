import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { inject } from 'vitest';
import { build } from '../../build.mjs';

/** A bundle running as a child process, with its output kept for assertions. */
export type BundleProcess = {
  child: ChildProcess;
  output(): string;
  /** JSON log lines printed so far. */
  logs(): Record<string, unknown>[];
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/**
 * Copies a built dist/ and an sql/ folder alone into an empty temp folder, the way the image holds them, so
 * the bundles run with no node_modules to fall back on.
 */
export async function installBundles(distDir: string, sqlDir: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bundles-'));
  await cp(distDir, path.join(dir, 'dist'), { recursive: true });
  await cp(sqlDir, path.join(dir, 'sql'), { recursive: true });
  return dir;
}

/**
 * Builds the app at `root` and installs its bundles (see installBundles); `cleanup` removes the installed
 * folder. The build output goes as soon as it is copied, so that there is nothing else to clean up when a
 * later step fails.
 */
export async function installBuiltApp(root: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const outdir = await mkdtemp(path.join(os.tmpdir(), 'build-'));
  try {
    await build({ root, outdir, quiet: true });
    const dir = await installBundles(outdir, path.join(root, 'sql'));
    return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

/** A built app installed alone, with a database of its own and the env that points its bundles at it. */
export type BuiltApp = {
  dir: string;
  /** The database's name. */
  database: string;
  env: Record<string, string>;
  /** Drops the database and removes the folder; stop the app's processes first. */
  cleanup(): Promise<void>;
};

/**
 * installBuiltApp, plus a scratch database on the run's server and the run's env for it, logging at `info`
 * for the tests to read. Its Redis keys go under `redisPrefix` and random hex, so that test files running at
 * once never share a queue.
 */
export async function installBuiltAppWithDatabase(root: string, redisPrefix: string): Promise<BuiltApp> {
  const installed = await installBuiltApp(root);
  const database = await createScratchDatabase().catch(async (error: unknown) => {
    await installed.cleanup();
    throw error;
  });
  const env = {
    ...inject('env'),
    LOG_LEVEL: 'info',
    POSTGRES_DB: database.name,
    RD_PREFIX: `${redisPrefix}${randomBytes(4).toString('hex')}`,
  };
  return {
    dir: installed.dir,
    database: database.name,
    env,
    async cleanup() {
      await database.drop();
      await installed.cleanup();
    },
  };
}

/** Starts `node dist/<bundle> ...args` in `cwd` with exactly `env` (plus PATH). */
export function runBundle(
  cwd: string,
  bundle: string,
  args: string[],
  env: Record<string, string>,
): BundleProcess {
  const child = spawn(process.execPath, [path.join('dist', bundle), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk) => {
    text += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    text += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const logs = () =>
    text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    child,
    exited,
    output: () => text,
    logs,
    async waitForLog(match, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = logs().find(match);
        if (found) return found;
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no matching log line within ${timeoutMs} ms; output so far:\n${text}`);
    },
  };
}

/** Kills a process that is still running, and waits for it. */
export async function stopProcess(processToStop: BundleProcess | undefined): Promise<void> {
  if (!processToStop || processToStop.child.exitCode !== null || processToStop.child.signalCode !== null)
    return;
  processToStop.child.kill('SIGKILL');
  await processToStop.exited;
}

/** A database of its own on the run's server, for tests that run bundles with their own migrations. */
export async function createScratchDatabase(): Promise<{
  name: string;
  /** A small client on the database, ended by `drop`. */
  connect(): postgres.Sql;
  drop(): Promise<void>;
}> {
  const admin = postgres({ ...runServer(), database: 'postgres', max: 1 });
  const clients: postgres.Sql[] = [];
  const name = `scratch_${randomBytes(6).toString('hex')}`;
  await admin`create database ${admin(name)}`;
  return {
    name,
    connect() {
      const client = postgres({ ...runServer(), database: name, max: 2 });
      clients.push(client);
      return client;
    },
    async drop() {
      await Promise.all(clients.map((client) => client.end({ timeout: 5 })));
      await admin`drop database if exists ${admin(name)} with (force)`;
      await admin.end({ timeout: 5 });
    },
  };
}

/** The connection settings of this run's PostgreSQL server. */
function runServer() {
  const env = inject('env');
  return {
    host: env.PG_HOST,
    port: Number(env.PG_PORT),
    user: env.POSTGRES_USER,
    password: env.POSTGRES_PASSWORD || undefined,
    onnotice: () => {},
  };
}
