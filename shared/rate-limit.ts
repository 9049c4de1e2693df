import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { withDeadline } from '#runtime/db.ts';
import { HttpError } from '#runtime/errors.ts';

/** At most `limit` attempts per `windowSeconds` for one key (an address, an email and address, a user). */
export type Limit = { key: string; limit: number; windowSeconds: number };

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
  const [outcome] = await takeAttempts(redis, [{ key, limit, windowSeconds }]);
  return outcome as Awaited<ReturnType<typeof takeAttempt>>;
}

// Redis answers in a millisecond; one that does not within this is treated as down.
const REDIS_DEADLINE_MS = 500;

/**
 * Counts one attempt against every limit, in one round trip, and answers 429 with the longest wait when any of
 * them is passed. Call it before any costly work (a password hash), so that attempts past a limit cost little.
 * When Redis does not answer, `ifRedisIsDown` decides: `refuse` answers 503 (where the limit is the defence,
 * as against password guessing), `allow` goes on with a warning (where staying up matters more).
 */
export async function enforceLimits(
  redis: Redis,
  limits: Limit[],
  options: { ifRedisIsDown: 'allow' | 'refuse'; log: Logger },
): Promise<void> {
  let outcomes: Awaited<ReturnType<typeof takeAttempts>>;
  try {
    outcomes = await withDeadline(takeAttempts(redis, limits), REDIS_DEADLINE_MS, 'Redis did not answer');
  } catch (error) {
    if (options.ifRedisIsDown === 'refuse') {
      throw HttpError.unavailable('Attempts cannot be counted right now (Redis is down). Retry shortly.', 2);
    }
    options.log.warn({ err: error }, 'rate limits not checked: Redis is unavailable');
    return;
  }
  const refused = outcomes.filter((outcome) => !outcome.allowed);
  if (refused.length === 0) return;
  throw HttpError.tooManyRequests(Math.max(...refused.map((outcome) => outcome.retryAfterSeconds ?? 1)));
}

async function takeAttempts(redis: Redis, limits: Limit[]) {
  const transaction = redis.multi();
  for (const { key, windowSeconds } of limits)
    transaction.incr(key).expire(key, windowSeconds, 'NX').ttl(key);
  const results = (await transaction.exec()) ?? [];
  return limits.map(({ limit, windowSeconds }, index) => {
    const count = Number(results[index * 3]?.[1] ?? 0);
    const ttl = Number(results[index * 3 + 2]?.[1] ?? windowSeconds);
    return count <= limit
      ? { allowed: true as const }
      : { allowed: false as const, retryAfterSeconds: Math.max(1, ttl) };
  });
}
