import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '#runtime/redis.ts';
import { takeAttempt } from '#shared/rate-limit.ts';
import { testConfig } from '../support/context.ts';

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
