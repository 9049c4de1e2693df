import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import * as v from 'valibot';
import { createSql } from '#runtime/db.ts';
import { createApp } from '#runtime/http/app.ts';
import { swaggerUiAssetsDir } from '#runtime/http/docs.ts';
import type { AnyHandler } from '#runtime/http/handler.ts';
import { createEnqueue, createQueues, type NamedTask } from '#runtime/jobs/queue.ts';
import type { TaskDefinition } from '#runtime/jobs/task.ts';
import { migrate } from '#runtime/migrations.ts';
import { createRedis } from '#runtime/redis.ts';
import { discover } from '#shared/build/discovery.mjs';
import { openApiDocument } from '#shared/build/openapi.ts';
import { loadKeyring } from '#shared/keys.ts';
import { testConfig } from './context.ts';

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const fixtureRoot = path.join(projectRoot, 'test/fixtures/app');

/** Every JSON log line a test app wrote, parsed, so tests can assert on what was (and was not) logged. */
export function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, log: pino({ level: 'debug' }, stream) };
}

/** Loads an app root's handlers and tasks the way the bundles do, without building. */
export async function loadRoot(root: string) {
  const { routes, tasks } = await discover(root);
  return {
    routes: await Promise.all(
      routes.map(async (route) => ({
        ...route,
        definition: (await import(route.absolute)).default as AnyHandler,
      })),
    ),
    tasks: (await Promise.all(
      tasks.map(async (task) => ({ name: task.name, definition: (await import(task.absolute)).default })),
    )) as NamedTask[],
  };
}

/**
 * The app of an app root (the fixture by default), served through `app.request()` with no port, on the
 * test run's real Postgres and Redis. The root's migrations are applied first.
 */
export async function createTestApp(
  options: { root?: string; env?: Record<string, string>; migrate?: boolean; keysDir?: string } = {},
) {
  const root = options.root ?? fixtureRoot;
  const config = testConfig(options.env);
  const { routes, tasks } = await loadRoot(root);
  const sql = createSql(config.postgres);
  if (options.migrate !== false) await migrate(sql, path.join(root, 'sql'));
  const { lines, log } = captureLog();
  const redis = createRedis(config.redis, log);
  const keys = await loadKeyring({ dir: options.keysDir ?? path.join(root, 'keys'), production: false, log });
  const queues = createQueues(config, log);
  const enqueue = createEnqueue(queues, { timeoutMs: config.enqueueTimeoutMs, tasks });
  let shuttingDown = false;
  const app = createApp({
    routes,
    services: { sql, redis, log, enqueue, config, keys },
    bodyLimitBytes: config.http.bodyLimitBytes,
    openapi: openApiDocument({ title: 'fixture', version: '0.0.0', routes, tasks }),
    docsAssetsDir: swaggerUiAssetsDir(),
    isShuttingDown: () => shuttingDown,
  });
  return {
    app,
    config,
    sql,
    redis,
    keys,
    queues,
    tasks,
    logs: lines,
    enqueue,
    beginShutdown: () => {
      shuttingDown = true;
    },
    /** Sends one request; a plain object body is sent as JSON. */
    request(method: string, url: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
      const json = init.body !== undefined && typeof init.body !== 'string';
      return app.request(url, {
        method,
        headers: { ...(json ? { 'content-type': 'application/json' } : {}), ...init.headers },
        body: json ? JSON.stringify(init.body) : (init.body as string | undefined),
      });
    },
    /**
     * Runs one task's `run` directly, as the worker would (payload validated first), and returns its result
     * with the progress it reported.
     */
    async runTask<S extends v.GenericSchema>(task: TaskDefinition<S>, payload: v.InferInput<S>, attempt = 1) {
      const reported: number[] = [];
      const result = await task.run({
        payload: v.parse(task.payload, payload),
        jobId: `direct-${Date.now()}`,
        task: tasks.find((named) => named.definition === task)?.name ?? 'unknown',
        attempt,
        signal: AbortSignal.timeout(task.timeoutMs),
        sql,
        redis,
        log,
        config,
        enqueue,
        progress: async (percent) => {
          reported.push(percent);
        },
      });
      return { result, progress: reported };
    },
    async close() {
      await queues.close(1_000);
      await Promise.allSettled([sql.end({ timeout: 5 }), redis.quit()]);
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;
