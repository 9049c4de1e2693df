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
