import path from 'node:path';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql } from '#runtime/db.ts';
import { createRedis } from '#runtime/redis.ts';
import { projectRoot } from '../support/app.ts';
import { testConfig } from '../support/context.ts';
import {
  type BuiltApp,
  type BundleProcess,
  installBuiltAppWithDatabase,
  runBundle,
  stopProcess,
} from '../support/processes.ts';

const TASK = 'purge-expired-refresh-tokens';

let app: BuiltApp;
let env: Record<string, string>;
let sql: Sql;
const workers: BundleProcess[] = [];

beforeAll(async () => {
  app = await installBuiltAppWithDatabase(projectRoot, 'e2epurge');
  env = {
    ...app.env,
    SHUTDOWN_TIMEOUT_MS: '5000',
    // Every second instead of hourly, without a rebuild.
    TASK_SCHEDULES: `${TASK}=* * * * * *`,
  };
  sql = createSql(testConfig({ POSTGRES_DB: app.database }).postgres);
  const migrate = runBundle(app.dir, 'http.mjs', ['migrate'], env);
  const exited = await migrate.exited;
  if (exited.code !== 0) throw new Error(`migrate failed:\n${migrate.output()}`);
}, 120_000);

afterAll(async () => {
  for (const worker of workers) await stopProcess(worker);
  await sql?.end({ timeout: 5 });
  await app?.cleanup();
});

const enqueuedTicks = (worker: BundleProcess) =>
  worker.logs().filter((line) => line.msg === 'scheduled job enqueued' && line.task === TASK);
const succeededRuns = (worker: BundleProcess) =>
  worker.logs().filter((line) => line.msg === 'job' && line.task === TASK && line.outcome === 'succeeded');

describe('purge-expired-refresh-tokens on two worker processes', () => {
  it('runs each tick once however many workers run', async () => {
    const [user] = await sql<{ id: string }[]>`
      insert into users (email, password_hash) values ('purge@example.test', 'x') returning id`;
    await sql`
      insert into refresh_tokens (family_id, user_id, token_hash, expires_at)
      values (gen_random_uuid(), ${user?.id as string}, ${Buffer.from([0])}, now() - interval '2 days')`;

    for (const name of ['a', 'b']) {
      workers.push(
        runBundle(app.dir, 'worker.mjs', [], {
          ...env,
          WORKER_HEARTBEAT_FILE: path.join(app.dir, `heartbeat-${name}`),
        }),
      );
    }
    await Promise.all(workers.map((worker) => worker.waitForLog((line) => line.msg === 'worker started')));

    const deadline = Date.now() + 10_000;
    while (workers.flatMap(enqueuedTicks).length < 4 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const worker of workers) worker.child.kill('SIGTERM');
    for (const worker of workers) expect(await worker.exited).toEqual({ code: 0, signal: null });

    const enqueued = workers.flatMap(enqueuedTicks);
    const ticks = enqueued.map((line) => line.tick as string);
    expect(ticks.length).toBeGreaterThanOrEqual(4);
    expect(new Set(ticks).size).toBe(ticks.length);
    for (const line of enqueued) expect(line.jobId).toBe(`${TASK}@${line.tick}`);

    const ran = workers.flatMap(succeededRuns).map((line) => line.jobId as string);
    expect(new Set(ran).size).toBe(ran.length);
    expect(ran.every((jobId) => enqueued.some((line) => line.jobId === jobId))).toBe(true);
    const others = workers
      .flatMap((w) => w.logs())
      .filter((l) => l.msg === 'job' && l.outcome !== 'succeeded');
    expect(others).toEqual([]);

    // SIGTERM stops the schedule, then lets running jobs finish; a tick enqueued in that last instant waits in
    // Redis for the next start instead of running. Every tick either ran exactly once or is waiting there.
    const redis = createRedis(testConfig({ RD_PREFIX: env.RD_PREFIX as string }).redis);
    try {
      const waiting = await redis.lrange(`q:${TASK}:waiting`, 0, -1);
      const unrun = enqueued.map((line) => line.jobId as string).filter((jobId) => !ran.includes(jobId));
      expect(waiting.filter((jobId) => unrun.includes(jobId)).sort()).toEqual(unrun.sort());
      expect(unrun.length).toBeLessThanOrEqual(1);
    } finally {
      await redis.quit();
    }
    expect(ran.length).toBeGreaterThanOrEqual(3);
    expect(await sql`select id from refresh_tokens`).toEqual([]);
  }, 30_000);
});
