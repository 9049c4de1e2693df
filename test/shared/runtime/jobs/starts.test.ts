import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clearJobStarts,
  countJobStart,
  JOB_STARTS_TTL_MS,
  startsKey,
  uncountJobStart,
} from '#runtime/jobs/starts.ts';
import { createRedis } from '#runtime/redis.ts';
import { testConfig } from '../../../support/context.ts';

let redis: Redis;
beforeAll(() => {
  redis = createRedis(testConfig({ RD_PREFIX: `ja${randomUUID().slice(0, 8)}` }).redis);
});
afterAll(() => redis.quit());

describe('the count of a job’s starts', () => {
  it('counts each start under the task and job id, and expires when the job stops starting', async () => {
    expect(await countJobStart(redis, 'mail', '7')).toBe(1);
    expect(await countJobStart(redis, 'mail', '7')).toBe(2);
    expect(await countJobStart(redis, 'other', '7')).toBe(1);
    const ttl = await redis.pttl(startsKey('mail', '7'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(JOB_STARTS_TTL_MS);
  });

  it('gives a start back, and forgets them all', async () => {
    await countJobStart(redis, 'mail', '8');
    await countJobStart(redis, 'mail', '8');
    await uncountJobStart(redis, 'mail', '8');
    expect(await redis.get(startsKey('mail', '8'))).toBe('1');
    await clearJobStarts(redis, 'mail', '8');
    expect(await redis.exists(startsKey('mail', '8'))).toBe(0);
    expect(await countJobStart(redis, 'mail', '8')).toBe(1);
  });
});
