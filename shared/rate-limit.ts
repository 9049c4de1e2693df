import type { Redis } from 'ioredis';

/**
 * Counts one attempt against `key` in a fixed window. Returns how long to wait when the limit is passed.
 * The count and its expiry are set in one transaction so that a key can never be left without an expiry.
 */
export async function takeAttempt(
  redis: Redis,
  key: string,
  limit: number,
  windowSeconds: number,
): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
  const results = await redis.multi().incr(key).expire(key, windowSeconds, 'NX').ttl(key).exec();
  const count = Number(results?.[0]?.[1] ?? 0);
  const ttl = Number(results?.[2]?.[1] ?? windowSeconds);
  if (count <= limit) return { allowed: true };
  return { allowed: false, retryAfterSeconds: Math.max(1, ttl) };
}
