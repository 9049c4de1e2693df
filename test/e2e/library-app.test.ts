import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../support/app.ts';
import { runCommand } from '../support/commands.ts';
import { testConfig } from '../support/context.ts';
import {
  type BundleProcess,
  createScratchDatabase,
  installBundles,
  runBundle,
  stopProcess,
} from '../support/processes.ts';
import { copyProject } from '../support/project-copy.ts';
import { freePort } from '../support/services.ts';
import { startRedis, type ThrowawayRedis } from '../support/throwaway-servers.ts';

// An app of one's own, started from the library alone: the project copied, the reference app deleted as the
// README says, one handler added.
const HANDLER = `import { defineHandler } from '#runtime/http/handler.ts';

export default defineHandler({ summary: 'Says hello', handle: () => ({ hello: 'world' }) });
`;
const REDIS_PASSWORD = 'rd-9f3k-own-app';

let copy: string;
let installed: string;
let redis: ThrowawayRedis;
let database: Awaited<ReturnType<typeof createScratchDatabase>>;
let env: Record<string, string>;
let base: string;
let build: { code: number | null; output: string };
const running: BundleProcess[] = [];

beforeAll(async () => {
  copy = await copyProject('own-app');
  for (const folder of ['handlers', 'tasks', 'sql']) await emptyFolder(path.join(copy, folder));
  // bench/ measures this repository's runtime with the test harness and fixture: it goes with test/.
  for (const folder of ['test', 'bench']) await rm(path.join(copy, folder), { recursive: true, force: true });
  for (const entry of await readdir(path.join(copy, 'shared'))) {
    if (entry !== 'runtime' && entry !== 'build')
      await rm(path.join(copy, 'shared', entry), { recursive: true });
  }
  await rm(path.join(copy, 'keys'), { recursive: true, force: true });
  await writeFile(path.join(copy, 'handlers/index.get.ts'), HANDLER);

  build = await node(copy, ['build.mjs']);
  if (build.code === 0) installed = await installBundles(path.join(copy, 'dist'), path.join(copy, 'sql'));

  [redis, database] = await Promise.all([startRedis({ password: REDIS_PASSWORD }), createScratchDatabase()]);
  const port = await freePort();
  const { postgres: pg } = testConfig();
  env = {
    APP_ENV: 'production',
    LOG_LEVEL: 'info',
    PG_HOST: pg.host,
    PG_PORT: String(pg.port),
    POSTGRES_USER: pg.user,
    // The test server trusts local connections, so any password gets in; production refuses placeholders.
    POSTGRES_PASSWORD: 'pg-7h2m-own-app',
    POSTGRES_DB: database.name,
    RD_HOST: redis.host,
    RD_PORT: String(redis.port),
    RD_PASSWORD: REDIS_PASSWORD,
    AP_HOST: '127.0.0.1',
    AP_PORT: String(port),
    SHUTDOWN_TIMEOUT_MS: '2000',
    WORKER_HEARTBEAT_FILE: path.join(copy, 'heartbeat.json'),
    WORKER_METRICS_PORT: String(await freePort()),
    HTTP_METRICS_PORT: String(await freePort()),
  };
  base = `http://127.0.0.1:${port}`;
}, 120_000);

afterAll(async () => {
  for (const process of running) await stopProcess(process);
  await database?.drop();
  await redis?.stop();
  await Promise.all([copy, installed].map((dir) => dir && rm(dir, { recursive: true, force: true })));
});

describe('an app started from the library alone', () => {
  it('builds with nothing but shared/runtime/, shared/build/ and one handler', () => {
    expect(build.output).toContain('GET     /');
    expect(build.code, build.output).toBe(0);
  });

  it('type-checks as it is, without the reference app', async () => {
    const tsc = await node(copy, [
      path.join(projectRoot, 'node_modules/typescript/bin/tsc'),
      '--noEmit',
      '-p',
      copy,
    ]);
    expect(tsc.output).toBe('');
    expect(tsc.code).toBe(0);
  });

  it('serves its route, /readyz and /openapi.json from dist/ and sql/ alone, in production, with no keys folder', async () => {
    const http = runBundle(installed, 'http.mjs', [], env);
    running.push(http);
    await http.waitForLog((line) => line.msg === 'listening', 30_000);

    const hello = await fetch(`${base}/`);
    expect(hello.status).toBe(200);
    expect(await hello.json()).toEqual({ hello: 'world' });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const openapi = (await (await fetch(`${base}/openapi.json`)).json()) as {
      info: { title: string };
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toEqual(['/']);
    expect(openapi.info.title).toBe('handler-kit');
    expect(http.output()).not.toMatch(/signing key|keys folder/i);
  });

  it('starts its worker, which reports healthy', async () => {
    const worker = runBundle(installed, 'worker.mjs', [], env);
    running.push(worker);
    await worker.waitForLog((line) => line.msg === 'worker started', 30_000);
    const started = worker.logs().find((line) => line.msg === 'worker started');
    expect(started?.tasks).toEqual(['runtime/purge']);
    let health = { code: null as number | null, output: '' };
    for (let tries = 0; tries < 50 && health.code !== 0; tries++) {
      health = await node(installed, ['dist/worker.mjs', 'health'], env);
      if (health.code !== 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(health.output).toContain('healthy');
    expect(health.code).toBe(0);
  });

  it("has the runtime's tables in its database", async () => {
    const sql = database.connect();
    const tables = await sql<{ name: string }[]>`
        select table_name as name from information_schema.tables
        where table_schema = current_schema() order by table_name`;
    expect(tables.map((table) => table.name)).toEqual([
      'idempotency_keys',
      'jobs',
      'outbox',
      'schema_migrations',
    ]);
  });
});

/** Removes what a folder holds, keeping the folder. */
async function emptyFolder(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) await rm(path.join(dir, entry), { recursive: true, force: true });
}

/** Runs node with `args` in `cwd` (with exactly `env` when given) and collects its output. */
function node(cwd: string, args: string[], env?: Record<string, string>) {
  return runCommand(process.execPath, args, { cwd, env });
}
