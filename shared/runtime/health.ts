import type { Redis } from 'ioredis';
import type { Sql } from 'postgres';
import { pingPostgres } from './db.ts';
import { pingRedis } from './redis.ts';

/** Each store's state: 'ok', or 'down (why)'. Both are asked at once, each within its own deadline. */
export async function storeStates(sql: Sql, redis: Redis): Promise<{ postgres: string; redis: string }> {
  const state = (promise: Promise<unknown>) =>
    promise.then(
      () => 'ok',
      (error: Error) => `down (${error.message})`,
    );
  const [postgres, redisState] = await Promise.all([state(pingPostgres(sql)), state(pingRedis(redis))]);
  return { postgres, redis: redisState };
}

/** The `health` command of both bundles: prints healthy or why not, and exits 0 or 1 (for a healthcheck). */
export function exitWithHealth(problem: string | undefined): never {
  process.stdout.write(problem ? `unhealthy: ${problem}\n` : 'healthy\n');
  process.exit(problem ? 1 : 0);
}
