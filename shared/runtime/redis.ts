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

/**
 * The settings bee-queue's own client (node_redis 3) is given: it does not accept an ioredis instance. It
 * reconnects with a capped backoff for as long as Redis is away. Without the offline queue, a command issued
 * while disconnected fails at once instead of being sent whenever Redis is back.
 */
export function beeQueueRedisSettings(config: Config['redis'], options: { offlineQueue?: boolean } = {}) {
  return {
    host: config.host,
    port: config.port,
    password: config.password,
    db: config.db,
    retry_strategy: ({ attempt }: { attempt: number }) => Math.min(attempt * 200, 5_000),
    // node_redis gives up for good once it has spent connect_timeout reconnecting (1 h by default), whatever
    // retry_strategy says; this is the longest a Node timer takes (about 24 days).
    connect_timeout: 2 ** 31 - 1,
    enable_offline_queue: options.offlineQueue ?? true,
  };
}

/** Resolves when Redis answers PING within the deadline. */
export async function pingRedis(redis: Redis, timeoutMs = 1_000): Promise<void> {
  await withDeadline(redis.ping(), timeoutMs, 'Redis did not answer');
}
