import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type * as v from 'valibot';
import type { AppModule } from '#runtime/app.ts';
import { composeRuntime } from '#runtime/compose.ts';
import { createApp } from '#runtime/http/app.ts';
import type { AnyHandler } from '#runtime/http/handler.ts';
import { createHttpMetrics } from '#runtime/http/metrics.ts';
import { RUNTIME_TASKS } from '#runtime/jobs/purge.ts';
import type { NamedTask } from '#runtime/jobs/queue.ts';
import { runOnce } from '#runtime/jobs/run-once.ts';
import type { TaskDefinition } from '#runtime/jobs/task.ts';
import { startWorker, type WorkerOptions } from '#runtime/jobs/worker.ts';
import { migrate } from '#runtime/migrations.ts';
import { discover } from '#shared/build/discovery.mjs';
import { openApiDocument } from '#shared/build/openapi.ts';
import { swaggerUiDir } from '../../build.mjs';
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

/** Loads an app root's app module, handlers and tasks the way the bundles do, without building. */
export async function loadRoot(root: string) {
  const { routes, tasks, appModule } = await discover(root);
  return {
    app: (appModule ? (await import(appModule)).default : {}) as AppModule,
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
 * The runtime of an app root (the fixture by default) on the test run's real Postgres and Redis, composed as
 * the mains compose theirs; its log lines are captured.
 */
export async function createTestRuntime(
  options: { root?: string; env?: Record<string, string>; process?: 'http' | 'worker' } = {},
) {
  const loaded = await loadRoot(options.root ?? fixtureRoot);
  const config = testConfig(options.env, loaded.app.settings);
  const { lines, log } = captureLog();
  const runtime = await composeRuntime({
    app: loaded.app,
    config,
    process: options.process ?? 'http',
    log,
    tasks: loaded.tasks,
  });
  return { ...loaded, runtime, logs: lines };
}

/**
 * The app of an app root (the fixture by default), served through `app.request()` with no port, on the
 * test run's real Postgres and Redis, built by the same composition as the HTTP main. The root's migrations
 * are applied first.
 */
export async function createTestApp(
  options: { root?: string; env?: Record<string, string>; migrate?: boolean } = {},
) {
  const root = options.root ?? fixtureRoot;
  const { runtime, routes, tasks, logs } = await createTestRuntime({ root, env: options.env });
  const { config, sql, redis, queues, services } = runtime;
  if (options.migrate !== false) await migrate(sql, path.join(root, 'sql'));
  let shuttingDown = false;
  const metrics = createHttpMetrics();
  const app = createApp({
    routes,
    runtime,
    metrics,
    openapi: openApiDocument({ title: 'fixture', version: '0.0.0', routes, tasks }),
    docsAssetsDir: swaggerUiDir(),
    isShuttingDown: () => shuttingDown,
  });
  return {
    app,
    runtime,
    metrics,
    config,
    settings: config.settings,
    sql,
    redis,
    queues,
    tasks,
    services,
    logs,
    enqueue: services.enqueue,
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
     * Runs one job of a task through the worker's runner (payload validated, context built, timeout armed),
     * without a queue taking it, and returns its result with the progress it reported.
     */
    async runTask<S extends v.GenericSchema>(task: TaskDefinition<S>, payload: v.InferInput<S>, attempt = 1) {
      const named = [...tasks, ...RUNTIME_TASKS].find((candidate) => candidate.definition === task);
      if (!named) throw new Error('runTask takes a task of this app root (import it from its tasks/ folder)');
      return runOnce(runtime, named, payload, { attempt, jobId: `direct-${randomUUID()}` });
    },
    close: () => runtime.close(),
  };
}

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/**
 * A worker running `tasks` (given by name, from the root's tasks/, or as definitions), composed as the worker
 * main composes one, with its log captured. `close` stops the worker, then its connections.
 */
export async function startTestWorker(
  tasks: string[] | NamedTask[],
  options: { root?: string; env?: Record<string, string>; metrics?: WorkerOptions['metrics'] } = {},
) {
  const loaded = await loadRoot(options.root ?? fixtureRoot);
  const chosen = tasks.map((task) => (typeof task === 'string' ? namedTask(loaded.tasks, task) : task));
  const config = testConfig(options.env, loaded.app.settings);
  const { lines, log } = captureLog();
  const runtime = await composeRuntime({ app: loaded.app, config, process: 'worker', log, tasks: chosen });
  const worker = startWorker({ tasks: chosen, runtime, metrics: options.metrics });
  return {
    ...worker,
    runtime,
    logs: lines,
    async close(timeoutMs: number) {
      await worker.close(timeoutMs);
      await runtime.close();
    },
  };
}

export type TestWorker = Awaited<ReturnType<typeof startTestWorker>>;

function namedTask(tasks: NamedTask[], name: string): NamedTask {
  const task = tasks.find((candidate) => candidate.name === name);
  if (!task) throw new Error(`no task ${name} in this app root; the tasks are ${tasks.map((t) => t.name)}`);
  return task;
}
