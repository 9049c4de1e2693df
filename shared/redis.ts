import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { withDeadline } from './db.ts';

/**
 * The app's Redis client. It reconnects forever with a capped backoff; a command issued while disconnected
 * fails after one reconnect attempt rather than waiting for Redis to return.
 */
export function createRedis(config: Config['redis'], log?: Logger): Redis {
  const redis = new Redis({
    host: config.host,
    port: config.port,
    password: config.password,
    db: config.db,
    keyPrefix: `${config.prefix}:`,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });
  // Reconnect attempts repeat the same error; log when the connection is lost and when it is back.
  let connected = true;
  redis.on('error', (error) => {
    if (connected) log?.warn({ err: error }, 'Redis connection lost; reconnecting');
    connected = false;
  });
  redis.on('ready', () => {
    if (!connected) log?.info('Redis connection back');
    connected = true;
  });
  return redis;
}

/** The settings bee-queue's own client (node_redis 3) is given: it does not accept an ioredis instance. */
export function beeQueueRedisSettings(config: Config['redis']) {
  return {
    host: config.host,
    port: config.port,
    password: config.password,
    db: config.db,
    retry_strategy: ({ attempt }: { attempt: number }) => Math.min(attempt * 200, 5_000),
  };
}

/** Resolves when Redis answers PING within the deadline. */
export async function pingRedis(redis: Redis, timeoutMs = 1_000): Promise<void> {
  await withDeadline(redis.ping(), timeoutMs, 'Redis did not answer');
}
