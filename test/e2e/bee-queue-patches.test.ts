import path from 'node:path';
import { Redis } from 'ioredis';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql } from '#runtime/db.ts';
import { fixtureRoot } from '../support/app.ts';
import { testConfig } from '../support/context.ts';
import {
  type BuiltApp,
  type BundleProcess,
  installBuiltAppWithDatabase,
  runBundle,
  stopProcess,
} from '../support/processes.ts';
import { startRedis, type ThrowawayRedis } from '../support/throwaway-servers.ts';

// The fixture's `tick` task is enqueued by the worker every second (a Lua script) and its stalled-job checks
// run every half second (another): both stop for good after a SCRIPT FLUSH unless the bundle reloads them.
let server: ThrowawayRedis;
let redis: Redis;
let app: BuiltApp;
let sql: Sql;
let worker: BundleProcess | undefined;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis({ host: server.host, port: server.port });
  app = await installBuiltAppWithDatabase(fixtureRoot, 'e2n');
  sql = createSql(testConfig({ POSTGRES_DB: app.database }).postgres);
  // Its own Redis, which the tests flush and restart, rather than the run's.
  const env = {
    ...app.env,
    RD_HOST: server.host,
    RD_PORT: String(server.port),
    RD_PASSWORD: '',
    WORKER_STALL_INTERVAL_MS: '500',
    WORKER_HEARTBEAT_FILE: path.join(app.dir, 'heartbeat.json'),
  };
  expect((await runBundle(app.dir, 'http.mjs', ['migrate'], env).exited).code).toBe(0);
  worker = runBundle(app.dir, 'worker.mjs', [], env);
  await worker.waitForLog((line) => line.msg === 'worker started');
}, 120_000);

afterAll(async () => {
  await stopProcess(worker);
  redis?.disconnect();
  await sql?.end({ timeout: 5 });
  await server?.stop();
  await app?.cleanup();
});

/** Resolves once two ticks later than `since` have run. */
async function ticksAfter(since: string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const [row] = await sql<
      { n: number }[]
    >`select count(*)::int as n from fixture_ticks where tick > ${since}`;
    if ((row?.n ?? 0) >= 2) return;
    if (Date.now() > deadline)
      throw new Error(`no ticks after ${since}; worker output:\n${worker?.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the worker bundle when Redis loses its Lua scripts', () => {
  it('reloads them after SCRIPT FLUSH and keeps enqueueing and running scheduled jobs', async () => {
    await ticksAfter(new Date(0).toISOString());
    await redis.script('FLUSH');
    await ticksAfter(new Date().toISOString());
    expect(worker?.output()).not.toContain('NOSCRIPT');
  });

  it('keeps running scheduled jobs after Redis restarts empty', async () => {
    await server.restart();
    await ticksAfter(new Date().toISOString());
    expect(worker?.output()).not.toContain('NOSCRIPT');
  });
});
