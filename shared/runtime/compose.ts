import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import type { AppModule, ProcessKind, Services } from './app.ts';
import type { Config } from './config.ts';
import { createSql } from './db.ts';
import type { NamedTask, Queues } from './jobs/queue.ts';
import type { Enqueue } from './jobs/task.ts';
import { createLogger } from './log.ts';
import { createRedis } from './redis.ts';

/** One process's connections and the services its handlers or tasks are given. */
export type Runtime = {
  config: Config;
  log: Logger;
  sql: Sql;
  redis: Redis;
  /**
   * The process's bee-queue queues. A process composed with task definitions (the worker, the tests) has them
   * from the start; one composed without (the HTTP bundle, whose handlers enqueue through task references) has
   * them from its first enqueue, and reading them before that throws.
   */
  readonly queues: Queues;
  services: Services;
  /** Closes the queues (waiting up to `timeoutMs` for running jobs), the pool and the Redis client. */
  close(timeoutMs?: number): Promise<void>;
};

/**
 * The composition root: the HTTP and worker mains and the test helpers all build a process with this, so that
 * a test of one handler or task runs the wiring production runs. `tasks` names the task definitions this
 * process may enqueue directly (the worker's); the HTTP bundle enqueues through task references instead.
 */
export async function composeRuntime(options: {
  app: AppModule;
  config: Config;
  process: ProcessKind;
  log?: Logger;
  tasks?: NamedTask[];
}): Promise<Runtime> {
  const { app, config } = options;
  const log = options.log ?? createLogger(config.logLevel, { process: options.process });
  const sql = createSql(config.postgres);
  const redis = createRedis(config.redis, log);
  const jobs = queuesOnDemand(config, log, options.tasks);
  const close = async (timeoutMs = 1_000) => {
    await jobs.close(timeoutMs);
    await Promise.allSettled([sql.end({ timeout: 5 }), redis.quit()]);
  };
  try {
    if (options.tasks) await jobs.load();
    const extra = await app.services?.({
      settings: config.settings,
      log,
      process: options.process,
      appEnv: config.env,
    });
    // The runtime's own services come last: an app service cannot shadow `sql` or `enqueue` by accident.
    const services = {
      ...(extra ?? {}),
      sql,
      redis,
      log,
      enqueue: jobs.enqueue,
      settings: config.settings,
    } as Services;
    return {
      config,
      log,
      sql,
      redis,
      get queues() {
        return jobs.queues();
      },
      services,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The queues and `enqueue`, with bee-queue loaded when first asked for. Running bee-queue's modules (and
 * node_redis 3's) took an HTTP process about 12 ms of its start and 14 MiB of its idle memory, for work it
 * does only when a handler enqueues; the first enqueue pays for the load once, before its save's deadline
 * starts. The bundle still carries it: esbuild inlines a dynamic import of a bundled module.
 */
function queuesOnDemand(config: Config, log: Logger, tasks: NamedTask[] | undefined) {
  type Loaded = { queues: Queues; enqueue: Enqueue };
  let loaded: Loaded | undefined;
  let loading: Promise<Loaded> | undefined;
  const load = () => {
    loading ??= import('./jobs/queue.ts').then(({ createQueues, createEnqueue }) => {
      const queues = createQueues(config, log);
      loaded = { queues, enqueue: createEnqueue(queues, { timeoutMs: config.enqueueTimeoutMs, tasks }) };
      return loaded;
    });
    return loading;
  };
  // Once loaded, a plain call: no promise is added to an enqueue.
  const enqueue: Enqueue = (task, payload, options) =>
    loaded
      ? loaded.enqueue(task, payload, options)
      : load().then((jobs) => jobs.enqueue(task, payload, options));
  return {
    load,
    enqueue,
    queues(): Queues {
      if (!loaded) {
        throw new Error(
          'the queues of a runtime composed without tasks are made on its first enqueue; compose it with tasks',
        );
      }
      return loaded.queues;
    },
    async close(timeoutMs: number) {
      const jobs = await loading?.catch(() => undefined);
      await jobs?.queues.close(timeoutMs);
    },
  };
}
