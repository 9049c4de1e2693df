import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createScratchDatabase } from '../../support/processes.ts';
import { freePort } from '../../support/services.ts';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const fixture = path.join(repo, 'test/fixtures/app');
const devScript = path.join(repo, 'shared/build/dev.mjs');

let dir: string;
let port: number;
let database: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
let dev: ChildProcess | undefined;
let exited: Promise<number | null>;
let output = '';

/** GET / on the dev HTTP process; undefined while nothing answers. */
const served = async () => {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`);
    return (await response.json()) as { app?: string };
  } catch {
    return undefined;
  }
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms; the dev output so far:\n${output}`);
}

const servedApp = (app: string) => async () => ((await served())?.app === app ? true : undefined);
const indexHandler = () => path.join(dir, 'handlers/index.get.ts');

beforeAll(async () => {
  // A copy of the fixture app, which reaches the library and the packages through links, as an app of its own.
  dir = await mkdtemp(path.join(os.tmpdir(), 'dev-test-'));
  for (const folder of ['handlers', 'tasks', 'sql'])
    await cp(path.join(fixture, folder), path.join(dir, folder), { recursive: true });
  await symlink(path.join(repo, 'shared/runtime'), path.join(dir, 'runtime'));
  await symlink(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'dev-fixture', type: 'module', imports: { '#runtime/*': './runtime/*' } }),
  );
  database = await createScratchDatabase();
  port = await freePort();
  const env: Record<string, string> = {
    ...inject('env'),
    APP_ENV: 'development',
    LOG_LEVEL: 'info',
    MIGRATE_ON_START: 'true',
    POSTGRES_DB: database.name,
    RD_PREFIX: `devtest${randomBytes(4).toString('hex')}`,
    AP_PORT: String(port),
    HTTP_METRICS_PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(await freePort()),
    WORKER_HEARTBEAT_FILE: path.join(dir, 'heartbeat.json'),
  };
  // The dev script reads the app's .env: its only configuration here.
  const lines = Object.entries(env).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  await writeFile(path.join(dir, '.env'), `${lines.join('\n')}\n`);
  dev = spawn(process.execPath, [devScript], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = dev;
  exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
});

afterAll(async () => {
  if (dev && dev.exitCode === null && dev.signalCode === null) {
    dev.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    if (dev.exitCode === null && dev.signalCode === null) dev.kill('SIGKILL');
  }
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
}, 40_000);

describe('npm run dev', () => {
  it('builds and serves the app from its .env, with pretty logs from both processes', async () => {
    await until('the first build serves GET /', servedApp('fixture'), 40_000);
    await until(
      'the worker logs that it started',
      async () => /^worker .*worker started/m.test(output) || undefined,
    );
    // Info lines are written in batches (up to 100 ms late), so the line may follow the first answer.
    await until(
      'the HTTP process logs that it listens',
      async () => /^http +\S+ INFO +listening/m.test(output) || undefined,
    );
  }, 45_000);

  it('serves a handler’s new return value after a save', async () => {
    const source = await readFile(indexHandler(), 'utf8');
    const saved = Date.now();
    await writeFile(indexHandler(), source.replace("app: 'fixture'", "app: 'edited'"));
    await until('the edited value is served', servedApp('edited'));
    // The figure goes to the test's output; the time it takes depends on the machine, so it is not asserted.
    console.info(`dev: save to serving took ${Date.now() - saved} ms`);
  });

  it('serves a new handler file after a save', async () => {
    await writeFile(
      path.join(dir, 'handlers/added.get.ts'),
      "import { defineHandler } from '#runtime/http/handler.ts';\n\nexport default defineHandler({ summary: 'Added', handle: () => ({ added: true }) });\n",
    );
    await until('the new route answers', async () => {
      const response = await fetch(`http://127.0.0.1:${port}/added`).catch(() => undefined);
      return response?.ok ? true : undefined;
    });
  });

  it('prints a syntax error and keeps the last good process serving', async () => {
    const before = output.length;
    await writeFile(indexHandler(), "export default defineHandler({ handle: () => ({ app: 'broken' ");
    await until('the build error is printed', async () => {
      const after = output.slice(before);
      return /handlers\/index\.get\.ts:\d+:\d+: ERROR/.test(after) && /build failed/.test(after)
        ? true
        : undefined;
    });
    expect(await served()).toEqual({ app: 'edited' });
  });

  it('stops with its processes on SIGTERM', async () => {
    dev?.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise((resolve) => setTimeout(() => resolve('timeout'), 25_000)),
    ]);
    expect(code).toBe(0);
    expect(await served()).toBeUndefined();
    expect(output).toMatch(/^worker .*shutting down/m);
  }, 30_000);
});
