import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '#runtime/errors.ts';
import { createRedis } from '#runtime/redis.ts';
import { enforceLimits, takeAttempt } from '#shared/rate-limit.ts';
import { captureLog } from '../support/app.ts';
import { testConfig } from '../support/context.ts';
import { freePort } from '../support/services.ts';

let redis: Redis;
beforeAll(() => {
  redis = createRedis(testConfig().redis);
});
afterAll(() => redis.quit());

const key = () => `rate-limit-test:${randomUUID()}`;

describe('takeAttempt', () => {
  it('allows `limit` attempts in a window and refuses the next with the time left', async () => {
    const k = key();
    for (let i = 0; i < 3; i++) expect(await takeAttempt(redis, k, 3, 60)).toEqual({ allowed: true });
    const refused = await takeAttempt(redis, k, 3, 60);
    expect(refused.allowed).toBe(false);
    if (refused.allowed) return;
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('counts each key on its own', async () => {
    const a = key();
    const b = key();
    await takeAttempt(redis, a, 1, 60);
    expect((await takeAttempt(redis, a, 1, 60)).allowed).toBe(false);
    expect((await takeAttempt(redis, b, 1, 60)).allowed).toBe(true);
  });

  it('never leaves a counter without an expiry, and the first attempt fixes the window', async () => {
    const k = key();
    await takeAttempt(redis, k, 5, 60);
    expect(await redis.ttl(k)).toBeGreaterThan(0);
    await redis.expire(k, 30);
    await takeAttempt(redis, k, 5, 60);
    expect(await redis.ttl(k)).toBeLessThanOrEqual(30);

    const stray = key();
    await redis.set(stray, '9');
    expect((await takeAttempt(redis, stray, 5, 60)).allowed).toBe(false);
    expect(await redis.ttl(stray)).toBeGreaterThan(0);
  });

  it('allows attempts again once the window has passed', async () => {
    const k = key();
    await takeAttempt(redis, k, 1, 1);
    expect((await takeAttempt(redis, k, 1, 1)).allowed).toBe(false);
    const deadline = Date.now() + 5_000;
    let outcome = await takeAttempt(redis, k, 1, 1);
    while (!outcome.allowed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      outcome = await takeAttempt(redis, k, 1, 1);
    }
    expect(outcome.allowed).toBe(true);
  });
});

describe('enforceLimits', () => {
  const log = captureLog().log;

  it('counts every limit in one go and answers 429 with the longest wait once any is passed', async () => {
    const [short, long] = [key(), key()];
    const limits = [
      { key: short, limit: 5, windowSeconds: 60 },
      { key: long, limit: 2, windowSeconds: 3_600 },
    ];
    await enforceLimits(redis, limits, { ifRedisIsDown: 'refuse', log });
    await enforceLimits(redis, limits, { ifRedisIsDown: 'refuse', log });
    const refused = await enforceLimits(redis, limits, { ifRedisIsDown: 'refuse', log }).catch((e) => e);
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ status: 429, code: 'too_many_requests' });
    expect(Number((refused as HttpError).headers['retry-after'])).toBeGreaterThan(60);
    expect(await redis.get(short)).toBe('3');
  });

  it('when Redis does not answer, refuses with 503 or lets the attempt through, as asked', async () => {
    const down = createRedis(testConfig({ RD_PORT: String(await freePort()) }).redis);
    down.on('error', () => {});
    try {
      const limits = [{ key: key(), limit: 1, windowSeconds: 60 }];
      const { log: warnings, lines } = captureLog();
      await expect(enforceLimits(down, limits, { ifRedisIsDown: 'refuse', log })).rejects.toMatchObject({
        status: 503,
      });
      await expect(
        enforceLimits(down, limits, { ifRedisIsDown: 'allow', log: warnings }),
      ).resolves.toBeUndefined();
      expect(lines.map((line) => line.msg)).toEqual(['rate limits not checked: Redis is unavailable']);
    } finally {
      down.disconnect();
    }
  });
});
