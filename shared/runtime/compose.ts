import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import type { AppModule, ProcessKind, Services } from './app.ts';
import type { Config } from './config.ts';
import { createSql } from './db.ts';
import { createEnqueue, createQueues, type NamedTask, type Queues } from './jobs/queue.ts';
import { createLogger } from './log.ts';
import { createRedis } from './redis.ts';

/** One process's connections and the services its handlers or tasks are given. */
export type Runtime = {
  config: Config;
  log: Logger;
  sql: Sql;
  redis: Redis;
  queues: Queues;
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
  const queues = createQueues(config, log);
  const enqueue = createEnqueue(queues, { timeoutMs: config.enqueueTimeoutMs, tasks: options.tasks });
  const close = async (timeoutMs = 1_000) => {
    await queues.close(timeoutMs);
    await Promise.allSettled([sql.end({ timeout: 5 }), redis.quit()]);
  };
  try {
    const extra = await app.services?.({
      settings: config.settings,
      log,
      process: options.process,
      appEnv: config.env,
    });
    // The runtime's own services come last: an app service cannot shadow `sql` or `enqueue` by accident.
    const services = { ...(extra ?? {}), sql, redis, log, enqueue, settings: config.settings } as Services;
    return { config, log, sql, redis, queues, services, close };
  } catch (error) {
    await close();
    throw error;
  }
}
